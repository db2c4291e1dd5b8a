//! Lesson 11: normalization in a sequence model. The transformer on whole names with each
//! norm a sequence model may use (and BatchNorm's loss in train against eval mode), trained
//! on short names and evaluated position by position on longer ones, and pre- against
//! post-LayerNorm with and without a warm-up.

use leptos::prelude::*;

use super::{labelled_runs, PresetChoice, TrainButton, TrainingChart};
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{Preset, PLACEMENT_BLOCKS, SEQUENCE_BLOCKS, SEQUENCE_HEADS, TRAIN_LETTERS};
use crate::nn::{NormKind, NormPosition};
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::{JobEvent, RunRequest, Trainer};
use crate::ui::widgets::attention_map::{AttentionMap, LabelledModels};
use crate::ui::widgets::empty_chart_message;

const TRAIN_ALL: Msg = Msg { en: "Train all of them", zh: "全部训练" };
const TRAIN_THREE: Msg = Msg { en: "Train all three", zh: "三个都训练" };
const NORMS_TITLE: Msg = Msg {
    en: "The transformer on names: each norm, loss per character",
    zh: "名字上的 Transformer：各种归一化，每个字符的损失",
};
const MODES_CAPTION: Msg = Msg {
    en: "Held-out loss per character after the last epoch, in eval mode and with the batch's statistics",
    zh: "最后一轮之后的留出集每字符损失：评估模式，与使用批统计量",
};
const NORM: Msg = Msg { en: "norm", zh: "归一化" };
const SAMPLES: Msg = Msg {
    en: "Names each model writes (eval mode, one character at a time)",
    zh: "每个模型写出的名字（评估模式，一次一个字符）",
};
const NOTHING_WRITTEN: Msg = Msg {
    en: "Nothing: the model ends every name at once, or its outputs are not numbers.",
    zh: "什么也没写出：模型一开始就结束名字，或者它的输出已不是有限的数。",
};
/// How many names each model of the norms piece writes.
const SAMPLED_NAMES: usize = 8;
const EVAL_MODE: Msg = Msg { en: "eval mode", zh: "评估模式" };
const BATCH_STATS: Msg = Msg { en: "batch statistics", zh: "批统计量" };
const GAP: Msg = Msg { en: "gap", zh: "差" };
const LENGTH_TITLE: Msg = Msg {
    en: "Trained on names of at most 6 letters: held-out loss by position (log scale)",
    zh: "只用不超过 6 个字母的名字训练：留出集各位置的损失（对数坐标）",
};
const LENGTH_CURVES: Msg =
    Msg { en: "Trained on short names: loss per character", zh: "只用短名字训练：每个字符的损失" };
const POSITION: Msg = Msg {
    en: "position of the predicted character (1 = first letter)",
    zh: "被预测字符的位置（1 = 第一个字母）",
};
const LOSS_AXIS: Msg =
    Msg { en: "loss per character (nats, log scale)", zh: "每字符损失（nat，对数坐标）" };
const PLACEMENT_TITLE: Msg = Msg {
    en: "Six blocks at learning rate 0.005: pre- vs post-LayerNorm, loss per character",
    zh: "六个块、学习率 0.005：Pre-LN 与 Post-LN，每个字符的损失",
};
const GRAD_TITLE: Msg = Msg {
    en: "Global gradient norm at every step (log scale)",
    zh: "每一步的全局梯度范数（对数坐标）",
};
const STEP: Msg = Msg { en: "training step", zh: "训练步" };
const INIT_TITLE: Msg = Msg {
    en: "Before the first step: gradient norm of each block's MLP output weight W₂ (log scale)",
    zh: "第一步之前：每个块 MLP 输出权重 W₂ 的梯度范数（对数坐标）",
};
const BLOCK_AXIS: Msg = Msg { en: "block (1 = nearest the input)", zh: "块（1 = 最靠近输入）" };
const NORM_AXIS: Msg = Msg { en: "‖g‖ (log scale)", zh: "‖g‖（对数坐标）" };

/// A sequence model's norm and where it sits, in words.
fn norm_name(norm: NormKind, position: NormPosition, lang: Lang) -> String {
    let (en, zh) = match (norm, position) {
        (NormKind::Layer, NormPosition::Pre) => ("pre-LayerNorm", "Pre-LayerNorm"),
        (NormKind::Layer, NormPosition::Post) => ("post-LayerNorm", "Post-LayerNorm"),
        (NormKind::Rms, _) => ("RMSNorm", "RMSNorm"),
        (NormKind::Batch, _) => ("BatchNorm over the real tokens", "BatchNorm（所有真实词元）"),
        (NormKind::BatchPerPosition, _) => ("BatchNorm per position", "逐位置 BatchNorm"),
        (NormKind::None, _) => ("no norm", "不做归一化"),
        (other, _) => return other.name(),
    };
    pick(lang, en.into(), zh.into())
}

