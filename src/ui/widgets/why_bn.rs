//! Lesson 7: why BatchNorm works (Santurkar, Tsipras, Ilyas & Madry 2018). Noisy
//! BatchNorm, the internal-covariate-shift measurement, the loss-landscape measurements
//! along the gradient, and Lp normalization, each BN against no normalization.

use leptos::prelude::*;

use super::comparison::Comparison;
use super::{labelled_runs, PresetChoice, TrainButton};
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{Preset, NOISY_BN_STRENGTH};
use crate::experiment::ProbeReport;
use crate::nn::{LpOrder, NormKind};
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::{JobEvent, RunRequest, Trainer};
use crate::ui::widgets::empty_chart_message;

const NOISY_TITLE: Msg = Msg {
    en: "BatchNorm, noisy BatchNorm and no normalization",
    zh: "BatchNorm、带噪声的 BatchNorm 与不做归一化",
};
const STRENGTH: Msg = Msg { en: "Noise strength", zh: "噪声强度" };
const LP_TITLE: Msg = Msg {
    en: "Lp normalization: L1, L2 (BatchNorm), L∞ and none",
    zh: "Lp 归一化：L1、L2（BatchNorm）、L∞ 与不做归一化",
};
const TRAIN_THREE: Msg = Msg { en: "Train all three", zh: "三个都训练" };
const TRAIN_FOUR: Msg = Msg { en: "Train all four", zh: "四个都训练" };
const STEP: Msg = Msg { en: "training step", zh: "训练步" };
const LAYER: Msg = Msg { en: "Weight layer", zh: "权重层" };
const COSINE: Msg = Msg {
    en: "cos(G, G′): the layer's gradient before vs after the earlier layers' update",
    zh: "cos(G, G′)：前面各层更新前后，该层梯度的夹角余弦",
};
const DISTANCE: Msg = Msg {
    en: "‖G − G′‖: how far the layer's gradient moves", zh: "‖G − G′‖：该层梯度移动了多远"
};
const RANGE: Msg = Msg {
    en: "Loss along the gradient: lowest and highest over the steps tried",
    zh: "沿梯度方向的损失：所试各步长中的最低与最高",
};
const CHANGE: Msg = Msg {
    en: "Gradient predictiveness: max ‖∇L(w) − ∇L(w − ηg)‖ (lower is more predictive)",
    zh: "梯度可预测性：max ‖∇L(w) − ∇L(w − ηg)‖（越低越可预测）",
};
const BETA: Msg = Msg {
    en: "Effective β-smoothness: max ‖Δ∇L‖ / ‖Δw‖", zh: "有效 β-平滑度：max ‖Δ∇L‖ / ‖Δw‖"
};
const COSINE_AXIS: Msg = Msg { en: "cosine (1: unchanged)", zh: "余弦（1：未变）" };
const VALUE: Msg = Msg { en: "value (log scale)", zh: "数值（对数坐标）" };
const LOSS: Msg = Msg { en: "loss (nats)", zh: "损失（nat）" };
const MEASURE: Msg = Msg { en: "Train both and measure", zh: "两个都训练并测量" };

fn bn_label(bn: bool, lang: Lang) -> String {
    if bn { WITH_BN.get(lang) } else { WITHOUT_BN.get(lang) }.to_string()
}

#[component]
pub fn NoisyBn() -> impl IntoView {
    let strength = RwSignal::new(NOISY_BN_STRENGTH);
    let make = move |preset: Preset, l: Lang| {
        let s = strength.get_untracked();
        let mut variants = LivePiece::NoisyBn.variants(preset);
        // The noisy run at the strength the slider sets.
        for v in &mut variants {
            if let VariantKey::NoisyBatchNorm { .. } = v.key {
                v.config.model.norm_noise = s;
            }
        }
        labelled_runs(variants, l, |v| match v.key {
            VariantKey::BatchNorm(true) => Some("BatchNorm".into()),
            VariantKey::BatchNorm(false) => Some(NONE.get(l).to_string()),
            VariantKey::NoisyBatchNorm { .. } => {
                Some(pick(l, format!("noisy BatchNorm, strength {s}"), format!("带噪声的 BatchNorm，强度 {s}")))
            }
            _ => None,
        })
    };
    view! {
        <Comparison group="l7/noisy-bn" ids=["l7-noisy-preset", "l7-noisy-train", "l7-noisy-chart"] title=NOISY_TITLE button=TRAIN_THREE make=make>
            <div class="control">
                <label for="l7-strength">{tr(STRENGTH)}</label>
                <input id="l7-strength" type="range" min="0" max="2" step="0.1"
                    prop:value=move || strength.get().to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                            strength.set(v)
                        }
                    } />
                <output for="l7-strength">{move || format!("{:.1}", strength.get())}</output>
            </div>
        </Comparison>
    }
}

