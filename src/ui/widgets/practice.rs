//! Lesson 9: practice. BatchNorm before or after the activation; the bias right before a
//! BatchNorm, whose gradient is zero; gradient clipping rescuing a diverging run, with the
//! gradient norm of every step charted against the threshold.

use leptos::prelude::*;

use super::comparison::Comparison;
use super::{labelled_runs, PresetChoice, TrainButton, TrainingChart};
use crate::backend::GradClip;
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{Preset, CLIPS};
use crate::experiment::ProbeReport;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::{JobEvent, Trainer};
use crate::ui::widgets::empty_chart_message;

const PLACEMENT_TITLE: Msg =
    Msg { en: "BatchNorm before vs after the ReLU", zh: "BatchNorm 放在 ReLU 之前与之后" };
const BEFORE: Msg = Msg { en: "BN before ReLU", zh: "BN 在 ReLU 之前" };
const AFTER: Msg = Msg { en: "BN after ReLU", zh: "BN 在 ReLU 之后" };
const BIAS_TITLE: Msg =
    Msg { en: "Bias on vs off before BatchNorm: training loss", zh: "BatchNorm 之前有无偏置：训练损失" };
const BIAS_NORMS: Msg = Msg {
    en: "Gradient norm of each bias (log scale): before a BatchNorm vs the output layer's",
    zh: "各偏置的梯度范数（对数坐标）：BatchNorm 之前的与输出层的",
};
const BIAS_ON: Msg = Msg { en: "bias before BN", zh: "BN 前有偏置" };
const BIAS_OFF: Msg = Msg { en: "no bias before BN", zh: "BN 前无偏置" };
const CLIP_TITLE: Msg = Msg {
    en: "No normalization at SGD lr 0.3: without and with clipping",
    zh: "不做归一化、SGD 学习率 0.3：不裁剪与裁剪",
};
const NORMS_TITLE: Msg = Msg {
    en: "Global gradient norm before clipping, every step (log scale)",
    zh: "每一步裁剪前的全局梯度范数（对数坐标）",
};
const STEP: Msg = Msg { en: "training step", zh: "训练步" };
const NORM_AXIS: Msg = Msg { en: "‖g‖ (log scale)", zh: "‖g‖（对数坐标）" };
const TRAIN_TWO: Msg = Msg { en: "Train both", zh: "两个都训练" };
const TRAIN_THREE: Msg = Msg { en: "Train all three", zh: "三个都训练" };
const HIDDEN: Msg = Msg { en: "hidden layer", zh: "隐藏层" };
const OUTPUT: Msg = Msg { en: "output layer", zh: "输出层" };

#[component]
pub fn Placement() -> impl IntoView {
    let make = move |preset: Preset, l: Lang| {
        labelled_runs(LivePiece::Placement.variants(preset), l, |v| match v.key {
            VariantKey::Placement(crate::nn::Placement::Before) => Some(BEFORE.get(l).to_string()),
            VariantKey::Placement(crate::nn::Placement::After) => Some(AFTER.get(l).to_string()),
            _ => None,
        })
    };
    view! {
        <Comparison group="l9/placement" ids=["l9-place-preset", "l9-place-train", "l9-place-chart"] title=PLACEMENT_TITLE button=TRAIN_TWO make=make />
    }
}

fn clip_name(clip: GradClip, lang: Lang) -> String {
    match clip {
        GradClip::None => pick(lang, "no clipping".into(), "不裁剪".into()),
        GradClip::Norm { max_norm, norm_type } => {
            let sub = norm_type.subscript();
            pick(lang, format!("clip by norm, ‖g‖{sub} ≤ {max_norm}"), format!("按范数裁剪，‖g‖{sub} ≤ {max_norm}"))
        }
        GradClip::Value { clip } => {
            pick(lang, format!("clip by value, |g| ≤ {clip}"), format!("按数值裁剪，|g| ≤ {clip}"))
        }
    }
}

