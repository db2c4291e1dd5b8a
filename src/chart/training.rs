//! The training chart: loss of every batch (thin), its per-epoch mean (thick, dots) and
//! test accuracy per epoch (dashed, triangles, right axis) for several runs, with a
//! legend below the plot (one colour per run, and a key of the three marks), a loss axis
//! that covers the data (logarithmic when the losses span more than a decade), and
//! failed runs marked where they failed.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{fit_ticks, ticks_for, Axis, Scale};
use super::data::{ChartData, SeriesData};
use super::frame::{self, Legend, LegendEntry, Swatch, KEY_GREY, MARGIN, TEXT_PX, TICK_PX};
use super::lines::{Layout, LineStyle};
use super::marks::{self, Plot};
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

/// The words of the legend's key to the three marks each run has, in the page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainingKey<'a> {
    pub batch_loss: &'a str,
    pub epoch_mean: &'a str,
    pub test_accuracy: &'a str,
}

impl Default for TrainingKey<'static> {
    fn default() -> Self {
        TrainingKey { batch_loss: "batch loss", epoch_mean: "epoch mean", test_accuracy: "test accuracy" }
    }
}

/// How the loss axis is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LossAxis {
    /// Logarithmic when the losses span more than a decade, linear otherwise.
    #[default]
    Auto,
    Linear,
    Log,
}

impl LossAxis {
    /// The page's "logarithmic" switch: ticked forces a log axis, unticked leaves the
    /// choice to the data.
    pub fn from_log_switch(log: bool) -> LossAxis {
        if log {
            LossAxis::Log
        } else {
            LossAxis::Auto
        }
    }

    /// The scale for these losses: Auto takes a log axis when the largest positive loss
    /// is more than ten times the smallest.
    pub fn scale(self, losses: &[f64]) -> Scale {
        match self {
            LossAxis::Linear => Scale::Linear,
            LossAxis::Log => Scale::Log10,
            LossAxis::Auto => {
                let positive = || losses.iter().copied().filter(|l| l.is_finite() && *l > 0.0);
                let max = positive().fold(f64::NEG_INFINITY, f64::max);
                let min = positive().fold(f64::INFINITY, f64::min);
                if min.is_finite() && max > 10.0 * min {
                    Scale::Log10
                } else {
                    Scale::Linear
                }
            }
        }
    }
}

/// Every loss the chart draws on its loss axis: batch losses and epoch means.
fn losses(runs: &[RunSeries]) -> Vec<f64> {
    runs.iter()
        .flat_map(|r| r.batch_losses.iter().map(|p| p.1 as f64).chain(r.epochs.iter().map(|e| e.train_loss as f64)))
        .filter(|l| l.is_finite())
        .collect()
}

/// The loss axis. Log: whole decades around every positive loss. Linear: from 0 to the
/// largest loss, unless a few outliers (above three times the 98th percentile) would
/// flatten everything else: then the axis ends at the largest value that is not one, and
/// the outliers are drawn as arrows at the top edge labelled with their values.
fn loss_axis(values: &[f64], scale: Scale, ticks: usize) -> Axis {
    if scale != Scale::Linear {
        let logs: Vec<f64> = values.iter().filter_map(|&v| scale.to_axis(v)).collect();
        let low = logs.iter().copied().fold(f64::INFINITY, f64::min);
        let high = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        return if low.is_finite() { Axis::log(scale, low, high, ticks) } else { Axis::log(scale, 0.0, 1.0, ticks) };
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return Axis::linear_rounded(0.0, 1.0, ticks);
    };
    let p98 = sorted[((sorted.len() - 1) as f64 * 0.98).round() as usize];
    // The largest value that is not an outlier.
    let top = if p98 > 0.0 { sorted.iter().copied().filter(|&v| v <= 3.0 * p98).fold(p98, f64::max) } else { max };
    Axis::linear_rounded(min.min(0.0), top, ticks)
}

/// The epoch axis. Past two epochs, ticks at whole epochs only. Before that, ticks at
/// quarter (or half) epochs: a one-epoch run is labelled in fractions of its epoch
/// rather than in batches, so that the axis keeps the unit and the word the longer runs
/// use and the charts of a lesson compare, while its batches still spread over the
/// width. The axis ends 4 % past the last epoch so that the marks drawn there (the epoch
/// mean, the accuracy) stand clear of the edge.
fn epoch_axis(last: f64, ticks: usize) -> Axis {
    let high = last.max(1.0) * 1.04;
    if last >= 2.0 {
        Axis::whole_numbers(0.0, high, ticks)
    } else {
        let quarters = (last.max(1.0) / 0.25).ceil() as usize;
        Axis::stepped(0.0, high, if quarters <= ticks { 0.25 } else { 0.5 })
    }
}