#[component]
pub fn LpNorm() -> impl IntoView {
    let make = move |preset: Preset, l: Lang| {
        labelled_runs(LivePiece::LpNorm.variants(preset), l, |v| match v.key {
            VariantKey::Norm(NormKind::Lp { order: LpOrder::L1 }) => Some("L1".into()),
            VariantKey::Norm(NormKind::Batch) => Some("L2 (BatchNorm)".into()),
            VariantKey::Norm(NormKind::Lp { order: LpOrder::Linf }) => Some("L∞".into()),
            VariantKey::Norm(NormKind::None) => Some(NONE.get(l).to_string()),
            _ => None,
        })
    };
    view! {
        <Comparison group="l7/lp-norm" ids=["l7-lp-preset", "l7-lp-train", "l7-lp-chart"] title=LP_TITLE button=TRAIN_FOUR make=make />
    }
}

/// The probes of the BN run and the plain run, and their colours.
#[derive(Clone, Default)]
struct Measured {
    reports: [Vec<ProbeReport>; 2],
    colours: [usize; 2],
}

/// The runs of a BN-against-none measuring piece at preset `p`, the plain network first.
fn measured_runs(piece: LivePiece, p: Preset, l: Lang) -> Vec<RunRequest> {
    labelled_runs(piece.variants(p), l, |v| match v.key {
        VariantKey::BatchNorm(bn) => Some(bn_label(bn, l)),
        _ => None,
    })
}

/// Trains the network without and with BatchNorm as `piece` does, keeping the probes'
/// reports.
fn measuring_widget_state(
    group: &'static str,
    piece: LivePiece,
) -> (RwSignal<Measured>, RwSignal<Preset>, impl Fn(leptos::ev::MouseEvent) + Copy) {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let measured = RwSignal::new(Measured::default());
    let preset = RwSignal::new(Preset::Quick);
    let train = move |_| {
        let p = preset.get_untracked();
        let runs = measured_runs(piece, p, lang.get_untracked());
        measured.set(Measured::default());
        trainer.start(group, Some(p), runs, move |event| match event {
            JobEvent::Started { run, record } => {
                let colour =
                    store.records.with_untracked(|r| r.iter().find(|x| x.id == record).map(|x| x.series.colour));
                measured.update(|m| m.colours[run.min(1)] = colour.unwrap_or(run));
            }
            JobEvent::Probe { run, report } => measured.update(|m| m.reports[run.min(1)].push(report)),
            JobEvent::Names { .. } | JobEvent::Boundary { .. } | JobEvent::Trained { .. } => {}
        });
    };
    (measured, preset, train)
}

/// What one chart of measurements shows.
struct Measurement<'a> {
    title: Msg,
    y_label: Msg,
    y_scale: Scale,
    /// The numbers a report gives (one line each; None skips the report).
    values: &'a dyn Fn(&ProbeReport) -> Vec<Option<f64>>,
    /// Names of the lines after the first, when a report gives several.
    names: &'a [&'a str],
}

/// One measurement over training for both networks.
fn measurement_plot(root: &CanvasArea, measured: &Measured, lang: Lang, m: Measurement) -> Result<Drawn, String> {
    let Measurement { title, y_label, y_scale, values, names } = m;
    let mut lines = Vec::new();
    for (i, reports) in measured.reports.iter().enumerate() {
        let per_report: Vec<(f64, Vec<Option<f64>>)> = reports.iter().map(|r| (r.step as f64, values(r))).collect();
        let count = per_report.iter().map(|r| r.1.len()).max().unwrap_or(0);
        for k in 0..count {
            lines.push(Line {
                label: format!(
                    "{}{}",
                    bn_label(i == 1, lang),
                    names.get(k).map(|n| format!(" · {n}")).unwrap_or_default()
                ),
                points: per_report.iter().filter_map(|(x, v)| v.get(k).copied().flatten().map(|y| (*x, y))).collect(),
                colour: measured.colours[i],
                style: if k == 0 { LineStyle::SolidWithPoints } else { LineStyle::Dashed },
            });
        }
    }
    let plot = LinePlot {
        title: title.get(lang),
        x_label: STEP.get(lang),
        y_label: y_label.get(lang),
        x_scale: Scale::Linear,
        y_scale,
        lines: &lines,
        references: &[],
        y_range: None,
    };
    let data = draw_line_plot(root, &plot)?;
    Ok(Drawn {
        summary: serde_json::json!(lines.iter().map(|l| (l.label.clone(), l.points.clone())).collect::<Vec<_>>())
            .to_string(),
        data: Some(data),
    })
}

