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

/// A run's reference behind it: the stored full preset's epoch-mean training loss over its
/// seeds (`experiment::course_results`), drawn faintly in the run's colour as a band from
/// the lowest to the highest seed with the mean as a thin line, so that a quick or
/// stopped run shows where the full experiment goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The legend's words for every reference ("the lab's full runs, seeds 1–3").
    pub label: String,
    pub colour: usize,
    /// (epoch, mean, lowest, highest) of the epoch-mean training loss.
    pub points: Vec<(f64, f64, f64, f64)>,
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
    draw_laid_out(root, runs, &[], text, key, axis).map(|(data, _)| data)
}

/// The runs with `references` behind them (see [`Reference`]).
pub fn draw_training_chart_with_references<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    references: &[Reference],
    text: &TrainingChartText,
    key: &TrainingKey,
    axis: LossAxis,
) -> Result<ChartData, String> {
    draw_laid_out(root, runs, references, text, key, axis).map(|(data, _)| data)
}

pub(crate) fn draw_laid_out<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    references: &[Reference],
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
        let mut keys = vec![
            entry(key.batch_loss, LineStyle::Faint),
            entry(key.epoch_mean, LineStyle::SolidWithPoints),
            entry(key.test_accuracy, LineStyle::DashedWithTriangles),
        ];
        if let Some(first) = references.first() {
            keys.push(LegendEntry { label: first.label.clone(), colour: KEY_GREY, swatch: Swatch::Band });
        }
        legend.groups.push(keys);
    }
    let (area, legend_area) = frame::split_for_legend(&body, &legend);
    let (width, height) = area.dim_in_pixel();

    let last_x = runs
        .iter()
        .flat_map(|r| {
            r.batch_losses.iter().map(|p| p.0).chain(r.diverged_at).chain(r.epochs.iter().map(|e| e.epoch as f64))
        })
        .chain(references.iter().flat_map(|r| r.points.iter().map(|p| p.0)))
        .fold(0.0f64, f64::max);
    let x = fit_ticks(width as f64 - 140.0, 14.0, |l| frame::text_width(&area, l, TICK_PX), |n| epoch_axis(last_x, n));
    let mut loss_values = losses(runs);
    loss_values
        .extend(references.iter().flat_map(|r| r.points.iter().flat_map(|p| [p.2, p.3])).filter(|v| v.is_finite()));
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
    // The references first, under every run.
    for reference in references {
        let c = colour(reference.colour);
        let edge = |pick: fn(&(f64, f64, f64, f64)) -> f64| -> Vec<(f64, f64)> {
            reference.points.iter().filter_map(|p| Some(on.px((p.0, to_y(pick(p) as f32)?)))).collect()
        };
        let (high, low) = (edge(|p| p.3), edge(|p| p.2));
        marks::fill_band(&area, &on, &high, &low, c)?;
        let means: Vec<(f64, f64)> = reference.points.iter().filter_map(|p| Some((p.0, to_y(p.1 as f32)?))).collect();
        off_scale += marks::draw_series(&area, &on, &means, c, LineStyle::Faint)?;
        series.push(SeriesData {
            label: reference.label.clone(),
            style: LineStyle::Faint,
            y_label: None,
            points: reference.points.iter().map(|p| (p.0, p.1)).collect(),
        });
    }
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
        .chain(references.first().map(|r| (r.label.clone(), None)))
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
mod tests;