fn warmup_name(position: NormPosition, warmup: bool, lang: Lang) -> String {
    let name = norm_name(NormKind::Layer, position, lang);
    if warmup {
        pick(lang, format!("{name} + warm-up"), format!("{name} + 预热"))
    } else {
        name
    }
}

/// The label of one of the lesson's runs, from its key.
fn label(key: VariantKey, lang: Lang) -> Option<String> {
    match key {
        VariantKey::SequenceNorm { norm, position } => Some(norm_name(norm, position, lang)),
        VariantKey::Warmup { position, warmup } => Some(warmup_name(position, warmup, lang)),
        _ => None,
    }
}

fn plan(piece: LivePiece, lang: RwSignal<Lang>) -> impl Fn(Preset) -> Vec<RunRequest> + Copy {
    move |p: Preset| {
        let l = lang.get_untracked();
        labelled_runs(piece.variants(p), l, |v| label(v.key, l))
    }
}

/// Starts a piece's runs, each request changed by `ask`, and hands `keep` what `take`
/// finds in a run's events, with the run's label.
fn start_labelled<T: 'static>(
    trainer: Trainer,
    group: &'static str,
    preset: Preset,
    mut runs: Vec<RunRequest>,
    ask: impl Fn(&mut RunRequest),
    take: impl Fn(JobEvent) -> Option<(usize, T)> + 'static,
    keep: impl Fn((String, T)) + 'static,
) {
    runs.iter_mut().for_each(ask);
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    trainer.start(group, Some(preset), runs, move |event| {
        if let Some((run, value)) = take(event) {
            keep((labels.get(run).cloned().unwrap_or_default(), value));
        }
    });
}

