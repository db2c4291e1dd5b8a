//! The playground: every setting of an experiment, all of them in the address bar, so a
//! copied link reproduces a run exactly (same initial weights, same batches, same curve).
//! Run links from every lesson open here.

use leptos::prelude::*;

use super::{BatchSizeSlider, EpochsInput, LearningRateSlider, TrainButton, TrainingChart};
use crate::backend::GradClip;
use crate::chart::draw_decision_boundary;
use crate::data::image_folder::{ImagePool, ImageShape};
use crate::data::DatasetId;
use crate::experiment::query::{clip_amount, clip_kind_code, clip_of_kind};
use crate::experiment::ExperimentConfig;
use crate::nn::{Architecture, NormKind, Optimizer, Placement};
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::fetch::{load_dataset, use_dataset, use_file};
use crate::ui::i18n::*;
use crate::ui::image_files::{self, FolderFile};
use crate::ui::run_panel::RunPanel;
use crate::ui::trainer::{JobEvent, RunRequest, Trainer, BOUNDARY_EXTENT, BOUNDARY_RESOLUTION};
use crate::ui::Page;

const YOUR_FILE: Msg = Msg { en: "Your CIFAR-10 batch file", zh: "你自己的 CIFAR-10 批文件" };
const FILE_HINT: Msg = Msg {
    en: "The binary version of a CIFAR-10 batch: it is read here in your browser and never sent anywhere. For example",
    zh: "CIFAR-10 批文件的二进制版本：文件只在你的浏览器里读取，不会发送到任何地方。例如",
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
const CLIP_NORM: Msg = Msg { en: "by global norm (L2)", zh: "按全局范数（L2）" };
const CLIP_NORM_L1: Msg = Msg { en: "by global norm (L1)", zh: "按全局范数（L1）" };
const CLIP_NORM_INF: Msg =
    Msg { en: "by global norm (∞: largest |g|)", zh: "按全局范数（∞：最大的 |g|）" };
const CLIP_VALUE: Msg = Msg { en: "by value", zh: "按数值" };
const THRESHOLD: Msg = Msg { en: "Threshold", zh: "阈值" };
const HIDDEN: Msg = Msg { en: "Hidden layers", zh: "隐藏层宽度" };
const CHANNELS: Msg = Msg { en: "Conv channels", zh: "卷积通道数" };
const MORE_SETTINGS: Msg =
    Msg { en: "More settings (every one of them is in the link)", zh: "更多设置（每一项都在链接里）" };
const NORMS_PER_BLOCK: Msg = Msg { en: "Norm per block", zh: "每块的归一化" };
const TRAIN_SUBSET: Msg = Msg { en: "Training examples", zh: "训练样本数" };
const TEST_SUBSET: Msg = Msg { en: "Test examples", zh: "测试样本数" };
const BATCHES_CAP: Msg = Msg { en: "Batches per epoch (at most)", zh: "每个 epoch 的批数（上限）" };
const ALL: Msg = Msg { en: "all", zh: "全部" };
const ACTIVATION: Msg = Msg { en: "Activation (relu, tanh)", zh: "激活函数（relu、tanh）" };
const INIT_SCALE: Msg = Msg { en: "Initial weights ×", zh: "初始权重 ×" };
const BIAS: Msg = Msg { en: "Bias (1 or 0)", zh: "偏置（1 或 0）" };
const AFFINE: Msg = Msg { en: "Learnable γ, β (1 or 0)", zh: "可学习的 γ、β（1 或 0）" };
const BN_MOMENTUM: Msg = Msg { en: "BatchNorm momentum", zh: "BatchNorm 动量" };
const NOISE: Msg = Msg { en: "Noisy BatchNorm strength", zh: "带噪声 BatchNorm 的强度" };
const SGD_MOMENTUM: Msg = Msg { en: "SGD momentum", zh: "SGD 动量" };
const WEIGHT_DECAY: Msg = Msg { en: "Weight decay", zh: "权重衰减" };
const LR_DROP: Msg = Msg { en: "Learning-rate drop (share:factor)", zh: "学习率下降（比例:倍数）" };
const NO_DROP: Msg = Msg { en: "none", zh: "无" };

/// One class of the student's folder as the preview shows it.
#[derive(Clone, Debug, PartialEq)]
struct PreviewClass {
    name: String,
    images: usize,
    train: usize,
    test: usize,
    /// `data:` addresses of its first few images, as the model reads them.
    thumbnails: Vec<String>,
}

fn preview_classes(pool: &ImagePool) -> Vec<PreviewClass> {
    let side = pool.shape.side();
    pool.classes
        .iter()
        .enumerate()
        .map(|(i, class)| PreviewClass {
            name: class.name.clone(),
            images: class.images.len(),
            train: class.images.len() - class.test_count(),
            test: class.test_count(),
            thumbnails: pool.preview(i).iter().filter_map(|rgba| image_files::thumbnail_url(rgba, side)).collect(),
        })
        .collect()
}

/// `text` with each of `names` (the student's file names) set as code: they are names, not
/// words of the page's language.
fn with_code(text: &str, names: &[String]) -> Vec<AnyView> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let next = names
            .iter()
            .filter(|n| !n.is_empty())
            .filter_map(|n| rest.find(n.as_str()).map(|at| (at, n)))
            .min_by_key(|&(at, _)| at);
        let Some((at, name)) = next else {
            parts.push(rest.to_string().into_any());
            return parts;
        };
        parts.push(rest[..at].to_string().into_any());
        parts.push(view! { <code>{name.clone()}</code> }.into_any());
        rest = &rest[at + name.len()..];
    }
}

