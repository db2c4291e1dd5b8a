//! The playground: every setting of an experiment, all of them in the address bar, so a
//! copied link reproduces a run exactly (same initial weights, same batches, same curve).
//! Run links from every lesson open here.

use leptos::prelude::*;

use super::{BatchSizeSlider, EpochsInput, LearningRateSlider, TrainButton, TrainingChart};
use crate::backend::GradClip;
use crate::chart::draw_decision_boundary;
use crate::data::DatasetId;
use crate::experiment::ExperimentConfig;
use crate::nn::{Architecture, NormKind, Optimizer, Placement};
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas};
use crate::ui::fetch::{load_dataset, use_file};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::trainer::{JobEvent, RunRequest, Trainer, BOUNDARY_EXTENT, BOUNDARY_RESOLUTION};
use crate::ui::Page;

const YOUR_FILE: Msg = Msg { en: "Your CIFAR-10 batch file", zh: "你自己的 CIFAR-10 批文件" };
const FILE_HINT: Msg = Msg {
    en: "The binary version (data_batch_1.bin …): it is read here in your browser and never sent anywhere.",
    zh: "二进制版本（data_batch_1.bin 等）：文件只在你的浏览器里读取，不会发送到任何地方。",
};
const BOUNDARY: Msg = Msg {
    en: "Decision regions of the last run, with the test points",
    zh: "最近一次运行的决策区域，以及测试点",
};
/// A batch file is 30.7 MB; anything far larger is refused before it is read.
const MAX_FILE_BYTES: f64 = 200.0 * 1024.0 * 1024.0;

const GROUP: &str = "playground";
const TITLE: Msg =
    Msg { en: "Playground: training loss and test accuracy", zh: "实验场：训练损失与测试准确率" };

const PLACEMENT: Msg = Msg { en: "Norm placement", zh: "归一化位置" };
const BEFORE: Msg = Msg { en: "before the activation", zh: "激活之前" };
const AFTER: Msg = Msg { en: "after the activation", zh: "激活之后" };
const DROPOUT: Msg = Msg { en: "Dropout", zh: "Dropout" };
const CLIPPING: Msg = Msg { en: "Gradient clipping", zh: "梯度裁剪" };
const CLIP_NORM: Msg = Msg { en: "by global norm", zh: "按全局范数" };
const CLIP_VALUE: Msg = Msg { en: "by value", zh: "按数值" };
const THRESHOLD: Msg = Msg { en: "Threshold", zh: "阈值" };

/// The norm choices of the selector: (URL name, label).
const NORMS: [(&str, &str); 9] = [
    ("none", "—"),
    ("batch", "BatchNorm"),
    ("layer", "LayerNorm"),
    ("instance", "InstanceNorm (CNN)"),
    ("group4", "GroupNorm, 4 groups"),
    ("group8", "GroupNorm, 8 groups"),
    ("rms", "RMSNorm"),
    ("l1", "L1 normalization"),
    ("linf", "L∞ normalization"),
];

