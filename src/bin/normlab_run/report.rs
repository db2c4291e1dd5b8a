//! What the runner prints: JSON lines on standard output, each with the same `backend`
//! (cpu or gpu) and `device` fields and its numbers at their real precision, and a
//! progress bar per run on standard error.

use std::io::{IsTerminal, Write};

use indicatif::{HumanFloatCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};
use serde::Serialize;
use serde_json::Value;

use normlab::chart::RunSeries;
use normlab::experiment::{Event, Observer};

/// `value` as JSON with each f32 at the shortest decimal that reads back as that f32.
/// serde_json writes an f32 so when it serializes text, but `to_value` widens it to f64
/// first (0.001 becomes 0.0010000000474974513); read back from the text, the f64 is the
/// nearest to the short decimal, which prints the same.
pub fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_string(value).and_then(|text| serde_json::from_str(&text)).unwrap_or(Value::Null)
}

/// Which backend trains, as every line names it.
#[derive(Clone, Debug)]
pub struct BackendLabel {
    /// `cpu` or `gpu`, as `--backend` takes it.
    pub backend: &'static str,
    /// What it runs on, in words (the GPU adapter, the CPU backend's threads).
    pub device: String,
}

impl BackendLabel {
    /// `line` (an object) with the backend's fields, then printed on standard output.
    pub fn print(&self, mut line: Value) {
        if let Some(fields) = line.as_object_mut() {
            fields.insert("backend".into(), self.backend.into());
            fields.insert("device".into(), self.device.clone().into());
        }
        println!("{line}");
    }
}

/// Whether to draw progress bars: on a terminal, or anywhere when `--progress` asks.
#[derive(Clone, Copy, Debug)]
pub enum ProgressWhere {
    /// Standard error if it is a terminal, else nowhere.
    TerminalOnly,
    /// Standard error even when it is a file or a pipe, a line per redraw.
    Always,
}

/// A line per redraw on standard error, for a log that is not a terminal: moving the
/// cursor back over the last bar would only leave escape codes in the file, and at one
/// redraw a second the lines stay few.
#[derive(Debug)]
struct PlainLines;

impl TermLike for PlainLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    /// A line without the padding that would overwrite a longer one on a terminal; the
    /// blank lines that would clear the bar's old lines are left out.
    fn write_line(&self, line: &str) -> std::io::Result<()> {
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(());
        }
        writeln!(std::io::stderr(), "{line}")
    }
    /// The bar's last line, which a terminal would keep the cursor on, ends a line here too.
    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.write_line(text)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A bar of `total_steps` training steps with their rate and the time left.
pub fn progress_bar(total_steps: u64, title: String, place: ProgressWhere) -> ProgressBar {
    let target = match place {
        ProgressWhere::Always if !std::io::stderr().is_terminal() => {
            ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines), 1)
        }
        _ => ProgressDrawTarget::stderr(),
    };
    let style = ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} steps · {steps_per_sec} · {eta} left · {elapsed_precise} · {msg}",
    )
    .map(|style| {
        style
            .with_key("steps_per_sec", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{} steps/s", HumanFloatCount(state.per_sec()));
            })
            .progress_chars("=> ")
    })
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::with_draw_target(Some(total_steps), target).with_style(style).with_prefix(title);
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}

/// Prints a run's epochs, probes and divergence as JSON lines, moves its progress bar at
/// every batch, and keeps its series (losses and epochs) as the page would.
pub struct RunReport {
    pub label: BackendLabel,
    pub bar: ProgressBar,
    /// Every batch loss, NaN included (the series keeps only the finite ones).
    pub losses: Vec<f32>,
    pub series: RunSeries,
    /// Every probe report, for the course's results.
    pub probes: Vec<normlab::experiment::ProbeReport>,
}

impl RunReport {
    /// A line on standard output without tearing the bar on standard error.
    fn print(&self, line: Value) {
        self.bar.suspend(|| self.label.print(line));
    }
}

impl Observer for RunReport {
    fn on_event(&mut self, event: &Event) {
        self.series.absorb(event);
        match event {
            Event::Epoch(summary) => self.print(json(summary)),
            Event::Diverged { epoch, batch, .. } => {
                self.print(json(event));
                self.bar.abandon_with_message(format!("diverged at epoch {epoch}, batch {batch}"));
            }
            Event::Probe(report) => {
                self.probes.push(report.clone());
                // Histograms are for the page; the runner prints the numbers.
                let mut line = json(report);
                if let Some(layers) = line.get_mut("activations").and_then(Value::as_array_mut) {
                    for layer in layers.iter_mut().filter_map(Value::as_object_mut) {
                        layer.remove("histogram");
                    }
                }
                self.print(serde_json::json!({ "probe": line }));
            }
            Event::Losses { epoch, losses, .. } => {
                self.losses.extend_from_slice(losses);
                self.bar.inc(losses.len() as u64);
                if let Some(loss) = losses.last() {
                    self.bar.set_message(format!("epoch {epoch} · loss {loss:.3}"));
                }
            }
            Event::Evaluating { epoch } => self.bar.set_message(format!("epoch {epoch} · evaluating")),
            Event::GradientsAtInit(measured) => self.print(serde_json::json!({ "gradients_at_init": json(measured) })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_f32_prints_as_its_short_decimal() {
        let config = normlab::experiment::ExperimentConfig::default();
        assert_eq!(json(&config)["learning_rate"].to_string(), "0.001");
        assert_eq!(json(&0.1f32).to_string(), "0.1");
        // The widening this avoids, to show what the test guards against.
        assert_ne!(serde_json::to_value(0.001f32).map(|v| v.to_string()).ok(), Some("0.001".into()));
    }
}
