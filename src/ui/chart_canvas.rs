//! A chart on a canvas: plotters draws it whenever the signals its drawing reads change,
//! and whenever its container changes width. The canvas is sized to its container at
//! the screen's device pixel ratio and the chart lays itself out in CSS pixels at that
//! size (see `chart::scaled`), so that its text keeps its size on a phone instead of
//! shrinking with a 900 px picture. A button under it saves the picture as PNG;
//! `data-summary` carries the numbers shown, as JSON, for tests and for anyone
//! inspecting the page; a `<details>` under it holds the chart's data as tables, its
//! text alternative.

use leptos::html::{Canvas, Details};
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::browser;
use super::i18n::{tr, SAVE_PNG};
use crate::chart::data::{tables, Table};
use crate::chart::frame::{draw_message, message_height};
use crate::chart::{fitted_size, ChartData, ChartWords, ScaledBackend, EMPTY_HEIGHT_PX};

/// What a chart's drawing closure draws on: CSS pixels, drawn at the device pixel ratio.
pub type CanvasArea = DrawingArea<ScaledBackend<CanvasBackend>, Shift>;

/// What a drawing closure returns: the JSON for `data-summary` and, where the closure
/// passes it on, what the chart drew in numbers (shown as tables under the chart; a
/// chart whose data is empty collapses to one line when the canvas has an
/// `empty_message`). A closure that returns only its JSON (`Ok(json_string)`) still
/// works: `String` becomes a `Drawn` without data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawn {
    pub summary: String,
    pub data: Option<ChartData>,
}

impl From<String> for Drawn {
    fn from(summary: String) -> Self {
        Drawn { summary, data: None }
    }
}

impl Drawn {
    /// The chart drew no data (only known where the closure passed its data on).
    pub fn is_empty(&self) -> bool {
        self.data.as_ref().is_some_and(ChartData::is_empty)
    }
}

/// A drawing closure: `Fn(&CanvasArea) -> Result<D, String>` for any `D: Into<Drawn>`
/// (`String` as before, or `Drawn`).
pub trait DrawChart: 'static {
    fn draw_chart(&self, root: &CanvasArea) -> Result<Drawn, String>;
}

impl<F, D> DrawChart for F
where
    F: Fn(&CanvasArea) -> Result<D, String> + 'static,
    D: Into<Drawn>,
{
    fn draw_chart(&self, root: &CanvasArea) -> Result<Drawn, String> {
        self(root).map(Into::into)
    }
}

/// Sizes `canvas` to `css` pixels at `ratio` device pixels each and runs `paint` on it.
fn paint_at<T>(
    canvas: &web_sys::HtmlCanvasElement,
    (width, height): (u32, u32),
    ratio: f64,
    paint: impl FnOnce(&CanvasArea) -> Result<T, String>,
) -> Result<T, String> {
    // Setting the size clears the canvas, also when it is unchanged.
    canvas.set_width((width as f64 * ratio).round() as u32);
    canvas.set_height((height as f64 * ratio).round() as u32);
    let _ = canvas.set_attribute("style", &format!("height: {height}px"));
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2-D context on the canvas")?;
    let root = ScaledBackend::new(backend, ratio).into_drawing_area();
    paint(&root)
}

fn device_pixel_ratio() -> f64 {
    web_sys::window().map(|w| w.device_pixel_ratio()).filter(|r| r.is_finite() && *r > 0.0).unwrap_or(1.0)
}

