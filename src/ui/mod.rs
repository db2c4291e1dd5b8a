//! The page (Leptos, client-side rendered). The only module that touches the DOM; it
//! drives experiments through `experiment::Run` and draws with `chart`.

mod chart_canvas;
mod controls;
mod device;
mod fetch;
mod runner;

use leptos::prelude::*;

use crate::chart::RunSeries;
use crate::experiment::ExperimentConfig;
use chart_canvas::TrainingChart;
use controls::Controls;
use device::{DevicePanel, DeviceState};

/// Mounts the page. Called from `main` in the browser.
pub fn start() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Warn);
    leptos::mount::mount_to_body(App);
}

/// The state a run reports into, shared by the controls, the chart and the status line.
#[derive(Clone, Copy)]
pub struct RunView {
    pub series: RwSignal<Vec<RunSeries>>,
    pub status: RwSignal<String>,
    /// An error or divergence message, shown prominently.
    pub alert: RwSignal<Option<String>>,
    pub running: RwSignal<bool>,
    /// (steps done, steps in the run)
    pub progress: RwSignal<(usize, usize)>,
}

fn model_description(config: &ExperimentConfig) -> String {
    match &config.architecture {
        crate::nn::Architecture::Mlp { .. } => "An MLP 784-256-256-10 with ReLU learns to classify Fashion-MNIST \
            clothing images (28×28 pixels, 10 classes)."
            .into(),
        crate::nn::Architecture::Cnn { .. } => "A CNN learns to classify Fashion-MNIST clothing images: two 3×3 \
            convolutions (32 and 64 channels), each followed by ReLU and 2×2 max-pooling, then a 128-unit hidden \
            layer and 10 outputs."
            .into(),
    }
}

#[component]
fn App() -> impl IntoView {
    let query = window().location().search().unwrap_or_default();
    let (initial, problems) = ExperimentConfig::from_query(&query);
    let force_cpu = query.contains("backend=cpu");
    let config = RwSignal::new(initial);
    let device = DeviceState::detect(force_cpu);
    let view_state = RunView {
        series: RwSignal::new(Vec::new()),
        status: RwSignal::new(if problems.is_empty() {
            "Ready. Choose settings and press Train.".to_string()
        } else {
            format!("Some link settings were ignored: {}", problems.join(", "))
        }),
        alert: RwSignal::new(None),
        running: RwSignal::new(false),
        progress: RwSignal::new((0, 0)),
    };

    view! {
        <header class="top">
            <h1>"normlab"</h1>
            <p class="tagline">"How normalization changes training — real experiments on your own device."</p>
        </header>
        <main class="lab">
            <section class="intro">
                <h2>"Experiment: BatchNorm and training stability"</h2>
                <p>{move || model_description(&config.get())}</p>
                <p>
                    "With BatchNorm switched on, every hidden layer standardises its pre-activations over the "
                    "mini-batch before the ReLU. Try a large learning rate with and without it, or a tiny batch: "
                    "each run is overlaid on the chart so you can compare."
                </p>
            </section>
            <DevicePanel device=device />
            <Controls config=config device=device view_state=view_state />
            <TrainingChart view_state=view_state />
        </main>
        <footer class="foot">
            "Data: Fashion-MNIST (Zalando, MIT) subset shipped with the page. Nothing leaves your browser."
        </footer>
    }
}
