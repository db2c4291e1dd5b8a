//! Lesson 3: the character-level model on first names with BatchNorm, trained with two
//! running-statistics momenta: the loss, running vs batch statistics of a hidden unit,
//! held-out loss in train mode vs eval mode, and names sampled in eval mode.

use leptos::prelude::*;

use super::{labelled_runs, PresetChoice, TrainButton, TrainingChart};
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{Preset, NAMES_MOMENTA};
use crate::experiment::ProbeReport;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::{JobEvent, Trainer};
use crate::ui::widgets::empty_chart_message;

const GROUP: &str = "l3/names";
const TITLE: Msg = Msg {
    en: "Name model: training loss and next-character accuracy",
    zh: "名字模型：训练损失与下一字符准确率",
};
const UNIT: Msg = Msg { en: "Hidden unit", zh: "隐藏单元" };
const MEANS: Msg = Msg {
    en: "Running mean vs batch mean of the unit's pre-activation",
    zh: "该单元预激活的滑动均值与批均值",
};
const VARS: Msg = Msg { en: "Running variance vs batch variance", zh: "滑动方差与批方差" };
const MODES: Msg = Msg {
    en: "Held-out loss: eval mode (running statistics) vs train mode (batch statistics)",
    zh: "留出集损失：评估模式（滑动统计量）与训练模式（批统计量）",
};
const STEP: Msg = Msg { en: "training step", zh: "训练步" };
const VALUE: Msg = Msg { en: "value", zh: "数值" };
const LOSS: Msg = Msg { en: "cross-entropy (nats)", zh: "交叉熵（nat）" };
const SAMPLES: Msg = Msg { en: "Names sampled in eval mode", zh: "评估模式下采样出的名字" };
const RUNNING: Msg = Msg { en: "running", zh: "滑动" };
const BATCH: Msg = Msg { en: "batch", zh: "批" };
const EVAL: Msg = Msg { en: "eval mode", zh: "评估模式" };
const TRAIN_MODE: Msg = Msg { en: "train mode", zh: "训练模式" };

fn momentum_words(momentum: f32, lang: Lang) -> String {
    pick(lang, format!("momentum {momentum}"), format!("动量 {momentum}"))
}

/// The momentum of run `i` of the piece, in words.
fn momentum_label(i: usize, lang: Lang) -> String {
    momentum_words(NAMES_MOMENTA[i], lang)
}

