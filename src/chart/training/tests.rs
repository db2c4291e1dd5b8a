//! The training chart drawn to SVG: what it shows and what it says it shows.

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
        test_loss_batch_stats: None,
        position_losses: Vec::new(),
        batch_of_one: None,
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
        test_loss_batch_stats: None,
        position_losses: Vec::new(),
        batch_of_one: None,
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
        draw_laid_out(&root, runs, &[], &TEXT, &TrainingKey::default(), axis).unwrap()
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
                l.stroke == grey && l.points.iter().all(|p| (p.1 - t.y).abs() < 3.0 && p.0 < t.x && p.0 > t.x - 40.0)
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

#[test]
fn a_reference_band_lies_under_the_run_within_the_axis_and_is_keyed_in_the_legend() {
    // One epoch of a live run against a stored reference of three epochs whose highest
    // seed starts above every loss of the run.
    let run = series();
    let reference = Reference {
        label: "the lab's full runs, seeds 1–3".into(),
        colour: run.colour,
        points: vec![(1.0, 1.2, 1.0, 3.1), (2.0, 0.6, 0.5, 0.7), (3.0, 0.4, 0.35, 0.45)],
    };
    let mut svg = String::new();
    let (data, layout) = {
        let root = SVGBackend::with_string(&mut svg, (640, 400)).into_drawing_area();
        draw_laid_out(
            &root,
            std::slice::from_ref(&run),
            std::slice::from_ref(&reference),
            &TEXT,
            &TrainingKey::default(),
            LossAxis::Linear,
        )
        .unwrap()
    };
    let bands: Vec<_> = svg::elements(&svg, "polygon")
        .into_iter()
        .filter(|(a, _)| a.get("fill") == Some(&hex(colour(run.colour))))
        .filter(|(a, _)| a.get("opacity").and_then(|o| o.parse::<f64>().ok()).is_some_and(|o| o < 0.5))
        .collect();
    assert_eq!(bands.len(), 1, "one translucent band for the one reference (the accuracy's triangles are opaque)");
    assert!(layout.y.high >= 3.1, "the loss axis stops below the reference's highest seed: {:?}", layout.y);
    // The epoch axis reaches the reference's last epoch though the run ended at one.
    assert!(data
        .series
        .iter()
        .any(|s| s.label == reference.label && s.points == vec![(1.0, 1.2), (2.0, 0.6), (3.0, 0.4)]));
    assert_eq!(data.legend.last(), Some(&(reference.label.clone(), None)));
    assert!(texts(&svg).iter().any(|t| t.content == reference.label && t.y > layout.plot.3), "no legend entry");
    let (_, _, right, _) = layout.plot;
    let x_labels: Vec<_> = texts(&svg).into_iter().filter(|t| t.content == "3").collect();
    assert!(x_labels.iter().any(|t| t.x <= right + 1.0), "no tick at epoch 3: the axis did not reach the reference");
}