#[component]
pub fn SeqNorms() -> impl IntoView {
    const GROUP: &str = "l11/norms";
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let plan = plan(LivePiece::SeqNorms, lang);
    // The names each model writes, in the order of its runs.
    let sampled: RwSignal<Vec<(String, Vec<String>)>> = RwSignal::new(Vec::new());
    let train = move |_| {
        sampled.set(Vec::new());
        let runs = plan(preset.get_untracked());
        let ask = |run: &mut RunRequest| run.sample_names = SAMPLED_NAMES;
        let names = |event| match event {
            JobEvent::Names { run, names } => Some((run, names)),
            _ => None,
        };
        start_labelled(trainer, GROUP, preset.get_untracked(), runs, ask, names, move |n| {
            sampled.update(|s| s.push(n))
        });
    };
    let samples = move || {
        sampled
            .get()
            .into_iter()
            .map(|(label, names)| {
                let names = if names.iter().all(|n| n.is_empty()) {
                    view! { <p class="note">{tr(NOTHING_WRITTEN)}</p> }.into_any()
                } else {
                    view! { <ul class="names">{names.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul> }
                        .into_any()
                };
                view! { <div class="samples"><h4>{label}</h4>{names}</div> }
            })
            .collect_view()
    };
    // The last epoch of each finished run: its loss in eval mode and with batch statistics.
    let rows = move || {
        store
            .group(GROUP)
            .into_iter()
            .filter_map(|r| {
                let last = r.series.epochs.last()?.clone();
                let batch_stats = last.test_loss_batch_stats?;
                let gap = last.test_loss - batch_stats;
                let cells = [format_loss(last.test_loss), format_loss(batch_stats), format_loss(gap)];
                Some(view! {
                    <tr>
                        <td>{r.series.label.clone()}</td>
                        {cells.into_iter().map(|c| view! { <td class="number">{c}</td> }).collect_view()}
                    </tr>
                })
            })
            .collect_view()
    };
    view! {
        <div class="widget seq-norms">
            <div class="controls">
                <PresetChoice name="l11-norms-preset" value=preset plan=plan />
                <TrainButton id="l11-norms-train" label=TRAIN_ALL on_click=train />
            </div>
            <TrainingChart group=GROUP id="l11-norms-chart" title=NORMS_TITLE />
            <table class="seq-modes" id="l11-modes">
                <caption>{tr(MODES_CAPTION)}</caption>
                <thead>
                    <tr><th>{tr(NORM)}</th><th>{tr(EVAL_MODE)}</th><th>{tr(BATCH_STATS)}</th><th>{tr(GAP)}</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <h3>{tr(SAMPLES)}</h3>
            <div class="sampled" id="l11-samples">{samples}</div>
            <RunPanel group=GROUP />
        </div>
    }
}

/// A loss as the table shows it: three decimals, or in scientific notation when huge.
fn format_loss(loss: f32) -> String {
    if !loss.is_finite() {
        "∞".into()
    } else if loss.abs() >= 1e4 {
        format!("{loss:.2e}")
    } else {
        format!("{loss:.3}")
    }
}

#[component]
pub fn SeqLength() -> impl IntoView {
    const GROUP: &str = "l11/length";
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let plan = plan(LivePiece::SeqLength, lang);
    let train = move |_| {
        trainer.start(GROUP, Some(preset.get_untracked()), plan(preset.get_untracked()), |_| {});
    };
    let draw = move |root: &CanvasArea| {
        let l = lang.get();
        let lines: Vec<Line> = store
            .group(GROUP)
            .into_iter()
            .filter_map(|r| {
                let last = r.series.epochs.last()?;
                (!last.position_losses.is_empty()).then(|| Line {
                    label: r.series.label.clone(),
                    points: last.position_losses.iter().map(|p| ((p.position + 1) as f64, p.loss as f64)).collect(),
                    colour: r.series.colour,
                    style: LineStyle::SolidWithPoints,
                })
            })
            .collect();
        let plot = LinePlot {
            title: LENGTH_TITLE.get(l),
            x_label: POSITION.get(l),
            y_label: LOSS_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        let summary: Vec<(String, Vec<(f64, f64)>)> =
            lines.iter().map(|l| (l.label.clone(), l.points.clone())).collect();
        Ok(Drawn {
            summary: serde_json::json!({ "train_letters": TRAIN_LETTERS, "lines": summary }).to_string(),
            data: Some(data),
        })
    };
    view! {
        <div class="widget seq-length">
            <div class="controls">
                <PresetChoice name="l11-length-preset" value=preset plan=plan />
                <TrainButton id="l11-length-train" label=TRAIN_ALL on_click=train />
            </div>
            <ChartCanvas id="l11-length-positions" empty_message=empty_chart_message() draw=draw height=340 label=Signal::derive(move || LENGTH_TITLE.get(lang.get()).to_string()) />
            <TrainingChart group=GROUP id="l11-length-chart" title=LENGTH_CURVES />
            <RunPanel group=GROUP />
        </div>
    }
}

const ONE_CAPTION: Msg = Msg {
    en: "One held-out name's loss per character, alone against in a batch of 32: the largest difference over its characters",
    zh: "一个留出名字的每字符损失，单独计算与在 32 个名字的批中计算：各字符上的最大差别",
};
const NAME: Msg = Msg { en: "name", zh: "名字" };
const EVAL_DIFF: Msg = Msg { en: "eval mode", zh: "评估模式" };
const TRAIN_DIFF: Msg = Msg { en: "training mode (batch statistics)", zh: "训练模式（批统计量）" };
const PADDING_DIFF: Msg = Msg {
    en: "training mode: among short names against among long ones",
    zh: "训练模式：与短名字同批和与长名字同批之差",
};

/// The largest absolute difference between two lists of losses.
fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[component]
pub fn SeqBatchOne() -> impl IntoView {
    const GROUP: &str = "l11/batch-one";
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let plan = plan(LivePiece::SeqBatchOne, lang);
    let models: LabelledModels = RwSignal::new_local(Vec::new());
    let train = move |_| {
        models.set(Vec::new());
        let runs = plan(preset.get_untracked());
        let ask = |run: &mut RunRequest| run.keep_model = true;
        let model = |event| match event {
            JobEvent::Trained { run, model } => Some((run, model)),
            _ => None,
        };
        start_labelled(trainer, GROUP, preset.get_untracked(), runs, ask, model, move |m| {
            models.update(|all| all.push(m))
        });
    };
    let rows = move || {
        let l = lang.get();
        store
            .group(GROUP)
            .into_iter()
            .filter_map(|r| {
                let one = r.series.epochs.last()?.batch_of_one.clone()?;
                let eval = format!("{:.1e}", largest_difference(&one.in_batch_eval, &one.alone_eval));
                let train = match (&one.alone_batch_stats, &one.refusal) {
                    (Some(alone), _) => format!("{:.1e}", largest_difference(&one.in_batch_batch_stats, alone)),
                    (None, Some([en, zh])) => pick(l, en.clone(), zh.clone()),
                    (None, None) => "–".into(),
                };
                let padding = if one.among_short_names.is_empty() {
                    "–".to_string()
                } else {
                    format!("{:.1e}", largest_difference(&one.among_short_names, &one.among_long_names))
                };
                Some(view! {
                    <tr>
                        <td>{r.series.label.clone()}</td>
                        <td>{one.name}</td>
                        <td class="number">{eval}</td>
                        <td class="number">{train}</td>
                        <td class="number">{padding}</td>
                    </tr>
                })
            })
            .collect_view()
    };
    view! {
        <div class="widget seq-batch-one">
            <div class="controls">
                <PresetChoice name="l11-one-preset" value=preset plan=plan />
                <TrainButton id="l11-one-train" label=TRAIN_ALL on_click=train />
            </div>
            <table class="seq-modes" id="l11-batch-one">
                <caption>{tr(ONE_CAPTION)}</caption>
                <thead>
                    <tr><th>{tr(NORM)}</th><th>{tr(NAME)}</th><th>{tr(EVAL_DIFF)}</th><th>{tr(TRAIN_DIFF)}</th><th>{tr(PADDING_DIFF)}</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <AttentionMap models=models blocks=SEQUENCE_BLOCKS heads=SEQUENCE_HEADS />
            <RunPanel group=GROUP />
        </div>
    }
}

#[component]
pub fn SeqPlacement() -> impl IntoView {
    const GROUP: &str = "l11/placement";
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let plan = plan(LivePiece::SeqPlacement, lang);
    let train = move |_| {
        trainer.start(GROUP, Some(preset.get_untracked()), plan(preset.get_untracked()), |_| {});
    };
    let draw = move |root: &CanvasArea| {
        let l = lang.get();
        let lines: Vec<Line> = store
            .group(GROUP)
            .into_iter()
            .map(|r| {
                let per_epoch = r.series.grad_norms.iter().filter(|p| p.0 <= 1.0).count().max(1) as f64;
                Line {
                    label: r.series.label.clone(),
                    points: r.series.grad_norms.iter().map(|&(x, before, _)| (x * per_epoch, before as f64)).collect(),
                    colour: r.series.colour,
                    style: LineStyle::Solid,
                }
            })
            .collect();
        let plot = LinePlot {
            title: GRAD_TITLE.get(l),
            x_label: STEP.get(l),
            y_label: NORM_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        Ok(Drawn {
            summary: serde_json::json!(lines.iter().map(|l| (l.label.clone(), l.points.len())).collect::<Vec<_>>())
                .to_string(),
            data: Some(data),
        })
    };
    let draw_init = move |root: &CanvasArea| {
        let l = lang.get();
        let lines: Vec<Line> = store
            .group(GROUP)
            .into_iter()
            .filter_map(|r| {
                let measured = r.series.gradients_at_init.as_ref()?;
                Some(Line {
                    label: r.series.label.clone(),
                    points: measured.mlp_output.iter().enumerate().map(|(b, &g)| ((b + 1) as f64, g as f64)).collect(),
                    colour: r.series.colour,
                    // The warm-up changes the learning rate only: its line lies on post-LN's.
                    style: if r.config.warmup_steps.is_some() { LineStyle::Dashed } else { LineStyle::SolidWithPoints },
                })
            })
            .collect();
        let plot = LinePlot {
            title: INIT_TITLE.get(l),
            x_label: BLOCK_AXIS.get(l),
            y_label: NORM_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        let summary: Vec<(String, Vec<(f64, f64)>)> =
            lines.iter().map(|l| (l.label.clone(), l.points.clone())).collect();
        Ok(Drawn {
            summary: serde_json::json!({ "blocks": PLACEMENT_BLOCKS, "lines": summary }).to_string(),
            data: Some(data),
        })
    };
    view! {
        <div class="widget seq-placement">
            <div class="controls">
                <PresetChoice name="l11-placement-preset" value=preset plan=plan />
                <TrainButton id="l11-placement-train" label=TRAIN_THREE on_click=train />
            </div>
            <TrainingChart group=GROUP id="l11-placement-chart" title=PLACEMENT_TITLE />
            <ChartCanvas id="l11-placement-init" empty_message=empty_chart_message() draw=draw_init height=320 label=Signal::derive(move || INIT_TITLE.get(lang.get()).to_string()) />
            <ChartCanvas id="l11-placement-grads" empty_message=empty_chart_message() draw=draw height=320 label=Signal::derive(move || GRAD_TITLE.get(lang.get()).to_string()) />
            <RunPanel group=GROUP />
        </div>
    }
}
