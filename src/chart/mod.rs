//! Training charts, drawn with plotters on any drawing backend: a canvas in the page,
//! SVG in tests. The chart knows nothing of where its numbers came from.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::experiment::{EpochSummary, Event};

/// Everything one run contributes to a chart, accumulated from its events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSeries {
    pub label: String,
    /// (epochs elapsed, loss) for every training batch.
    pub batch_losses: Vec<(f64, f32)>,
    pub epochs: Vec<EpochSummary>,
    /// Where the loss first became NaN or infinite, in epochs elapsed.
    pub diverged_at: Option<f64>,
}

impl RunSeries {
    pub fn new(label: impl Into<String>) -> Self {
        RunSeries { label: label.into(), ..Default::default() }
    }

    /// Folds one event of the run into the series.
    pub fn absorb(&mut self, event: &Event) {
        match event {
            Event::Losses { first_step, losses, steps_per_epoch, .. } => {
                let per_epoch = (*steps_per_epoch).max(1) as f64;
                for (i, &loss) in losses.iter().enumerate() {
                    let x = (first_step + i + 1) as f64 / per_epoch;
                    if loss.is_finite() {
                        self.batch_losses.push((x, loss));
                    } else {
                        self.diverged_at = Some(x);
                    }
                }
            }
            Event::Epoch(summary) => self.epochs.push(summary.clone()),
            Event::Diverged { .. } => {}
        }
    }
}

/// The colours of successive runs (Tableau 10, readable on white).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws training loss per batch (thin), its per-epoch mean (thick, dots) and test
/// accuracy per epoch (dashed, right axis) for every run, with a legend.
pub fn draw_training_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunSeries],
    title: &str,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let max_x =
        runs.iter().flat_map(|r| r.batch_losses.iter().map(|p| p.0).chain(r.diverged_at)).fold(1.0f64, f64::max);
    let finite_max = runs.iter().flat_map(|r| r.batch_losses.iter().map(|p| p.1)).fold(0.0f32, f32::max);
    // Keep a diverging run from flattening every other curve: cap the axis at 4 (≈ 1.7×
    // the loss of guessing among 10 classes) and draw what lies above at the edge.
    let max_y = (finite_max * 1.05).clamp(0.5, 4.0) as f64;

    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .right_y_label_area_size(55)
        .build_cartesian_2d(0f64..max_x, 0f64..max_y)
        .map_err(err)?
        .set_secondary_coord(0f64..max_x, 0f64..100f64);
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("training loss (cross-entropy)")
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    chart.configure_secondary_axes().y_desc("test accuracy (%)").draw().map_err(err)?;

    for (i, run) in runs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let clamp = |y: f32| (y as f64).min(max_y);
        chart
            .draw_series(LineSeries::new(run.batch_losses.iter().map(|&(x, y)| (x, clamp(y))), colour.mix(0.35)))
            .map_err(err)?
            .label(run.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
        let epoch_means: Vec<(f64, f64)> = run.epochs.iter().map(|e| (e.epoch as f64, clamp(e.train_loss))).collect();
        chart.draw_series(LineSeries::new(epoch_means.iter().copied(), colour.stroke_width(3))).map_err(err)?;
        chart.draw_series(epoch_means.iter().map(|&p| Circle::new(p, 4, colour.filled()))).map_err(err)?;
        let accuracy: Vec<(f64, f64)> =
            run.epochs.iter().map(|e| (e.epoch as f64, e.test_accuracy as f64 * 100.0)).collect();
        chart
            .draw_secondary_series(DashedLineSeries::new(accuracy.iter().copied(), 6, 4, colour.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_secondary_series(accuracy.iter().map(|&p| TriangleMarker::new(p, 5, colour.filled())))
            .map_err(err)?;
        if let Some(x) = run.diverged_at {
            chart.draw_series(std::iter::once(Cross::new((x, max_y * 0.97), 8, RED.stroke_width(3)))).map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    "diverged",
                    (x, max_y * 0.9),
                    ("sans-serif", 14).into_font().color(&RED),
                )))
                .map_err(err)?;
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

    #[test]
    fn svg_has_axes_labels_legend_and_curves() {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
            let mut diverging = RunSeries::new("no norm");
            diverging.absorb(&Event::Losses {
                epoch: 1,
                first_step: 0,
                losses: vec![2.3, 9.0, f32::NAN],
                grad_norms: vec![(1.0, 1.0); 3],
                steps_per_epoch: 4,
            });
            draw_training_chart(&root, &[series(), diverging], "Fashion-MNIST").unwrap();
        }
        for needle in ["epoch", "training loss", "test accuracy (%)", "BN · adam", "no norm", "diverged", "<polyline"]
        {
            assert!(svg.contains(needle), "chart SVG lacks {needle:?}");
        }
    }
}