#[component]
pub fn Clipping() -> impl IntoView {
    const GROUP: &str = "l9/clipping";
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        labelled_runs(LivePiece::Clipping.variants(p), l, |v| match v.key {
            VariantKey::Clip(clip) => Some(clip_name(clip, l)),
            _ => None,
        })
    };
    let train = move |_| {
        let runs = plan(preset.get_untracked());
        trainer.start(GROUP, Some(preset.get_untracked()), runs, |_| {});
    };
    let draw_norms = move |root: &CanvasArea| {
        let l = lang.get();
        let records = store.group(GROUP);
        // The latest run of each rule.
        let lines: Vec<Line> = CLIPS
            .iter()
            .filter_map(|&c| {
                let r = records.iter().rev().find(|r| r.config.clip == c)?;
                let per_epoch = r.series.grad_norms.iter().filter(|p| p.0 <= 1.0).count().max(1) as f64;
                Some(Line {
                    label: clip_name(c, l),
                    points: r.series.grad_norms.iter().map(|&(x, before, _)| (x * per_epoch, before as f64)).collect(),
                    colour: r.series.colour,
                    style: LineStyle::Solid,
                })
            })
            .collect();
        let threshold = [(1.0, pick(l, "max_norm = 1".into(), "max_norm = 1".into()))];
        let plot = LinePlot {
            title: NORMS_TITLE.get(l),
            x_label: STEP.get(l),
            y_label: NORM_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &threshold,
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        Ok(Drawn {
            summary: serde_json::json!(lines.iter().map(|l| (l.label.clone(), l.points.len())).collect::<Vec<_>>())
                .to_string(),
            data: Some(data),
        })
    };
    view! {
        <div class="widget clipping">
            <div class="controls">
                <PresetChoice name="l9-clip-preset" value=preset plan=plan />
                <TrainButton id="l9-clip-train" label=TRAIN_THREE on_click=train />
            </div>
            <TrainingChart group=GROUP id="l9-clip-chart" title=CLIP_TITLE />
            <ChartCanvas id="l9-grad-norms" empty_message=empty_chart_message() draw=draw_norms height=340 label=Signal::derive(move || NORMS_TITLE.get(lang.get()).to_string()) />
            <RunPanel group=GROUP />
        </div>
    }
}

#[component]
pub fn RedundantBias() -> impl IntoView {
    const GROUP: &str = "l9/bias";
    let trainer = expect_context::<Trainer>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    // The bias run's probes: the norms of every bias gradient.
    let reports: RwSignal<Vec<ProbeReport>> = RwSignal::new(Vec::new());
    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        labelled_runs(LivePiece::RedundantBias.variants(p), l, |v| match v.key {
            VariantKey::Bias(bias) => Some(if bias { BIAS_ON } else { BIAS_OFF }.get(l).to_string()),
            _ => None,
        })
    };
    let train = move |_| {
        let p = preset.get_untracked();
        let runs = plan(p);
        reports.set(Vec::new());
        trainer.start(GROUP, Some(p), runs, move |event| {
            if let JobEvent::Probe { report, .. } = event {
                reports.update(|r| r.push(report));
            }
        });
    };
    let draw = move |root: &CanvasArea| {
        let l = lang.get();
        let probes = reports.get();
        let layers = probes.first().map_or(0, |p| p.bias_grad_norms.len());
        let lines: Vec<Line> = (0..layers)
            .map(|k| {
                let output = k + 1 == layers;
                Line {
                    label: if output { OUTPUT.get(l).to_string() } else { format!("{} {}", HIDDEN.get(l), k + 1) },
                    // A gradient that is exactly zero has no place on a log axis; it is
                    // drawn at 1e-12 so that the line stays visible at the bottom.
                    points: probes
                        .iter()
                        .filter_map(|p| {
                            p.bias_grad_norms.get(k).copied().flatten().map(|n| (p.step as f64, (n as f64).max(1e-12)))
                        })
                        .collect(),
                    colour: k,
                    style: if output { LineStyle::Dashed } else { LineStyle::SolidWithPoints },
                }
            })
            .collect();
        let plot = LinePlot {
            title: BIAS_NORMS.get(l),
            x_label: STEP.get(l),
            y_label: NORM_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        let last: Vec<Option<f32>> = probes.last().map_or(Vec::new(), |p| p.bias_grad_norms.clone());
        Ok(Drawn { summary: serde_json::json!({ "last": last }).to_string(), data: Some(data) })
    };
    view! {
        <div class="widget redundant-bias">
            <div class="controls">
                <PresetChoice name="l9-bias-preset" value=preset plan=plan />
                <TrainButton id="l9-bias-train" label=TRAIN_TWO on_click=train />
            </div>
            <ChartCanvas id="l9-bias-norms" empty_message=empty_chart_message() draw=draw height=320 label=Signal::derive(move || BIAS_NORMS.get(lang.get()).to_string()) />
            <TrainingChart group=GROUP id="l9-bias-chart" title=BIAS_TITLE />
            <RunPanel group=GROUP />
        </div>
    }
}
