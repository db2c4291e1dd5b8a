//! The training chart: loss of every batch (thin), its per-epoch mean (thick, dots) and
//! test accuracy per epoch (dashed, right axis) for several runs, with a legend, a
//! logarithmic loss axis on request, and failed runs marked where they failed.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{colour, RunSeries};

/// The words on a training chart, in the page's language.
pub struct TrainingChartText<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub loss_label: &'a str,
    pub accuracy_label: &'a str,
    /// The marker of a run whose loss became NaN or infinite.
    pub diverged: &'a str,
}

/// Draws the runs. With `log_loss` the loss axis is logarithmic (useful when a run's loss
/// spans decades); otherwise it is linear and capped so that one exploding run does not
/// flatten the others.
pub fn draw_training_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    text: &TrainingChartText,
    log_loss: bool,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let max_x = runs
        .iter()
        .flat_map(|r| {
            r.batch_losses.iter().map(|p| p.0).chain(r.diverged_at).chain(r.epochs.iter().map(|e| e.epoch as f64))
        })
        .fold(1.0f64, f64::max);
    let losses = || runs.iter().flat_map(|r| r.batch_losses.iter().map(|p| p.1 as f64)).filter(|l| *l > 0.0);
    let finite_max = losses().fold(0.0f64, f64::max);
    let finite_min = losses().fold(f64::INFINITY, f64::min);
    // Linear: cap at 4 (≈ 1.7× the loss of guessing among 10 classes). Log: whole decades.
    let (y_low, y_high) = if log_loss {
        let low = if finite_min.is_finite() { finite_min.log10().floor() } else { -2.0 };
        let high = if finite_max > 0.0 { finite_max.log10().ceil() } else { 1.0 };
        (low, high.max(low + 1.0))
    } else {
        (0.0, (finite_max * 1.05).clamp(0.5, 4.0))
    };
    let to_y = |loss: f32| -> f64 {
        if log_loss {
            (loss.max(1e-12) as f64).log10().clamp(y_low, y_high)
        } else {
            (loss as f64).min(y_high)
        }
    };

    let mut chart = ChartBuilder::on(root)
        .caption(text.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .right_y_label_area_size(55)
        .build_cartesian_2d(0f64..max_x, y_low..y_high)
        .map_err(err)?
        .set_secondary_coord(0f64..max_x, 0f64..100f64);
    let y_format = |v: &f64| if log_loss { super::lines::power_of_ten(*v) } else { format!("{v:.1}") };
    chart
        .configure_mesh()
        .x_desc(text.x_label)
        .y_desc(text.loss_label)
        .y_label_formatter(&y_format)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    chart.configure_secondary_axes().y_desc(text.accuracy_label).draw().map_err(err)?;

    for run in runs {
        let c = colour(run.colour);
        chart
            .draw_series(LineSeries::new(run.batch_losses.iter().map(|&(x, y)| (x, to_y(y))), c.mix(0.35)))
            .map_err(err)?
            .label(run.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        let epoch_means: Vec<(f64, f64)> = run
            .epochs
            .iter()
            .filter(|e| e.train_loss.is_finite())
            .map(|e| (e.epoch as f64, to_y(e.train_loss)))
            .collect();
        chart.draw_series(LineSeries::new(epoch_means.iter().copied(), c.stroke_width(3))).map_err(err)?;
        chart.draw_series(epoch_means.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(err)?;
        let accuracy: Vec<(f64, f64)> =
            run.epochs.iter().map(|e| (e.epoch as f64, e.test_accuracy as f64 * 100.0)).collect();
        chart
            .draw_secondary_series(DashedLineSeries::new(accuracy.iter().copied(), 6, 4, c.stroke_width(2)))
            .map_err(err)?;
        chart.draw_secondary_series(accuracy.iter().map(|&p| TriangleMarker::new(p, 5, c.filled()))).map_err(err)?;
        // A diverged run: a cross where the loss stopped being a number, on its curve's
        // last finite value, and the word.
        if let Some(x) = run.diverged_at {
            let y = run.batch_losses.last().map_or(y_high, |&(_, l)| to_y(l));
            chart.draw_series(std::iter::once(Cross::new((x, y), 9, RED.stroke_width(3)))).map_err(err)?;
            let style = ("sans-serif", 14).into_font().color(&RED).pos(Pos::new(HPos::Right, VPos::Bottom));
            let label = Text::new(text.diverged.to_string(), (x, y), style);
            chart.draw_series(std::iter::once(label)).map_err(err)?;
        }
        if let (Some(note), Some(&(x, y))) = (&run.note, run.batch_losses.last()) {
            // Anchored at its right end, so that a note at the last epoch stays inside.
            let style = ("sans-serif", 14).into_font().color(&c).pos(Pos::new(HPos::Right, VPos::Bottom));
            let label = Text::new(note.clone(), (x, to_y(y)), style);
            chart.draw_series(std::iter::once(label)).map_err(err)?;
        }
    }
    if !runs.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{EpochSummary, Event};

    const TEXT: TrainingChartText = TrainingChartText {
        title: "Fashion-MNIST",
        x_label: "epoch",
        loss_label: "training loss (cross-entropy, nats)",
        accuracy_label: "test accuracy (%)",
        diverged: "diverged",
    };

    fn series() -> RunSeries {
        let mut run = RunSeries::new("BN · adam");
        run.absorb(&Event::Losses {
            epoch: 1,
            first_step: 0,
            losses: vec![2.3, 1.5, 1.0, 0.8],
            grad_norms: vec![(1.0, 1.0); 4],
            steps_per_epoch: 4,
        });
        run.absorb(&Event::Epoch(EpochSummary {
            epoch: 1,
            train_loss: 1.4,
            train_accuracy: 0.6,
            test_loss: 0.7,
            test_accuracy: 0.75,
            grad_norm: 1.0,
            grad_norm_clipped: 1.0,
            elapsed_secs: 1.0,
            train_eval_accuracy: None,
        }));
        run
    }

    #[test]
    fn absorbs_events_in_epoch_units() {
        let run = series();
        assert_eq!(run.batch_losses.first(), Some(&(0.25, 2.3)));
        assert_eq!(run.batch_losses.last(), Some(&(1.0, 0.8)));
        assert_eq!(run.epochs.len(), 1);
    }

    fn svg(log_loss: bool) -> String {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
            let mut diverging = RunSeries { colour: 1, ..RunSeries::new("no norm") };
            diverging.absorb(&Event::Losses {
                epoch: 1,
                first_step: 0,
                losses: vec![2.3, 900.0, f32::NAN],
                grad_norms: vec![(1.0, 1.0); 3],
                steps_per_epoch: 4,
            });
            let stuck = RunSeries {
                colour: 2,
                note: Some("not learning".into()),
                batch_losses: vec![(0.5, 2.30), (1.0, 2.31)],
                ..RunSeries::new("stuck")
            };
            draw_training_chart(&root, &[series(), diverging, stuck], &TEXT, log_loss).unwrap();
        }
        svg
    }

    #[test]
    fn svg_has_axes_labels_legend_curves_and_failure_marks() {
        let svg = svg(false);
        for needle in [
            "epoch",
            "training loss (cross-entropy, nats)",
            "test accuracy (%)",
            "BN · adam",
            "no norm",
            "diverged",
            "not learning",
            "<polyline",
        ] {
            assert!(svg.contains(needle), "chart SVG lacks {needle:?}");
        }
    }

    #[test]
    fn log_axis_labels_powers_of_ten() {
        let svg = svg(true);
        // plotters writes each text on a line of its own; the losses span 0.8 … 900.
        for decade in ["\n0.1\n", "\n1\n", "\n10\n", "\n100\n", "\n1000\n"] {
            assert!(svg.contains(decade), "no label {decade:?} on the log axis");
        }
    }
}