/// The value of `key` in a configuration's link (None when the link leaves it out).
fn link_value(config: &ExperimentConfig, key: &str) -> Option<String> {
    config.to_query().split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
}

/// A setting typed as it appears in the link (`key=value`), for the settings that have no
/// control of their own; an empty field clears it with `clear` where the setting can be
/// absent. What it cannot be is said in `problem`, and the setting is left as it was.
#[component]
fn QuerySetting(
    id: &'static str,
    key: &'static str,
    label: Msg,
    config: RwSignal<ExperimentConfig>,
    problem: RwSignal<Option<crate::error::Words>>,
    #[prop(optional)] placeholder: Option<Msg>,
    #[prop(optional)] clear: Option<fn(&mut ExperimentConfig)>,
) -> impl IntoView {
    let lang = lang();
    let value = move || config.with(|c| link_value(c, key)).unwrap_or_default();
    view! {
        <div class="control">
            <label for=id>{tr(label)}</label>
            <input id=id type="text" spellcheck="false"
                placeholder=move || placeholder.map(|p| p.get(lang.get())).unwrap_or_default()
                prop:value=value
                on:change=move |ev| {
                    let typed = event_target_value(&ev).trim().to_string();
                    match (typed.is_empty(), clear) {
                        (true, Some(clear)) => {
                            config.update(clear);
                            problem.set(None);
                        }
                        _ => {
                            let (changed, problems) = config.with_untracked(|c| c.with_query(&format!("{key}={typed}")));
                            config.set(changed);
                            problem.set(problems.into_iter().next());
                        }
                    }
                } />
        </div>
    }
}

/// The norm choices of the selector: (URL name, label).
const NORMS: [(&str, Msg); 9] = [
    ("none", Msg { en: "none", zh: "无" }),
    ("batch", Msg { en: "BatchNorm", zh: "BatchNorm" }),
    ("layer", Msg { en: "LayerNorm", zh: "LayerNorm" }),
    ("instance", Msg { en: "InstanceNorm (CNN)", zh: "InstanceNorm（CNN）" }),
    ("group4", Msg { en: "GroupNorm, 4 groups", zh: "GroupNorm，4 组" }),
    ("group8", Msg { en: "GroupNorm, 8 groups", zh: "GroupNorm，8 组" }),
    ("rms", Msg { en: "RMSNorm", zh: "RMSNorm" }),
    ("l1", Msg { en: "L1 normalization", zh: "L1 归一化" }),
    ("linf", Msg { en: "L∞ normalization", zh: "L∞ 归一化" }),
];

