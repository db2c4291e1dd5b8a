//! The playground: every setting of an experiment, all of them in the address bar, so a
//! copied link reproduces a run exactly (same initial weights, same batches, same curve).
//! Run links from every lesson open here.

use leptos::prelude::*;

use super::{BatchSizeSlider, EpochsInput, LearningRateSlider, TrainingChart};
use crate::backend::GradClip;
use crate::data::DatasetId;
use crate::experiment::ExperimentConfig;
use crate::nn::{Architecture, NormKind, Optimizer, Placement};
use crate::ui::device::DeviceState;
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::trainer::{RunRequest, Trainer};
use crate::ui::Page;

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
    let device = expect_context::<DeviceState>();
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

    let train = move |_| {
        let c = config.get_untracked();
        page.set_settings_query(&c.to_query());
        trainer.start(GROUP, vec![RunRequest::new(c.clone(), c.label())], |_| {});
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
                        <option value="fashion-mnist">"Fashion-MNIST"</option>
                        <option value="mnist">"MNIST"</option>
                    </select>
                </div>
                <div class="control">
                    <label for="pg-model">{tr(MODEL)}</label>
                    <select id="pg-model"
                        prop:value=move || config.with(|c| match c.architecture { Architecture::Cnn { .. } => "cnn", _ => "mlp" })
                        on:change=move |ev| {
                            let cnn = event_target_value(&ev) == "cnn";
                            set(Box::new(move |c| c.architecture = if cnn { Architecture::notes_cnn() } else { Architecture::Mlp { hidden: vec![256, 256] } }));
                        }>
                        <option value="mlp">"MLP 784-256-256-10"</option>
                        <option value="cnn">"CNN (conv 32, conv 64, linear 128)"</option>
                    </select>
                </div>
                <div class="control">
                    <label for="pg-norm">{tr(NORMALIZATION)}</label>
                    <select id="pg-norm" prop:value=norm_name
                        on:change=move |ev| {
                            if let Some(kind) = NormKind::parse(&event_target_value(&ev)) {
                                set(Box::new(move |c| c.norms = vec![kind]));
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
                <div class="buttons">
                    <button class="train" id="pg-train" on:click=train
                        prop:disabled=move || trainer.is_busy() || !device.ready()>{tr(TRAIN)}</button>
                </div>
            </div>
            <TrainingChart group=GROUP id="pg-chart" title=TITLE />
            <RunPanel group=GROUP />
        </div>
    }
}
