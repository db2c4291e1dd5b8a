//! The live chart: plotters drawing on a canvas, redrawn whenever a run reports.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use super::RunView;
use crate::chart::draw_training_chart;

#[component]
pub fn TrainingChart(view_state: RunView) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let runs = view_state.series.get();
        let Some(element) = canvas.get() else { return };
        let Some(backend) = CanvasBackend::with_canvas_object(element.clone()) else { return };
        let root = backend.into_drawing_area();
        if let Err(error) = draw_training_chart(&root, &runs, "Fashion-MNIST: training loss and test accuracy") {
            log::warn!("chart: {error}");
        }
        // The newest run's losses, for tests and for anyone inspecting the page.
        if let Some(last) = runs.last() {
            let losses: Vec<f32> = last.batch_losses.iter().map(|p| p.1).collect();
            let _ = element.set_attribute("data-losses", &serde_json::to_string(&losses).unwrap_or_default());
        }
    });
    view! {
        <figure class="chart">
            <canvas id="chart" node_ref=canvas width="900" height="440"
                role="img" aria-label="Chart of training loss per batch and per epoch, and test accuracy per epoch"></canvas>
            <figcaption>
                "Thin lines: loss of each training batch. Thick lines with dots: mean loss of each epoch. "
                "Dashed lines with triangles: test accuracy after each epoch (right axis, eval mode)."
            </figcaption>
        </figure>
    }
}