/// A `ResizeObserver` and its callback, disconnected when dropped (before the callback
/// is freed).
struct Watch {
    observer: web_sys::ResizeObserver,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// `width` and `height` are the chart's size at desktop width: the canvas takes its
/// container's width and that aspect ratio, relatively taller on narrow screens
/// (`chart::fitted_size`). `draw` is re-run when anything reactive it reads changes.
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
    /// With this, a chart whose returned data is empty shrinks to one line showing it
    /// ("Press Train to see …") instead of an empty picture at full height.
    #[prop(optional, into)]
    empty_message: Option<Signal<String>>,
    /// The words of the data tables (English by default).
    #[prop(optional, into)]
    words: Option<Signal<ChartWords>>,
) -> impl IntoView
where
    F: DrawChart,
{
    let canvas = NodeRef::<Canvas>::new();
    let details = NodeRef::<Details>::new();
    // The canvas's width in CSS pixels and the device pixel ratio, as last seen.
    let container = RwSignal::new((0u32, 0.0f64));
    let data = RwSignal::new(None::<ChartData>);
    let open = RwSignal::new(false);
    // Dropped, and so disconnected, with the component.
    let watch = StoredValue::new_local(None::<Watch>);

    // Redraw when the canvas changes width (a phone turned, a window resized: its CSS
    // width is its figure's) or the pixel ratio changes (zoom, another screen). Height
    // changes are the chart's own.
    Effect::new(move |_| {
        let Some(element) = canvas.get() else { return };
        let seen = element.clone();
        let measure = Closure::<dyn FnMut()>::new(move || {
            let now = (seen.client_width().max(0) as u32, device_pixel_ratio());
            if container.get_untracked() != now {
                container.set(now);
            }
        });
        let Ok(observer) = web_sys::ResizeObserver::new(measure.as_ref().unchecked_ref()) else { return };
        observer.observe(&element);
        watch.set_value(Some(Watch { observer, _callback: measure }));
    });

    Effect::new(move |_| {
        let Some(element) = canvas.get() else { return };
        let (mut css_width, mut ratio) = container.get();
        if css_width == 0 {
            // Before the first observation: measure now, so the first picture is right.
            css_width = element.client_width().max(0) as u32;
            ratio = device_pixel_ratio();
        }
        let size = fitted_size(css_width as f64, (width, height));
        match paint_at(&element, size, ratio, |root| draw.draw_chart(root)) {
            Ok(drawn) => {
                let message = empty_message.filter(|_| drawn.is_empty()).map(|m| m.get());
                if let Some(message) = &message {
                    let collapsed =
                        paint_at(&element, (size.0, EMPTY_HEIGHT_PX), ratio, |root| Ok(message_height(root, message)))
                            .and_then(|h| paint_at(&element, (size.0, h), ratio, |root| draw_message(root, message)));
                    if let Err(error) = collapsed {
                        log::warn!("chart {id}: {error}");
                    }
                }
                let _ = element.set_attribute("data-summary", &drawn.summary);
                let _ = element.set_attribute("data-drawn", "1");
                data.set(if message.is_some() { None } else { drawn.data.filter(|d| !d.is_empty()) });
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
    let lang = super::i18n::lang();
    let words = move || words.map(|w| w.get()).unwrap_or_else(|| super::i18n::chart_words(lang.get()));
    // The tables are built only while the details are open: a chart redraws after every
    // few batches, and nobody reads tables they cannot see.
    let shown_tables = move || {
        if !open.get() {
            return Vec::new();
        }
        data.with(|d| d.as_ref().map(|d| tables(d, &words())).unwrap_or_default())
    };
    view! {
        <figure class="chart">
            <canvas id=id node_ref=canvas width=width height=height role="img" aria-label=move || label.get()></canvas>
            <Show when=move || data.with(Option::is_some)>
                <details class="chart-data" node_ref=details
                    on:toggle=move |_| open.set(details.get_untracked().is_some_and(|d| d.open()))>
                    <summary>{move || words().summary}</summary>
                    <div class="chart-data-tables">
                        {move || shown_tables().into_iter().map(table_view).collect_view()}
                    </div>
                </details>
            </Show>
            <figcaption>
                {move || caption.map(|c| c.get()).unwrap_or_default()}
                " "
                <button class="small png" on:click=save>{tr(SAVE_PNG)}</button>
            </figcaption>
        </figure>
    }
}

/// A table with a caption, column headings (`scope="col"`) and a heading cell per row
/// (`scope="row"`), as screen readers expect of a data table.
fn table_view(table: Table) -> impl IntoView {
    let Table { caption, note, headings, rows } = table;
    view! {
        <table>
            <caption>
                {caption}
                {note.map(|n| view! { <span class="chart-data-note">{n}</span> })}
            </caption>
            <thead>
                <tr>{headings.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let mut cells = row.into_iter();
                        let head = cells.next().unwrap_or_default();
                        view! {
                            <tr>
                                <th scope="row">{head}</th>
                                {cells.map(|c| view! { <td>{c}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