#[component]
pub fn Playground(lesson: &'static str) -> impl IntoView {
    let page = expect_context::<Page>();
    let trainer = expect_context::<Trainer>();
    let lang = lang();
    let (opened, problems) = ExperimentConfig::from_query(&page.initial_query(lesson).unwrap_or_default());
    let config = RwSignal::new(opened);
    // What the last setting typed into a text field could not be, in words.
    let setting_problem: RwSignal<Option<crate::error::Words>> = RwSignal::new(None);

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
    let norm_name = move || config.with(|c| c.model.norms.first().copied().unwrap_or_default().name());
    let clip_kind = move || clip_kind_code(config.with(|c| c.clip));
    let clip_amount = move || clip_amount(config.with(|c| c.clip));

    // The decision regions of the last run on 2-D data, and that data's test points.
    let boundary: RwSignal<Option<Vec<(usize, f32)>>> = RwSignal::new(None);
    let points: RwSignal<Vec<(f32, f32, usize)>> = RwSignal::new(Vec::new());
    // The student's file: its name, what became of it, and whether that is an error.
    let file_status: RwSignal<Option<(String, String, bool)>> = RwSignal::new(None);
    let toy = move || config.with(|c| matches!(c.dataset, DatasetId::Moons | DatasetId::Circles | DatasetId::Spirals));
    let train = move |_| {
        let c = config.get_untracked();
        page.set_settings_query(&c.to_query());
        let l = lang.get_untracked();
        let data = if l == Lang::Zh { c.dataset.title_zh() } else { c.dataset.title() };
        let label = format!("{data} · {}", words(&c.label_words(), l));
        let mut request = RunRequest::new(c.clone(), label);
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
        trainer.start(GROUP, None, vec![request], move |event| {
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
            let size = file.size() / 1e6;
            file_status.set(Some((
                file.name(),
                pick(
                    l,
                    format!("{size:.0} MB, far more than a CIFAR-10 batch file (31 MB); it was not read."),
                    format!("{size:.0} MB，远大于一个 CIFAR-10 批文件（31 MB）；没有读取它。"),
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
                    file_status.set(Some((name, format!("{e:?}"), true)));
                    return;
                }
            };
            match use_file(DatasetId::Cifar10, &bytes) {
                Ok(data) => {
                    let (train, test) = (data.train.len, data.test.len);
                    file_status.set(Some((
                        name,
                        pick(
                            l,
                            format!("{train} images for training, {test} for testing."),
                            format!("{train} 张用于训练，{test} 张用于测试。"),
                        ),
                        false,
                    )));
                    config.update(|c| c.dataset = DatasetId::Cifar10);
                }
                Err(e) => file_status.set(Some((name, error_words(&e, l), true))),
            }
        });
    };
    // The student's folder of images: its files (kept to decode again at another size),
    // what they became before the split (kept so the split follows the seed), the preview,
    // what became of it in words, and how far the decoding is.
    let images_shape = RwSignal::new(ImageShape::Grey28);
    let folder_files: StoredValue<Vec<FolderFile>, LocalStorage> = StoredValue::new_local(Vec::new());
    let image_pool: StoredValue<Option<ImagePool>, LocalStorage> = StoredValue::new_local(None);
    let preview: RwSignal<Vec<PreviewClass>> = RwSignal::new(Vec::new());
    let images_status: RwSignal<Option<Result<crate::error::Words, crate::error::NormlabError>>> = RwSignal::new(None);
    let reading: RwSignal<Option<(usize, usize)>> = RwSignal::new(None);
    let read_images = move |files: Vec<FolderFile>| {
        if reading.get_untracked().is_some() {
            return;
        }
        folder_files.set_value(files.clone());
        let shape = images_shape.get_untracked();
        reading.set(Some((0, 0)));
        leptos::task::spawn_local(async move {
            let result = image_files::read_folder(&files, shape, |done, total| reading.set(Some((done, total)))).await;
            reading.set(None);
            match result {
                Ok(pool) => {
                    let seed = config.with_untracked(|c| c.seed);
                    use_dataset(DatasetId::ImageFolder, pool.split(seed));
                    preview.set(preview_classes(&pool));
                    let summary = pool.summary(seed);
                    // The pool first: the status names its unreadable files as code.
                    image_pool.set_value(Some(pool));
                    images_status.set(Some(Ok(summary)));
                    config.update(|c| c.dataset = DatasetId::ImageFolder);
                }
                Err(e) => {
                    preview.set(Vec::new());
                    image_pool.set_value(None);
                    images_status.set(Some(Err(e)));
                }
            }
        });
    };
    // The split follows the run's seed: a new seed splits the same images anew.
    let seed = Memo::new(move |_| config.with(|c| c.seed));
    Effect::new(move |_| {
        let seed = seed.get();
        image_pool.with_value(|pool| {
            if let Some(pool) = pool {
                use_dataset(DatasetId::ImageFolder, pool.split(seed));
                images_status.set(Some(Ok(pool.summary(seed))));
            }
        });
    });
    // The picker chooses a folder (`webkitdirectory`, which the view macro has no name for).
    let folder_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            input.set_webkitdirectory(true);
        }
    });
    let pick_folder = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(files) = input.files() else { return };
        read_images(image_files::from_picker(&files));
    };
    let drop_folder = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        let Some(transfer) = ev.data_transfer() else { return };
        let entries = image_files::dropped_entries(&transfer);
        if entries.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match image_files::walk(entries).await {
                Ok(files) => read_images(files),
                Err(e) => images_status.set(Some(Err(e))),
            }
        });
    };
    let draw_boundary = move |root: &CanvasArea| {
        let Some(cells) = boundary.get() else { return Ok(Drawn::default()) };
        let data = draw_decision_boundary(
            root,
            BOUNDARY.get(lang.get()),
            BOUNDARY_EXTENT,
            BOUNDARY_RESOLUTION,
            &cells,
            &points.get(),
        )?;
        Ok(Drawn { summary: serde_json::json!({ "cells": cells.len() }).to_string(), data: Some(data) })
    };
    view! {
        <div class="widget playground">
            {(!problems.is_empty()).then(|| view! {
                <p class="note" role="status">{tr(SETTINGS_IGNORED)}": "
                    {move || problems.iter().map(|p| words(p, lang.get()).to_string()).collect::<Vec<_>>().join("; ")}</p>
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
                        {[DatasetId::FashionMnist, DatasetId::Mnist, DatasetId::Moons, DatasetId::Circles, DatasetId::Spirals, DatasetId::Cifar10, DatasetId::ImageFolder]
                            .map(|d| view! { <option value=d.name()>{move || if lang.get() == Lang::Zh { d.title_zh() } else { d.title() }}</option> })
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
                        prop:value=move || config.with(|c| match c.model.architecture { Architecture::Cnn { .. } => "cnn", _ => "mlp" })
                        on:change=move |ev| {
                            let cnn = event_target_value(&ev) == "cnn";
                            set(Box::new(move |c| c.model.architecture = if cnn { Architecture::notes_cnn() } else { Architecture::Mlp { hidden: vec![256, 256] } }));
                        }>
                        <option value="mlp">"MLP"</option>
                        <option value="cnn">"CNN"</option>
                    </select>
                </div>
                <Show when=move || config.with(|c| matches!(c.model.architecture, Architecture::Cnn { .. }))>
                    <QuerySetting id="pg-channels" key="channels" label=CHANNELS config=config problem=setting_problem />
                </Show>
                <QuerySetting id="pg-hidden" key="hidden" label=HIDDEN config=config problem=setting_problem />
                <div class="control">
                    <label for="pg-norm">{tr(NORMALIZATION)}</label>
                    <select id="pg-norm" prop:value=norm_name
                        on:change=move |ev| {
                            if let Some(kind) = NormKind::parse(&event_target_value(&ev)) {
                                // InstanceNorm needs positions: in the CNN it goes on the conv
                                // blocks only, as nn.InstanceNorm2d would.
                                set(Box::new(move |c| {
                                    c.model.norms = match (&c.model.architecture, kind) {
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
                        {NORMS.iter().map(|&(value, label)| view! { <option value=value>{tr(label)}</option> }).collect_view()}
                    </select>
                </div>
                <div class="control">
                    <label for="pg-place">{tr(PLACEMENT)}</label>
                    <select id="pg-place"
                        prop:value=move || if config.with(|c| c.model.placement) == Placement::After { "after" } else { "before" }
                        on:change=move |ev| {
                            let after = event_target_value(&ev) == "after";
                            set(Box::new(move |c| c.model.placement = if after { Placement::After } else { Placement::Before }));
                        }>
                        <option value="before">{tr(BEFORE)}</option>
                        <option value="after">{tr(AFTER)}</option>
                    </select>
                </div>
                <div class="control">
                    <label for="pg-dropout">{tr(DROPOUT)}</label>
                    <input id="pg-dropout" type="range" min="0" max="1" step="0.05"
                        prop:value=move || config.with(|c| c.model.dropout).to_string()
                        on:input=move |ev| {
                            if let Ok(p) = event_target_value(&ev).parse::<f32>() {
                                set(Box::new(move |c| c.model.dropout = p));
                            }
                        } />
                    <output for="pg-dropout">{move || format!("{:.2}", config.with(|c| c.model.dropout))}</output>
                </div>
                <div class="control">
                    <label for="pg-opt">{tr(OPTIMIZER)}</label>
                    <select id="pg-opt" prop:value=move || config.with(|c| c.optimizer.name())
                        on:change=move |ev| {
                            let adam = event_target_value(&ev) == "adam";
                            set(Box::new(move |c| c.optimizer = if adam { Optimizer::adam() } else { Optimizer::sgd_momentum() }));
                        }>
                        <option value="sgd">{move || pick(lang.get(), "SGD, momentum 0.9".into(), "SGD，动量 0.9".into())}</option>
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
                            set(Box::new(move |c| c.clip = clip_of_kind(&kind, amount).unwrap_or(GradClip::None)));
                        }>
                        <option value="none">{tr(NONE)}</option>
                        <option value="norm">{tr(CLIP_NORM)}</option>
                        <option value="norm-l1">{tr(CLIP_NORM_L1)}</option>
                        <option value="norm-inf">{tr(CLIP_NORM_INF)}</option>
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
                                    set(Box::new(move |c| {
                                        c.clip = clip_of_kind(clip_kind_code(c.clip), a).unwrap_or(c.clip)
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
                <details class="advanced">
                    <summary>{tr(MORE_SETTINGS)}</summary>
                    <div class="controls inner">
                        <QuerySetting id="pg-norms" key="norm" label=NORMS_PER_BLOCK config=config problem=setting_problem />
                        <QuerySetting id="pg-train-subset" key="train" label=TRAIN_SUBSET config=config problem=setting_problem
                            placeholder=ALL clear=|c: &mut ExperimentConfig| c.train_subset = None />
                        <QuerySetting id="pg-test-subset" key="test" label=TEST_SUBSET config=config problem=setting_problem
                            placeholder=ALL clear=|c: &mut ExperimentConfig| c.test_subset = None />
                        <QuerySetting id="pg-batches" key="batches" label=BATCHES_CAP config=config problem=setting_problem
                            placeholder=ALL clear=|c: &mut ExperimentConfig| c.max_batches_per_epoch = None />
                        <QuerySetting id="pg-act" key="act" label=ACTIVATION config=config problem=setting_problem />
                        <QuerySetting id="pg-init" key="init" label=INIT_SCALE config=config problem=setting_problem />
                        <QuerySetting id="pg-bias" key="bias" label=BIAS config=config problem=setting_problem />
                        <QuerySetting id="pg-affine" key="affine" label=AFFINE config=config problem=setting_problem />
                        <QuerySetting id="pg-momentum" key="momentum" label=BN_MOMENTUM config=config problem=setting_problem />
                        <QuerySetting id="pg-noise" key="noise" label=NOISE config=config problem=setting_problem />
                        <QuerySetting id="pg-sgdm" key="sgdm" label=SGD_MOMENTUM config=config problem=setting_problem />
                        <QuerySetting id="pg-wd" key="wd" label=WEIGHT_DECAY config=config problem=setting_problem />
                        <QuerySetting id="pg-drop" key="drop" label=LR_DROP config=config problem=setting_problem
                            placeholder=NO_DROP clear=|c: &mut ExperimentConfig| c.lr_drop = None />
                    </div>
                </details>
                {move || setting_problem.get().map(|p| view! {
                    <p class="note settings" role="status">{words(&p, lang.get()).to_string()}</p>
                })}
                <p class="muted settings" id="pg-summary">{move || config.with(|c| words(&c.label_words(), lang.get()).to_string())}</p>
                <TrainButton id="pg-train" label=TRAIN on_click=train />
            </div>
            <p class="muted">{tr(FILE_HINT)}" "<code>"data_batch_1.bin"</code></p>
            {move || file_status.get().map(|(name, text, error)| view! {
                <p class=if error { "alert" } else { "note" } role=if error { "alert" } else { "status" } id="pg-file-status">
                    <code>{name}</code>{move || if lang.get() == Lang::Zh { "：" } else { ": " }}{text}
                </p>
            })}
            <section class="own-images" id="pg-images" aria-labelledby="pg-images-title"
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:drop=drop_folder>
                <p class="own-images-title" id="pg-images-title"><strong>{tr(IMAGES_TITLE)}</strong>
                    <span class="muted">" · "{tr(IMAGES_DROP)}</span></p>
                <div class="own-images-controls">
                    <div class="control file">
                        <label for="pg-folder">{tr(IMAGES_FOLDER)}</label>
                        <input id="pg-folder" type="file" multiple=true node_ref=folder_input
                            prop:disabled=move || reading.get().is_some() on:change=pick_folder />
                    </div>
                    <div class="control">
                        <label for="pg-images-shape">{tr(IMAGES_SHAPE)}</label>
                        <select id="pg-images-shape" prop:value=move || images_shape.get().name()
                            prop:disabled=move || reading.get().is_some()
                            on:change=move |ev| {
                                if let Some(shape) = ImageShape::parse(&event_target_value(&ev)) {
                                    images_shape.set(shape);
                                    let files = folder_files.get_value();
                                    if !files.is_empty() {
                                        read_images(files);
                                    }
                                }
                            }>
                            <option value="grey28">{tr(IMAGES_GREY)}</option>
                            <option value="colour32">{tr(IMAGES_COLOUR)}</option>
                        </select>
                    </div>
                </div>
                <p class="muted">{tr(IMAGES_HINT)}</p>
                {move || reading.get().map(|(done, total)| view! {
                    <p class="note" role="status" id="pg-images-reading">{tr(IMAGES_READING)}
                        {(total > 0).then(|| format!(" {done} / {total}"))}</p>
                })}
                {move || images_status.get().map(|status| {
                    let l = lang.get();
                    match status {
                        Ok(summary) => {
                            let names = image_pool.with_value(|p| p.as_ref().map(|p| p.unreadable.iter().map(|(path, _)| path.clone()).collect::<Vec<_>>()).unwrap_or_default());
                            view! { <p class="note" role="status" id="pg-images-status">{with_code(words(&summary, l), &names)}</p> }.into_any()
                        }
                        Err(e) => view! { <p class="alert" role="alert" id="pg-images-status">{error_words(&e, l)}</p> }.into_any(),
                    }
                })}
                <div class="image-preview" id="pg-images-preview">
                    <For each=move || preview.get() key=|c| (c.name.clone(), c.images, c.thumbnails.first().cloned()) let:class>
                        <figure class="image-class" data-class=class.name.clone() data-count=class.images>
                            <figcaption><code>{class.name.clone()}</code>" "
                                <span class="count">{class.images}" "{tr(IMAGES_COUNT)}</span>
                                <span class="muted split">{move || pick(lang.get(),
                                    format!("{} train · {} test", class.train, class.test),
                                    format!("训练 {} · 测试 {}", class.train, class.test))}</span>
                            </figcaption>
                            <div class="thumbs">
                                {class.thumbnails.iter().map(|url| view! { <img src=url.clone() alt="" width="28" height="28" /> }).collect_view()}
                            </div>
                        </figure>
                    </For>
                </div>
            </section>
            <TrainingChart group=GROUP id="pg-chart" title=TITLE />
            <Show when=move || toy() && boundary.with(|b| b.is_some())>
                <ChartCanvas id="pg-boundary" draw=draw_boundary width=520 height=520
                    label=Signal::derive(move || BOUNDARY.get(lang.get()).to_string()) />
            </Show>
            <RunPanel group=GROUP />
        </div>
    }
}