#[component]
pub fn Smoothness() -> impl IntoView {
    let lang = lang();
    let (measured, preset, train) = measuring_widget_state("l7/smoothness", LivePiece::Smoothness);
    let draw = move |root: &CanvasArea, which: u8| {
        let l = lang.get();
        let m = measured.get();
        match which {
            0 => measurement_plot(
                root,
                &m,
                l,
                Measurement {
                    title: RANGE,
                    y_label: LOSS,
                    y_scale: Scale::Linear,
                    values: &|r| {
                        r.landscape.as_ref().map_or(vec![], |s| vec![Some(s.loss_max as f64), Some(s.loss_min as f64)])
                    },
                    names: &["max", "min"],
                },
            ),
            1 => measurement_plot(
                root,
                &m,
                l,
                Measurement {
                    title: CHANGE,
                    y_label: VALUE,
                    y_scale: Scale::Log10,
                    values: &|r| r.landscape.as_ref().map_or(vec![], |s| vec![Some(s.gradient_change as f64)]),
                    names: &[],
                },
            ),
            _ => measurement_plot(
                root,
                &m,
                l,
                Measurement {
                    title: BETA,
                    y_label: VALUE,
                    y_scale: Scale::Log10,
                    values: &|r| r.landscape.as_ref().map_or(vec![], |s| vec![Some(s.beta_smoothness as f64)]),
                    names: &[],
                },
            ),
        }
    };
    view! {
        <div class="widget smoothness">
            <div class="controls">
                <PresetChoice name="l7-smooth-preset" value=preset
                    plan=move |p| measured_runs(LivePiece::Smoothness, p, lang.get_untracked()) />
                <TrainButton id="l7-smooth-train" label=MEASURE on_click=train />
            </div>
            <ChartCanvas id="l7-range" empty_message=empty_chart_message() draw=move |r: &CanvasArea| draw(r, 0) height=320 label=Signal::derive(move || RANGE.get(lang.get()).to_string()) />
            <ChartCanvas id="l7-predictiveness" empty_message=empty_chart_message() draw=move |r: &CanvasArea| draw(r, 1) height=320 label=Signal::derive(move || CHANGE.get(lang.get()).to_string()) />
            <ChartCanvas id="l7-beta" empty_message=empty_chart_message() draw=move |r: &CanvasArea| draw(r, 2) height=320 label=Signal::derive(move || BETA.get(lang.get()).to_string()) />
            <RunPanel group="l7/smoothness" />
        </div>
    }
}

#[component]
pub fn CovariateShift() -> impl IntoView {
    let lang = lang();
    let (measured, preset, train) = measuring_widget_state("l7/ics", LivePiece::CovariateShift);
    // Layer 1 has no earlier layer (its G′ is G); the default shows the second.
    let layer = RwSignal::new(1usize);
    let draw = move |root: &CanvasArea, cosine: bool| {
        let l = lang.get();
        let m = measured.get();
        let k = layer.get();
        if cosine {
            measurement_plot(
                root,
                &m,
                l,
                Measurement {
                    title: COSINE,
                    y_label: COSINE_AXIS,
                    y_scale: Scale::Linear,
                    values: &|r| vec![r.covariate_shift.get(k).map(|s| s.cosine as f64)],
                    names: &[],
                },
            )
        } else {
            measurement_plot(
                root,
                &m,
                l,
                Measurement {
                    title: DISTANCE,
                    y_label: VALUE,
                    y_scale: Scale::Log10,
                    values: &|r| vec![r.covariate_shift.get(k).map(|s| s.l2_distance as f64)],
                    names: &[],
                },
            )
        }
    };
    view! {
        <div class="widget ics">
            <div class="controls">
                <PresetChoice name="l7-ics-preset" value=preset
                    plan=move |p| measured_runs(LivePiece::CovariateShift, p, lang.get_untracked()) />
                <div class="control">
                    <label for="l7-layer">{tr(LAYER)}</label>
                    <select id="l7-layer" prop:value=move || layer.get().to_string()
                        on:change=move |ev| layer.set(event_target_value(&ev).parse().unwrap_or(1))>
                        {(1..5).map(|k| view! { <option value=k.to_string()>{(k + 1).to_string()}</option> }).collect_view()}
                    </select>
                </div>
                <TrainButton id="l7-ics-train" label=MEASURE on_click=train />
            </div>
            <ChartCanvas id="l7-cosine" empty_message=empty_chart_message() draw=move |r: &CanvasArea| draw(r, true) height=320 label=Signal::derive(move || COSINE.get(lang.get()).to_string()) />
            <ChartCanvas id="l7-distance" empty_message=empty_chart_message() draw=move |r: &CanvasArea| draw(r, false) height=320 label=Signal::derive(move || DISTANCE.get(lang.get()).to_string()) />
            <RunPanel group="l7/ics" />
        </div>
    }
}
