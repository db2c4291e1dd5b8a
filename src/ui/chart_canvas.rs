//! A chart on a canvas: plotters draws it whenever the signals its drawing reads change.
//! A button under it saves the picture as PNG; `data-summary` carries the numbers shown,
//! as JSON, for tests and for anyone inspecting the page.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use super::browser;
use super::i18n::{tr, SAVE_PNG};

pub type CanvasArea = DrawingArea<CanvasBackend, Shift>;

/// `draw` is re-run when anything reactive it reads changes; it returns the JSON summary
/// to put in `data-summary`.
#[component]
pub fn ChartCanvas<F>(
    id: &'static str,
    draw: F,
    #[prop(default = 900)] width: u32,
    #[prop(default = 420)] height: u32,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: Signal<String>,
    /// Shown under the chart.
    #[prop(optional, into)]
    caption: Option<Signal<String>>,
) -> impl IntoView
where
    F: Fn(&CanvasArea) -> Result<String, String> + 'static,
{
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let Some(element) = canvas.get() else { return };
        let Some(backend) = CanvasBackend::with_canvas_object(element.clone()) else { return };
        let root = backend.into_drawing_area();
        match draw(&root) {
            Ok(summary) => {
                let _ = element.set_attribute("data-summary", &summary);
                let _ = element.set_attribute("data-drawn", "1");
            }
            Err(error) => log::warn!("chart {id}: {error}"),
        }
    });
    let save = move |_| {
        if let Some(element) = canvas.get_untracked() {
            if let Err(error) = browser::download_canvas_png(&element, &format!("normlab-{id}.png")) {
                log::warn!("{error}");
            }
        }
    };
    view! {
        <figure class="chart">
            <canvas id=id node_ref=canvas width=width height=height role="img" aria-label=move || label.get()></canvas>
            <figcaption>
                {move || caption.map(|c| c.get()).unwrap_or_default()}
                " "
                <button class="small png" on:click=save>{tr(SAVE_PNG)}</button>
            </figcaption>
        </figure>
    }
}
