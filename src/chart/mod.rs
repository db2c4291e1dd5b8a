//! Charts, drawn with plotters on any drawing backend: a canvas in the page, SVG in
//! tests. The charts know nothing of where their numbers came from; every caption and
//! axis label is passed in, already in the page's language.
//!
//! - [`training`]: loss per batch and per epoch with test accuracy, several runs overlaid.
//! - [`lines`]: a general line/point plot with linear or logarithmic axes.
//! - [`histograms`]: small multiples of histograms (one row per layer).
//! - [`boundary`]: a 2-D model's decision regions with its data points.
//!
//! Every draw function returns a [`ChartData`]: what it drew, in numbers, for the page's
//! text alternative. Charts lay themselves out in CSS pixels at the size of their drawing
//! area ([`frame::fitted_size`] picks that size for a container); [`ScaledBackend`] maps
//! CSS pixels to a canvas's device pixels.

pub mod axis;
pub mod boundary;
pub mod data;
pub mod frame;
pub mod histograms;
pub mod lines;
mod marks;
pub mod scaled;
#[cfg(test)]
mod svg;
pub mod training;

use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

pub use boundary::draw_decision_boundary;
pub use data::{ChartData, ChartWords, PartKind, PartSummary, Quantity, SeriesData};
pub use frame::{fitted_size, EMPTY_HEIGHT_PX};
pub use histograms::draw_histogram_grid;
pub use lines::{draw_line_plot, draw_line_plot_with_bands, Band, Line, LinePlot, LineStyle, Scale};
pub use scaled::ScaledBackend;
pub use training::{
    draw_training_chart, draw_training_chart_with, draw_training_chart_with_references, LossAxis, Reference,
    TrainingChartText, TrainingKey,
};

use crate::experiment::{EpochSummary, Event};

/// The colours of successive runs (Tableau 10, readable on white, distinct for the
/// common kinds of colour blindness in its first six).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The same colour as CSS, for legends drawn in HTML.
pub fn css_colour(i: usize) -> String {
    let RGBColor(r, g, b) = colour(i);
    format!("rgb({r}, {g}, {b})")
}

/// Everything one run contributes to a training chart, accumulated from its events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSeries {
    pub label: String,
    /// (epochs elapsed, loss) for every training batch.
    pub batch_losses: Vec<(f64, f32)>,
    /// (epochs elapsed, global gradient norm before clipping, after) for every batch.
    #[serde(default)]
    pub grad_norms: Vec<(f64, f32, f32)>,
    pub epochs: Vec<EpochSummary>,
    /// Where the loss first became NaN or infinite, in epochs elapsed.
    pub diverged_at: Option<f64>,
    /// A word drawn at the end of the curve, such as "not learning".
    pub note: Option<String>,
    /// The colour index, so that a run keeps its colour when others are removed.
    pub colour: usize,
    /// Each transformer block's gradient norm before the first step, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradients_at_init: Option<crate::experiment::GradientsAtInit>,
}

impl RunSeries {
    pub fn new(label: impl Into<String>) -> Self {
        RunSeries { label: label.into(), ..Default::default() }
    }

    /// Folds one event of the run into the series.
    pub fn absorb(&mut self, event: &Event) {
        match event {
            Event::Losses { first_step, losses, grad_norms, steps_per_epoch, .. } => {
                let per_epoch = (*steps_per_epoch).max(1) as f64;
                for (i, &loss) in losses.iter().enumerate() {
                    let x = (first_step + i + 1) as f64 / per_epoch;
                    if loss.is_finite() {
                        self.batch_losses.push((x, loss));
                        if let Some(&(before, after)) = grad_norms.get(i) {
                            self.grad_norms.push((x, before, after));
                        }
                    } else {
                        self.diverged_at = Some(x);
                    }
                }
            }
            Event::Epoch(summary) => self.epochs.push(summary.clone()),
            Event::GradientsAtInit(measured) => self.gradients_at_init = Some(measured.clone()),
            Event::Diverged { .. } | Event::Probe(_) | Event::Evaluating { .. } => {}
        }
    }

