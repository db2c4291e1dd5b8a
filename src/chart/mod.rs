//! Charts, drawn with plotters on any drawing backend: a canvas in the page, SVG in
//! tests. The charts know nothing of where their numbers came from; every caption and
//! axis label is passed in, already in the page's language.
//!
//! - [`training`]: loss per batch and per epoch with test accuracy, several runs overlaid.
//! - [`lines`]: a general line/point plot with linear or logarithmic axes.
//! - [`histograms`]: small multiples of histograms (one row per layer).
//! - [`boundary`]: a 2-D model's decision regions with its data points.

pub mod boundary;
pub mod histograms;
pub mod lines;
pub mod training;

use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

pub use boundary::draw_decision_boundary;
pub use histograms::draw_histogram_grid;
pub use lines::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
pub use training::{draw_training_chart, TrainingChartText};

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
            Event::Diverged { .. } | Event::Probe(_) => {}
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

    #[test]
    fn thinning_keeps_the_start_and_the_shape() {
        let mut run = RunSeries::new("r");
        run.batch_losses = (0..10_000).map(|i| (i as f64, i as f32)).collect();
        let thin = run.thinned(1000);
        assert!(thin.batch_losses.len() <= 1000, "{}", thin.batch_losses.len());
        assert_eq!(&thin.batch_losses[..250], &run.batch_losses[..250]);
        assert!(thin.batch_losses.last().unwrap().0 > 9_900.0);
    }
}