#[component]
pub fn Playground(lesson: &'static str) -> impl IntoView {
    let page = expect_context::<Page>();
    let trainer = expect_context::<Trainer>();
    let lang = lang();
    let (opened, problems) = ExperimentConfig::from_query(&page.initial_query(lesson).unwrap_or_default());
    // Keys of the page itself are not experiment settings.
    let problems: Vec<String> =
        problems.into_iter().filter(|p| !p.contains("lesson=") && !p.contains("lang=")).collect();
    let config = RwSignal::new(opened);

    let lr = RwSignal::new(config.get_untracked().learning_rate);
    let batch = RwSignal::new(config.get_untracked().batch_size);
    let epochs = RwSignal::new(config.get_untracked().epochs);
    Effect::new(move |_| {
        let (l, b, e) = (lr.get(), batch.get(), epochs.get());
        config.update(|c| {
            c.learning_rate = l;
            c.batch_size = b;
            c.epochs = e;
        });
    });
    Effect::new(move |_| page.set_settings_query(&config.with(|c| c.to_query())));

    let set = move |f: Box<dyn Fn(&mut ExperimentConfig)>| config.update(|c| f(c));
    let norm_name = move || config.with(|c| c.norms.first().copied().unwrap_or_default().name());
    let clip_kind = move || match config.with(|c| c.clip) {
        GradClip::None => "none",
        GradClip::Norm { .. } => "norm",
        GradClip::Value { .. } => "value",
    };
    let clip_amount = move || match config.with(|c| c.clip) {
        GradClip::None => 1.0,
        GradClip::Norm { max_norm } => max_norm,
        GradClip::Value { clip } => clip,
    };

    // The decision regions of the last run on 2-D data, and that data's test points.
    let boundary: RwSignal<Option<Vec<(usize, f32)>>> = RwSignal::new(None);
    let points: RwSignal<Vec<(f32, f32, usize)>> = RwSignal::new(Vec::new());
    let file_status: RwSignal<Option<(String, bool)>> = RwSignal::new(None);
    let toy = move || config.with(|c| matches!(c.dataset, DatasetId::Moons | DatasetId::Circles | DatasetId::Spirals));
    let train = move |_| {
        let c = config.get_untracked();
        page.set_settings_query(&c.to_query());
        let mut request = RunRequest::new(c.clone(), format!("{} · {}", c.dataset.title(), c.label()));
        request.boundary = toy();
        if request.boundary {
            let id = c.dataset;
            leptos::task::spawn_local(async move {
                if let Ok(data) = load_dataset(id).await {
                    let t = &data.test;
                    points.set(
                        (0..t.len).map(|i| (t.images[2 * i], t.images[2 * i + 1], t.labels[i] as usize)).collect(),
                    );
                }
            });
        }
        trainer.start(GROUP, vec![request], move |event| {
            if let JobEvent::Boundary { cells, .. } = event {
                boundary.set(Some(cells));
            }
        });
    };
    let read_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        let l = lang.get_untracked();
        if file.size() > MAX_FILE_BYTES {
            file_status.set(Some((
                pick(
                    l,
                    format!(
                        "{} is {:.0} MB, far more than a CIFAR-10 batch file (31 MB); it was not read.",
                        file.name(),
                        file.size() / 1e6
                    ),
                    format!(
                        "{} 有 {:.0} MB，远大于一个 CIFAR-10 批文件（31 MB）；没有读取它。",
                        file.name(),
                        file.size() / 1e6
                    ),
                ),
                true,
            )));
            return;
        }
        let name = file.name();
        leptos::task::spawn_local(async move {
            let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                Err(e) => {
                    file_status.set(Some((format!("{name}: {e:?}"), true)));
                    return;
                }
            };
            match use_file(DatasetId::Cifar10, &bytes) {
                Ok(data) => {
                    file_status.set(Some((
                        pick(
                            l,
                            format!("{name}: {} images for training, {} for testing.", data.train.len, data.test.len),
                            format!("{name}：{} 张用于训练，{} 张用于测试。", data.train.len, data.test.len),
                        ),
                        false,
                    )));
                    config.update(|c| c.dataset = DatasetId::Cifar10);
                }
                Err(e) => file_status.set(Some((format!("{name}: {e}"), true))),
            }
        });
    };
    let draw_boundary = move |root: &CanvasArea| {
        let Some(cells) = boundary.get() else { return Ok(String::new()) };
        draw_decision_boundary(
            root,
            BOUNDARY.get(lang.get()),
            BOUNDARY_EXTENT,
            BOUNDARY_RESOLUTION,
            &cells,
            &points.get(),
        )?;
        Ok(serde_json::json!({ "cells": cells.len() }).to_string())
    };
    view! {
        <div class="widget playground">
            {(!problems.is_empty()).then(|| view! {
                <p class="note" role="status">{tr(SETTINGS_IGNORED)}": "{problems.join(", ")}</p>
            })}
            <div class="controls">
                <div class="control">
                    <label for="pg-data">{tr(DATASET)}</label>
                    <select id="pg-data" prop:value=move || config.with(|c| c.dataset.name())
                        on:change=move |ev| {
                            if let Some(d) = DatasetId::parse(&event_target_value(&ev)) {
                                set(Box::new(move |c| c.dataset = d));
                            }
                        }>
                        {[DatasetId::FashionMnist, DatasetId::Mnist, DatasetId::Moons, DatasetId::Circles, DatasetId::Spirals, DatasetId::Cifar10]
                            .map(|d| view! { <option value=d.name()>{d.title()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="control file">
                    <label for="pg-file">{tr(YOUR_FILE)}</label>
                    <input id="pg-file" type="file" accept=".bin,application/octet-stream" on:change=read_file />
                </div>
                <div class="control">
                    <label for="pg-model">{tr(MODEL)}</label>
                    <select id="pg-model"
                        prop:value=move || config.with(|c| match c.architecture { Architecture::Cnn { .. } => "cnn", _ => "mlp" })
                        on:change=move |ev| {
                            let cnn = event_target_value(&ev) == "cnn";
                            set(Box::new(move |c| c.architecture = if cnn { Architecture::notes_cnn() } else { Architecture::Mlp { hidden: vec![256, 256] } }));
                        }>
                        <option value="mlp">"MLP (256-256)"</option>
                        <option value="cnn">"CNN (conv 32, conv 64, linear 128)"</option>
                    </select>
                </div>
                <div class="control">
                    <label for="pg-norm">{tr(NORMALIZATION)}</label>
                    <select id="pg-norm" prop:value=norm_name
                        on:change=move |ev| {
                            if let Some(kind) = NormKind::parse(&event_target_value(&ev)) {
                                // InstanceNorm needs positions: in the CNN it goes on the conv
                                // blocks only, as nn.InstanceNorm2d would.
                                set(Box::new(move |c| {
                                    c.norms = match (&c.architecture, kind) {
                                        (Architecture::Cnn { channels, .. }, NormKind::Instance) => {
                                            let mut norms = vec![kind; channels.len()];
                                            norms.push(NormKind::None);
                                            norms
                                        }
                                        _ => vec![kind],
                                    }
                                }));
                            }
                        }>
                        {NORMS.iter().map(|(value, label)| {
                            let label = *label;
                            view! { <option value=*value>{move || if label == "—" { NONE.get(lang.get()) } else { label }}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="control">
                    <label for="pg-place">{tr(PLACEMENT)}</label>
                    <select id="pg-place"
                        prop:value=move || if config.with(|c| c.placement) == Placement::After { "after" } else { "before" }
                        on:change=move |ev| {
                            let after = event_target_value(&ev) == "after";
                            set(Box::new(move |c| c.placement = if after { Placement::After } else { Placement::Before }));
                        }>
                        <option value="before">{tr(BEFORE)}</option>
                        <option value="after">{tr(AFTER)}</option>
                    </select>
                </div>
                <div class="control">
                    <label for="pg-dropout">{tr(DROPOUT)}</label>
                    <input id="pg-dropout" type="range" min="0" max="0.9" step="0.05"
                        prop:value=move || config.with(|c| c.dropout).to_string()
                        on:input=move |ev| {
                            if let Ok(p) = event_target_value(&ev).parse::<f32>() {
                                set(Box::new(move |c| c.dropout = p));
                            }
                        } />
                    <output for="pg-dropout">{move || format!("{:.2}", config.with(|c| c.dropout))}</output>
                </div>
                <div class="control">
                    <label for="pg-opt">{tr(OPTIMIZER)}</label>
                    <select id="pg-opt" prop:value=move || config.with(|c| c.optimizer.name())
                        on:change=move |ev| {
                            let adam = event_target_value(&ev) == "adam";
                            set(Box::new(move |c| c.optimizer = if adam { Optimizer::adam() } else { Optimizer::sgd_momentum() }));
                        }>
                        <option value="sgd">"SGD, momentum 0.9"</option>
                        <option value="adam">"Adam"</option>
                    </select>
                </div>
                <LearningRateSlider id="pg-lr" value=lr />
                <BatchSizeSlider id="pg-batch" value=batch />
                <EpochsInput id="pg-epochs" value=epochs />
                <div class="control">
                    <label for="pg-clip">{tr(CLIPPING)}</label>
                    <select id="pg-clip" prop:value=clip_kind
                        on:change=move |ev| {
                            let kind = event_target_value(&ev);
                            let amount = clip_amount();
                            set(Box::new(move |c| c.clip = match kind.as_str() {
                                "norm" => GradClip::Norm { max_norm: amount },
                                "value" => GradClip::Value { clip: amount },
                                _ => GradClip::None,
                            }));
                        }>
                        <option value="none">{tr(NONE)}</option>
                        <option value="norm">{tr(CLIP_NORM)}</option>
                        <option value="value">{tr(CLIP_VALUE)}</option>
                    </select>
                </div>
                <div class="control">
                    <label for="pg-clip-amount">{tr(THRESHOLD)}</label>
                    <input id="pg-clip-amount" type="number" min="0.001" step="0.1"
                        prop:value=move || clip_amount().to_string()
                        prop:disabled=move || clip_kind() == "none"
                        on:change=move |ev| {
                            if let Ok(a) = event_target_value(&ev).parse::<f32>() {
                                if a.is_finite() && a > 0.0 {
                                    set(Box::new(move |c| c.clip = match c.clip {
                                        GradClip::Norm { .. } => GradClip::Norm { max_norm: a },
                                        GradClip::Value { .. } => GradClip::Value { clip: a },
                                        GradClip::None => GradClip::None,
                                    }));
                                }
                            }
                        } />
                </div>
                <div class="control">
                    <label for="pg-seed">{tr(SEED)}</label>
                    <input id="pg-seed" type="number" min="0"
                        prop:value=move || config.with(|c| c.seed).to_string()
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<u64>() {
                                set(Box::new(move |c| c.seed = s));
                            }
                        } />
                </div>
                <p class="muted settings" id="pg-summary">{move || config.with(|c| c.label())}</p>
                <TrainButton id="pg-train" label=TRAIN on_click=train />
            </div>
            <p class="muted">{tr(FILE_HINT)}</p>
            {move || file_status.get().map(|(text, error)| view! {
                <p class=if error { "alert" } else { "note" } role=if error { "alert" } else { "status" } id="pg-file-status">{text}</p>
            })}
            <TrainingChart group=GROUP id="pg-chart" title=TITLE />
            <Show when=move || toy() && boundary.with(|b| b.is_some())>
                <ChartCanvas id="pg-boundary" draw=draw_boundary width=520 height=520
                    label=Signal::derive(move || BOUNDARY.get(lang.get()).to_string()) />
            </Show>
            <RunPanel group=GROUP />
        </div>
    }
}