    /// At most `max` batch losses, keeping the first ones and then every k-th (for
    /// storage; charts of thousands of points look the same).
    pub fn thinned(&self, max: usize) -> RunSeries {
        let n = self.batch_losses.len();
        if n <= max || max == 0 {
            return self.clone();
        }
        let keep_first = max / 4;
        let stride = (n - keep_first).div_ceil(max - keep_first);
        fn thin<T: Copy>(values: &[T], keep_first: usize, stride: usize) -> Vec<T> {
            let keep_first = keep_first.min(values.len());
            let mut kept = values[..keep_first].to_vec();
            kept.extend(values[keep_first..].iter().step_by(stride).copied());
            kept
        }
        RunSeries {
            batch_losses: thin(&self.batch_losses, keep_first, stride),
            grad_norms: thin(&self.grad_norms, keep_first, stride),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::Shift;
    use plotters::prelude::*;

    #[test]
    fn thinning_keeps_the_start_and_the_shape() {
        let mut run = RunSeries::new("r");
        run.batch_losses = (0..10_000).map(|i| (i as f64, i as f32)).collect();
        let thin = run.thinned(1000);
        assert!(thin.batch_losses.len() <= 1000, "{}", thin.batch_losses.len());
        assert_eq!(&thin.batch_losses[..250], &run.batch_losses[..250]);
        assert!(thin.batch_losses.last().unwrap().0 > 9_900.0);
    }

    /// Every chart, drawn `width` CSS pixels wide at the height the page gives it there.
    fn every_chart(width: u32) -> Vec<(&'static str, String)> {
        use crate::experiment::{EpochSummary, Histogram};
        let mut charts = Vec::new();
        let mut draw = |name: &'static str, preferred: (u32, u32), f: &dyn Fn(&DrawingArea<SVGBackend, Shift>)| {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, fitted_size(width as f64, preferred)).into_drawing_area();
                f(&root);
            }
            charts.push((name, svg));
        };
        let mut run = RunSeries::new("BatchNorm · Adam · lr 0.1");
        run.batch_losses = (1..=60).map(|i| (i as f64 / 20.0, 2.3 / (1.0 + i as f32 / 10.0))).collect();
        run.epochs = (1..=3)
            .map(|epoch| EpochSummary {
                epoch,
                train_loss: 1.0 / epoch as f32,
                train_accuracy: 0.5,
                test_loss: 1.0,
                test_accuracy: 0.6 + 0.1 * epoch as f32,
                grad_norm: 1.0,
                grad_norm_clipped: 1.0,
                elapsed_secs: 1.0,
                train_eval_accuracy: None,
                test_loss_batch_stats: None,
                position_losses: Vec::new(),
                batch_of_one: None,
            })
            .collect();
        let text = TrainingChartText {
            title: "Fashion-MNIST: with and without BatchNorm",
            x_label: "epoch",
            loss_label: "training loss (nats)",
            accuracy_label: "test accuracy (%)",
            diverged: "diverged",
        };
        draw("training", (900, 420), &|root| {
            draw_training_chart(root, std::slice::from_ref(&run), &text, false).unwrap();
        });
        let lines = [
            Line { label: "running".into(), points: vec![(1.0, 0.1), (50.0, 0.4)], colour: 0, style: LineStyle::Solid },
            Line { label: "batch".into(), points: vec![(1.0, 0.2), (50.0, 0.3)], colour: 0, style: LineStyle::Faint },
        ];
        draw("lines", (900, 340), &|root| {
            let plot = LinePlot {
                title: "Running mean of one unit",
                x_label: "step",
                y_label: "value",
                x_scale: Scale::Linear,
                y_scale: Scale::Linear,
                lines: &lines,
                references: &[(0.25, "population".into())],
                y_range: None,
            };
            draw_line_plot(root, &plot).unwrap();
        });
        let h = Histogram::new(&[-0.5, 0.0, 0.1, 0.9], -1.0, 1.0, 20);
        draw("histograms", (900, 760), &|root| {
            let rows: Vec<Vec<Option<histograms::HistogramCell>>> = (1..=4)
                .map(|l| {
                    (0..2)
                        .map(|_| {
                            Some(histograms::HistogramCell {
                                histogram: &h,
                                caption: format!("layer {l} · sd 0.123 · 42 % saturated"),
                            })
                        })
                        .collect()
                })
                .collect();
            let columns = [("without BN".to_string(), 0), ("with BN".to_string(), 1)];
            draw_histogram_grid(root, "Activations (step 10 / 10)", &columns, &rows).unwrap();
        });
        let cells: Vec<(usize, f32)> = (0..400).map(|i| (i % 3, 0.9)).collect();
        draw("boundary", (520, 520), &|root| {
            draw_decision_boundary(root, "Decision regions", (-2.0, 2.0, -2.0, 2.0), 20, &cells, &[(0.5, 0.5, 1)])
                .unwrap();
        });
        charts
    }

    #[test]
    fn chart_text_is_at_least_11_css_px_on_a_phone() {
        // 390: a phone's width; 330: what a lesson leaves a chart on it.
        for width in [390, 330] {
            for (name, svg) in every_chart(width) {
                let texts = svg::texts(&svg);
                assert!(texts.len() > 5, "{name}: {} texts", texts.len());
                for t in texts {
                    assert!(t.css_px() >= 11.0, "{name} at {width} px: {:?} is {:.1} px", t.content, t.css_px());
                }
            }
        }
    }

    #[test]
    fn charts_stay_inside_a_phone_wide_canvas() {
        for (name, svg) in every_chart(330) {
            for t in svg::texts(&svg) {
                assert!(t.x >= 0.0 && t.x <= 330.0, "{name}: {:?} at x {}", t.content, t.x);
            }
        }
    }
}