/// Draws the runs; `log_loss` is the page's switch: ticked forces a logarithmic loss
/// axis, unticked chooses it from the data ([`LossAxis::Auto`]). The key is in English;
/// [`draw_training_chart_with`] takes it in the page's language.
pub fn draw_training_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    text: &TrainingChartText,
    log_loss: bool,
) -> Result<ChartData, String> {
    draw_training_chart_with(root, runs, text, &TrainingKey::default(), LossAxis::from_log_switch(log_loss))
}

pub fn draw_training_chart_with<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    text: &TrainingChartText,
    key: &TrainingKey,
    axis: LossAxis,
) -> Result<ChartData, String> {
    draw_laid_out(root, runs, text, key, axis).map(|(data, _)| data)
}

pub(crate) fn draw_laid_out<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    text: &TrainingChartText,
    key: &TrainingKey,
    axis: LossAxis,
) -> Result<(ChartData, Layout), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let body = frame::title(root, text.title)?;
    let mut legend = Legend::default();
    if !runs.is_empty() {
        legend.groups.push(
            runs.iter()
                .map(|r| LegendEntry { label: r.label.clone(), colour: colour(r.colour), swatch: Swatch::Colour })
                .collect(),
        );
        let entry = |label: &str, style| LegendEntry {
            label: label.to_string(),
            colour: KEY_GREY,
            swatch: Swatch::Line(style),
        };
        legend.groups.push(vec![
            entry(key.batch_loss, LineStyle::Faint),
            entry(key.epoch_mean, LineStyle::SolidWithPoints),
            entry(key.test_accuracy, LineStyle::DashedWithTriangles),
        ]);
    }
    let (area, legend_area) = frame::split_for_legend(&body, &legend);
    let (width, height) = area.dim_in_pixel();

    let last_x = runs
        .iter()
        .flat_map(|r| {
            r.batch_losses.iter().map(|p| p.0).chain(r.diverged_at).chain(r.epochs.iter().map(|e| e.epoch as f64))
        })
        .fold(0.0f64, f64::max);
    let x = fit_ticks(width as f64 - 140.0, 14.0, |l| frame::text_width(&area, l, TICK_PX), |n| epoch_axis(last_x, n));
    let loss_values = losses(runs);
    let scale = axis.scale(&loss_values);
    let y_ticks = ticks_for(height as f64 - 70.0, 36.0);
    let y = loss_axis(&loss_values, scale, y_ticks);
    let accuracy = Axis::linear(0.0, 100.0, y_ticks.min(5));
    let to_y = |loss: f32| scale.to_axis(loss as f64);

    let mut chart = ChartBuilder::on(&area)
        .margin(MARGIN)
        .x_label_area_size(frame::x_label_area(!text.x_label.is_empty()))
        .y_label_area_size(frame::y_label_area(&area, &y.labels(), !text.loss_label.is_empty()))
        .right_y_label_area_size(frame::y_label_area(&area, &accuracy.labels(), !text.accuracy_label.is_empty()))
        .build_cartesian_2d(x.clone(), y.clone())
        .map_err(err)?
        .set_secondary_coord(x.clone(), accuracy.clone());
    let x_format = |v: &f64| x.label(*v);
    let y_format = |v: &f64| y.label(*v);
    let accuracy_format = |v: &f64| accuracy.label(*v);
    chart
        .configure_mesh()
        .x_desc(text.x_label)
        .y_desc(text.loss_label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(frame::font(TICK_PX, frame::INK))
        .axis_desc_style(frame::font(TEXT_PX, frame::INK))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(WHITE.mix(0.0))
        .set_all_tick_mark_size(5)
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc(text.accuracy_label)
        .y_label_formatter(&accuracy_format)
        .label_style(frame::font(TICK_PX, frame::INK))
        .axis_desc_style(frame::font(TEXT_PX, frame::INK))
        .set_all_tick_mark_size(5)
        .draw()
        .map_err(err)?;
    let on = Plot::new(&area, chart.plotting_area().get_pixel_range(), &x, &y);
    let on_accuracy = on.with_y(&accuracy);

    let mut series = Vec::new();
    let mut off_scale = 0;
    for run in runs {
        let c = colour(run.colour);
        let batches: Vec<(f64, f64)> = run.batch_losses.iter().filter_map(|&(x, l)| Some((x, to_y(l)?))).collect();
        off_scale += marks::draw_series(&area, &on, &batches, c, LineStyle::Faint)?;
        let means: Vec<(f64, f64)> =
            run.epochs.iter().filter_map(|e| Some((e.epoch as f64, to_y(e.train_loss)?))).collect();
        off_scale += marks::draw_series(&area, &on, &means, c, LineStyle::SolidWithPoints)?;
        let accuracies: Vec<(f64, f64)> =
            run.epochs.iter().map(|e| (e.epoch as f64, e.test_accuracy as f64 * 100.0)).collect();
        marks::draw_series(&area, &on_accuracy, &accuracies, c, LineStyle::DashedWithTriangles)?;

        // Where a mark belongs at a loss that may lie off the axis: clamped to the edge
        // (these are labels, not data).
        let clamp = |p: (f64, f64)| (p.0.clamp(on.left, on.right), p.1.clamp(on.top + 2.0, on.bottom));
        let last = batches.last().map(|&p| clamp(on.px(p)));
        // A diverged run: a cross where the loss stopped being a number, at the height of
        // its last finite value, and the word.
        if let Some(at) = run.diverged_at {
            let px = clamp(on.px((at, batches.last().map_or(y.high, |p| p.1))));
            let cross = Cross::new((px.0.round() as i32, px.1.round() as i32), 9, RED.stroke_width(3));
            area.draw(&cross).map_err(err)?;
            frame::draw_text(
                &area,
                text.diverged,
                (px.0 - 6.0, px.1 - 8.0),
                TEXT_PX,
                RED,
                Pos::new(HPos::Right, VPos::Bottom),
            )?;
        }
        if let (Some(note), Some(at)) = (&run.note, last) {
            // Anchored at its right end, so that a note at the last epoch stays inside.
            let at = (at.0, at.1.max(on.top + 16.0));
            frame::draw_text(&area, note, (at.0, at.1 - 4.0), TEXT_PX, c, Pos::new(HPos::Right, VPos::Bottom))?;
        }

        let named = |what: &str| format!("{} · {what}", run.label);
        series.push(SeriesData {
            label: named(key.batch_loss),
            style: LineStyle::Faint,
            y_label: None,
            points: run.batch_losses.iter().map(|&(x, l)| (x, l as f64)).collect(),
        });
        series.push(SeriesData {
            label: named(key.epoch_mean),
            style: LineStyle::SolidWithPoints,
            y_label: None,
            points: run
                .epochs
                .iter()
                .filter(|e| e.train_loss.is_finite())
                .map(|e| (e.epoch as f64, e.train_loss as f64))
                .collect(),
        });
        series.push(SeriesData {
            label: named(key.test_accuracy),
            style: LineStyle::DashedWithTriangles,
            y_label: Some(text.accuracy_label.to_string()),
            points: accuracies,
        });
    }
    let legend_top = match &legend_area {
        Some(strip) => {
            legend.draw(strip)?;
            Some((strip.get_base_pixel().1 - root.get_base_pixel().1) as f64)
        }
        None => None,
    };
    root.present().map_err(err)?;

    let (ax, ay) = area.get_base_pixel();
    let (rx, ry) = root.get_base_pixel();
    let shift = ((ax - rx) as f64, (ay - ry) as f64);
    let layout = Layout {
        plot: (on.left + shift.0, on.top + shift.1, on.right + shift.0, on.bottom + shift.1),
        y: y.clone(),
        legend_top,
        off_scale,
    };
    let legend_entries = runs
        .iter()
        .map(|r| (r.label.clone(), None))
        .chain([
            (key.batch_loss.to_string(), Some(LineStyle::Faint)),
            (key.epoch_mean.to_string(), Some(LineStyle::SolidWithPoints)),
            (key.test_accuracy.to_string(), Some(LineStyle::DashedWithTriangles)),
        ])
        .filter(|_| !runs.is_empty())
        .collect();
    let data = ChartData {
        title: text.title.to_string(),
        x_label: text.x_label.to_string(),
        y_label: text.loss_label.to_string(),
        series,
        y_range: Some((y.scale.from_axis(y.low), y.scale.from_axis(y.high), y.scale == Scale::Log10)),
        legend: legend_entries,
        ..Default::default()
    };
    Ok((data, layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::svg::{self, hex, polylines, texts};
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

    fn epoch(epoch: usize, train_loss: f32, test_accuracy: f32) -> EpochSummary {
        EpochSummary {
            epoch,
            train_loss,
            train_accuracy: test_accuracy,
            test_loss: train_loss,
            test_accuracy,
            grad_norm: 1.0,
            grad_norm_clipped: 1.0,
            elapsed_secs: 1.0,
            train_eval_accuracy: None,
        }
    }

    /// A run of `losses.len()` epochs of `losses[e]` batch losses each, and its epoch means.
    fn run(label: &str, colour: usize, losses: &[Vec<f32>], means: &[f32]) -> RunSeries {
        let mut run = RunSeries { colour, ..RunSeries::new(label) };
        for (e, epoch_losses) in losses.iter().enumerate() {
            let n = epoch_losses.len();
            run.absorb(&Event::Losses {
                epoch: e + 1,
                first_step: e * n,
                losses: epoch_losses.clone(),
                grad_norms: vec![(1.0, 1.0); n],
                steps_per_epoch: n,
            });
            run.absorb(&Event::Epoch(epoch(e + 1, means[e], 0.1)));
        }
        run
    }

    fn draw(runs: &[RunSeries], axis: LossAxis, size: (u32, u32)) -> (String, ChartData, Layout) {
        let mut svg = String::new();
        let (data, layout) = {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            draw_laid_out(&root, runs, &TEXT, &TrainingKey::default(), axis).unwrap()
        };
        (svg, data, layout)
    }

    /// The pixel height of `value` on the layout's loss axis.
    fn height_of(layout: &Layout, value: f64) -> f64 {
        let (_, top, _, bottom) = layout.plot;
        let a = layout.y.scale.to_axis(value).unwrap();
        bottom - (a - layout.y.low) / (layout.y.high - layout.y.low) * (bottom - top)
    }

    /// Lesson 4's plain network at lr 0.1: one high first batch, then every batch at ln 10.
    fn stalled() -> RunSeries {
        let mut first = vec![2.30f32; 10];
        first[0] = 4.5;
        run("no norm", 3, &[first, vec![2.30; 10], vec![2.30; 10]], &[2.30, 2.30, 2.30])
    }

    #[test]
    fn a_stalled_run_is_drawn_at_ln_10_inside_the_loss_axis() {
        let (svg, _, layout) = draw(&[stalled()], LossAxis::Auto, (640, 360));
        // The axis covers the first batch and ln 10; nothing was pushed off it.
        assert!(layout.y.low <= 2.30 && layout.y.high >= 4.5, "loss axis {:?}", layout.y);
        assert_eq!(layout.off_scale, 0);
        let at_ln10 = height_of(&layout, 2.30);
        let top = layout.plot.1;
        assert!(at_ln10 > top + 20.0, "ln 10 drawn at the top edge ({at_ln10} vs {top})");
        let red = hex(crate::chart::colour(3));
        let lines: Vec<_> = polylines(&svg).into_iter().filter(|l| l.stroke == red).collect();
        // The batch curve (faint, width 1): after the first batch, flat at ln 10.
        let batches = lines.iter().find(|l| l.width == 1.0 && l.points.len() > 20).expect("no batch curve");
        assert!((batches.points[0].1 - height_of(&layout, 4.5)).abs() <= 1.0, "first batch at {:?}", batches.points[0]);
        assert!(batches.points[1..].iter().all(|p| (p.1 - at_ln10).abs() <= 1.0), "batch curve not at ln 10");
        // The thick epoch-mean line: flat at ln 10, not falling from a capped 4.
        let means = lines.iter().find(|l| l.width == 3.0).expect("no epoch-mean line");
        assert!(means.points.iter().all(|p| (p.1 - at_ln10).abs() <= 1.0), "epoch means at {:?}", means.points);
    }

    #[test]
    fn a_first_epoch_mean_above_the_old_cap_is_drawn_at_its_value() {
        // The reported chart: the first epoch's mean (6.1) was drawn at the cap of 4.
        let mut stalled = stalled();
        stalled.epochs[0].train_loss = 6.1;
        let (svg, _, layout) = draw(&[stalled], LossAxis::Auto, (640, 360));
        assert!(layout.y.high >= 6.1, "loss axis {:?}", layout.y);
        let red = hex(crate::chart::colour(3));
        let means = polylines(&svg).into_iter().find(|l| l.stroke == red && l.width == 3.0).unwrap();
        assert!((means.points[0].1 - height_of(&layout, 6.1)).abs() <= 1.0, "{:?}", means.points);
    }

    #[test]
    fn a_forced_linear_axis_marks_outliers_at_the_edge_with_their_value() {
        let mut losses = vec![2.3f32; 100];
        losses[10] = 900.0;
        let spiky = run("spiky", 1, &[losses], &[11.3]);
        let (svg, _, layout) = draw(&[spiky], LossAxis::Linear, (640, 360));
        assert!(layout.y.high < 900.0 && layout.y.high >= 2.3, "{:?}", layout.y);
        // One arrow for the batch at 900 and one for the epoch mean at 11.3, each labelled.
        assert_eq!(layout.off_scale, 2);
        let labels: Vec<String> = texts(&svg).into_iter().map(|t| t.content).collect();
        assert!(labels.iter().any(|l| l == "900") && labels.iter().any(|l| l == "11.3"), "{labels:?}");
        // No line of the run runs along the top edge as if the values were there.
        let top = layout.plot.1;
        for line in polylines(&svg).into_iter().filter(|l| l.stroke == hex(crate::chart::colour(1))) {
            let along = line.points.windows(2).any(|w| (w[0].1 - top).abs() < 1.0 && (w[1].1 - top).abs() < 1.0);
            assert!(!along, "a line runs along the top edge: {:?}", line.points);
        }
    }

    #[test]
    fn the_loss_axis_is_logarithmic_exactly_when_losses_span_more_than_a_decade() {
        assert_eq!(LossAxis::Auto.scale(&[900.0, 50.0, 2.0, 0.5]), Scale::Log10);
        assert_eq!(LossAxis::Auto.scale(&[2.3, 1.0, 0.8]), Scale::Linear);
        assert_eq!(LossAxis::Auto.scale(&[]), Scale::Linear);
        // The student's switch: ticked forces log; unticked is automatic.
        assert_eq!(LossAxis::from_log_switch(true).scale(&[2.3, 1.0]), Scale::Log10);
        assert_eq!(LossAxis::from_log_switch(false), LossAxis::Auto);
        let falling = run("adam", 0, &[vec![900.0, 40.0, 3.0, 0.5]], &[236.0]);
        assert_eq!(draw(&[falling], LossAxis::Auto, (640, 360)).2.y.scale, Scale::Log10);
        assert_eq!(draw(&[series()], LossAxis::Auto, (640, 360)).2.y.scale, Scale::Linear);
    }

    #[test]
    fn the_legend_stands_below_the_plot_with_a_key_of_the_three_marks() {
        let (svg, _, layout) = draw(&[series(), stalled()], LossAxis::Auto, (640, 400));
        let bottom = layout.plot.3;
        let legend_top = layout.legend_top.expect("no legend");
        assert!(legend_top > bottom, "legend strip at {legend_top}, plot bottom {bottom}");
        let all = texts(&svg);
        for label in ["BN · adam", "no norm", "batch loss", "epoch mean", "test accuracy"] {
            let t = all.iter().find(|t| t.content == label).unwrap_or_else(|| panic!("no legend entry {label:?}"));
            assert!(t.y > bottom, "{label:?} at y {} is inside the plot (bottom {bottom})", t.y);
        }
        // The key pictures each mark in neutral grey: the accuracy entry is dashed (two or
        // more short pieces at its height), the batch-loss entry faint.
        let grey = hex(frame::KEY_GREY);
        let at = |label: &str| all.iter().find(|t| t.content == label).unwrap();
        // The pieces of the swatch just left of an entry's text.
        let pieces_at = |t: &svg::SvgText| -> Vec<svg::SvgLine> {
            polylines(&svg)
                .into_iter()
                .filter(|l| {
                    l.stroke == grey
                        && l.points.iter().all(|p| (p.1 - t.y).abs() < 3.0 && p.0 < t.x && p.0 > t.x - 40.0)
                })
                .collect()
        };
        let dashes = pieces_at(at("test accuracy"));
        assert!(
            dashes.len() >= 2 && dashes.iter().all(|d| (d.points[d.points.len() - 1].0 - d.points[0].0).abs() <= 7.0),
            "{dashes:?}"
        );
        let faint = pieces_at(at("batch loss"));
        assert!(faint.len() == 1 && faint[0].opacity < 0.5 && faint[0].width == 1.0, "{faint:?}");
        let thick = pieces_at(at("epoch mean"));
        assert!(thick.len() == 1 && thick[0].width == 3.0, "{thick:?}");
    }

    #[test]
    fn epoch_axes_tick_at_whole_epochs_and_spread_a_single_epoch() {
        let three = run("three", 0, &[vec![2.0; 7], vec![1.5; 7], vec![1.2; 7]], &[2.0, 1.5, 1.2]);
        let (svg, _, layout) = draw(&[three], LossAxis::Auto, (640, 360));
        assert_eq!(svg::x_tick_labels(&svg, layout.plot.3), ["0", "1", "2", "3"]);
        // One epoch: quarters of it, and its epoch mark clear of the right edge.
        let one = run("one", 0, &[vec![2.0, 1.8, 1.7, 1.5, 1.4, 1.3, 1.2, 1.1]], &[1.5]);
        let (svg, _, layout) = draw(&[one], LossAxis::Auto, (640, 360));
        assert_eq!(svg::x_tick_labels(&svg, layout.plot.3), ["0", "0.25", "0.5", "0.75", "1"]);
        let blue = hex(crate::chart::colour(0));
        let batches = polylines(&svg).into_iter().find(|l| l.stroke == blue && l.width == 1.0).unwrap();
        let (left, _, right, _) = layout.plot;
        assert!(batches.points[0].0 - left < 0.2 * (right - left), "batches do not spread over the axis");
        let dots = svg::elements(&svg, "circle");
        let dot_x: f64 = dots[0].0["cx"].parse().unwrap();
        assert!(right - dot_x > 10.0, "the epoch mark sits on the right edge ({dot_x} of {right})");
    }

    #[test]
    fn tick_labels_are_distinct_with_and_without_runs() {
        for runs in [vec![], vec![series()], vec![stalled(), series()]] {
            for axis in [LossAxis::Auto, LossAxis::Log, LossAxis::Linear] {
                for size in [(640, 360), (330, 315)] {
                    let (svg, _, layout) = draw(&runs, axis, size);
                    let (left, _, right, bottom) = layout.plot;
                    for labels in [
                        svg::x_tick_labels(&svg, bottom),
                        svg::y_tick_labels(&svg, left),
                        svg::right_tick_labels(&svg, right),
                    ] {
                        assert!(labels.len() >= 2, "{labels:?} with {} runs on {axis:?}", runs.len());
                        assert!(!svg::has_duplicates(&labels), "{labels:?} with {} runs on {axis:?}", runs.len());
                    }
                }
            }
        }
    }

    #[test]
    fn the_data_lists_each_runs_three_series_with_their_points() {
        let runs = [series(), stalled()];
        let (_, data, _) = draw(&runs, LossAxis::Auto, (640, 360));
        let labels: Vec<&str> = data.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "BN · adam · batch loss",
                "BN · adam · epoch mean",
                "BN · adam · test accuracy",
                "no norm · batch loss",
                "no norm · epoch mean",
                "no norm · test accuracy"
            ]
        );
        assert_eq!(
            data.series[0].points,
            [(0.25, 2.3f32 as f64), (0.5, 1.5f32 as f64), (1.0 - 0.25, 1.0), (1.0, 0.8f32 as f64)]
        );
        assert_eq!(data.series[1].points, [(1.0, 1.4f32 as f64)]);
        assert_eq!(data.series[2].points, [(1.0, 0.75f32 as f64 * 100.0)]);
        assert_eq!(data.series[2].y_label.as_deref(), Some("test accuracy (%)"));
        assert_eq!(data.series[3].points.len(), 30);
        assert_eq!(data.series[3].style, LineStyle::Faint);
        assert!(!data.is_empty());
        assert!(draw(&[], LossAxis::Auto, (640, 360)).1.is_empty());
    }
}