#[component]
pub fn NamesModel() -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let unit = RwSignal::new(0usize);
    let history: RwSignal<[Vec<ProbeReport>; 2]> = RwSignal::new([Vec::new(), Vec::new()]);
    let names: RwSignal<[Vec<String>; 2]> = RwSignal::new([Vec::new(), Vec::new()]);
    let colours = RwSignal::new([0usize, 1usize]);

    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        let mut runs = labelled_runs(LivePiece::NamesModel.variants(p), l, |v| match v.key {
            VariantKey::Momentum(m) => Some(format!("BatchNorm · {}", momentum_words(m, l))),
            _ => None,
        });
        for run in &mut runs {
            run.sample_names = 12;
        }
        runs
    };
    let train = move |_| {
        let runs = plan(preset.get_untracked());
        history.set([Vec::new(), Vec::new()]);
        names.set([Vec::new(), Vec::new()]);
        trainer.start(GROUP, Some(preset.get_untracked()), runs, move |event| match event {
            JobEvent::Started { run, record } => {
                let colour =
                    store.records.with_untracked(|r| r.iter().find(|x| x.id == record).map(|x| x.series.colour));
                colours.update(|c| c[run.min(1)] = colour.unwrap_or(run));
            }
            JobEvent::Probe { run, report } => history.update(|h| h[run.min(1)].push(report)),
            JobEvent::Names { run, names: n } => names.update(|all| all[run.min(1)] = n),
            JobEvent::Boundary { .. } | JobEvent::Trained { .. } => {}
        });
    };

    // Running (solid) and batch (faint) values of the chosen unit, for both momenta.
    let stat_plot = move |root: &CanvasArea, title: Msg, pick_stat: fn(&ProbeReport, usize) -> Option<(f32, f32)>| {
        let l = lang.get();
        let u = unit.get();
        let c = colours.get();
        let mut lines = Vec::new();
        history.with(|h| {
            for (i, reports) in h.iter().enumerate() {
                let values: Vec<(f64, f32, f32)> = reports
                    .iter()
                    .filter_map(|r| pick_stat(r, u).map(|(run, batch)| (r.step as f64, run, batch)))
                    .collect();
                lines.push(Line {
                    label: format!("{} · {}", RUNNING.get(l), momentum_label(i, l)),
                    points: values.iter().map(|v| (v.0, v.1 as f64)).collect(),
                    colour: c[i],
                    style: if i == 0 { LineStyle::Solid } else { LineStyle::Dashed },
                });
                lines.push(Line {
                    label: format!("{} · {}", BATCH.get(l), momentum_label(i, l)),
                    points: values.iter().map(|v| (v.0, v.2 as f64)).collect(),
                    colour: c[i],
                    style: LineStyle::Faint,
                });
            }
        });
        let plot = LinePlot {
            title: title.get(l),
            x_label: STEP.get(l),
            y_label: VALUE.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        let summary: Vec<Vec<(f64, f64)>> = lines.iter().map(|l| l.points.clone()).collect();
        Ok(Drawn { summary: serde_json::json!({ "lines": summary }).to_string(), data: Some(data) })
    };
    fn mean_of(r: &ProbeReport, u: usize) -> Option<(f32, f32)> {
        let n = r.norms.first()?;
        Some((*n.running_mean.as_ref()?.get(u)?, *n.batch_mean.get(u)?))
    }
    fn var_of(r: &ProbeReport, u: usize) -> Option<(f32, f32)> {
        let n = r.norms.first()?;
        Some((*n.running_var.as_ref()?.get(u)?, *n.batch_var.get(u)?))
    }
    let draw_means = move |root: &CanvasArea| stat_plot(root, MEANS, mean_of);
    let draw_vars = move |root: &CanvasArea| stat_plot(root, VARS, var_of);
    let draw_modes = move |root: &CanvasArea| {
        let l = lang.get();
        let c = colours.get();
        let mut lines = Vec::new();
        history.with(|h| {
            for (i, reports) in h.iter().enumerate() {
                let evals: Vec<(f64, f64, f64)> = reports
                    .iter()
                    .filter_map(|r| {
                        r.evaluation.map(|e| (r.step as f64, e.eval_loss as f64, e.batch_stats_loss as f64))
                    })
                    .collect();
                lines.push(Line {
                    label: format!("{} · {}", EVAL.get(l), momentum_label(i, l)),
                    points: evals.iter().map(|e| (e.0, e.1)).collect(),
                    colour: c[i],
                    style: LineStyle::SolidWithPoints,
                });
                lines.push(Line {
                    label: format!("{} · {}", TRAIN_MODE.get(l), momentum_label(i, l)),
                    points: evals.iter().map(|e| (e.0, e.2)).collect(),
                    colour: c[i],
                    style: LineStyle::Dashed,
                });
            }
        });
        let plot = LinePlot {
            title: MODES.get(l),
            x_label: STEP.get(l),
            y_label: LOSS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &[(27f64.ln(), "ln 27".into())],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        let summary: Vec<Vec<(f64, f64)>> = lines.iter().map(|l| l.points.clone()).collect();
        Ok(Drawn { summary: serde_json::json!({ "lines": summary }).to_string(), data: Some(data) })
    };
    let sampled = move || {
        names.with(|n| {
            (0..2)
                .filter(|&i| !n[i].is_empty())
                .map(|i| {
                    view! {
                        <div class="samples">
                            <h4>{momentum_label(i, lang.get())}</h4>
                            <ul class="names">{n[i].iter().map(|name| view! { <li>{name.clone()}</li> }).collect_view()}</ul>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="widget names-model">
            <div class="controls">
                <PresetChoice name="l3-preset" value=preset plan=plan />
                <div class="control">
                    <label for="l3-unit">{tr(UNIT)}</label>
                    <select id="l3-unit" prop:value=move || unit.get().to_string()
                        on:change=move |ev| unit.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {(0..4).map(|u| view! { <option value=u.to_string()>{u.to_string()}</option> }).collect_view()}
                    </select>
                </div>
                <TrainButton id="l3-train" label=RUN_BOTH on_click=train />
            </div>
            <TrainingChart group=GROUP id="l3-chart" title=TITLE />
            <ChartCanvas id="l3-running-mean" empty_message=empty_chart_message() draw=draw_means height=340
                label=Signal::derive(move || MEANS.get(lang.get()).to_string()) />
            <ChartCanvas id="l3-running-var" empty_message=empty_chart_message() draw=draw_vars height=340
                label=Signal::derive(move || VARS.get(lang.get()).to_string()) />
            <ChartCanvas id="l3-modes" empty_message=empty_chart_message() draw=draw_modes height=340
                label=Signal::derive(move || MODES.get(lang.get()).to_string()) />
            <h3>{tr(SAMPLES)}</h3>
            <div class="sampled" id="l3-samples">{sampled}</div>
            <RunPanel group=GROUP />
        </div>
    }
}
