//! Lesson 6: an MLP that overfits 1 000 training images, with no regularizer, Dropout,
//! BatchNorm or both: training accuracy (eval mode) and test accuracy per epoch, and the
//! gap between them.

use leptos::prelude::*;

use super::{labelled_runs, BatchSizeSlider, PresetChoice, TrainButton};
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{self, Preset, Regularizer};
use crate::records::RunRecord;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::Trainer;
use crate::ui::widgets::empty_chart_message;

const GROUP: &str = "l6/regularizers";
const ACCURACY: Msg = Msg {
    en: "Training accuracy (solid, eval mode) and test accuracy (dashed)",
    zh: "训练准确率（实线，评估模式）与测试准确率（虚线）",
};
const GAP: Msg = Msg {
    en: "Generalization gap: training minus test accuracy", zh: "泛化差距：训练准确率减测试准确率"
};
const ACCURACY_AXIS: Msg = Msg { en: "accuracy (%)", zh: "准确率（%）" };
const GAP_AXIS: Msg = Msg { en: "gap (percentage points)", zh: "差距（百分点）" };
const RUN_FOUR: Msg = Msg { en: "Train all four", zh: "四个都训练" };
const FINAL: Msg = Msg { en: "At the last epoch", zh: "最后一个 epoch" };

pub fn regularizer_name(r: Regularizer, lang: Lang) -> &'static str {
    match r {
        Regularizer::None => NONE.get(lang),
        Regularizer::Dropout => "Dropout 0.5",
        Regularizer::BatchNorm => "BatchNorm",
        Regularizer::Both => "BatchNorm + Dropout",
    }
}

/// The latest run of each regularizer (by its configuration).
fn latest(records: &[RunRecord], r: Regularizer) -> Option<&RunRecord> {
    let want = presets::regularizers(r, Preset::Quick);
    records
        .iter()
        .rev()
        .find(|x| x.config.model.norms == want.model.norms && x.config.model.dropout == want.model.dropout)
}

#[component]
pub fn Regularizers() -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let batch = RwSignal::new(64usize);

    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        let mut variants = LivePiece::Regularizers.variants(p);
        for v in &mut variants {
            v.config.batch_size = batch.get();
        }
        labelled_runs(variants, l, |v| match v.key {
            VariantKey::Regularizer(r) => Some(regularizer_name(r, l).to_string()),
            _ => None,
        })
    };
    let train = move |_| {
        let runs = untrack(|| plan(preset.get_untracked()));
        trainer.start(GROUP, Some(preset.get_untracked()), runs, |_| {});
    };
    let series = move |gap: bool| {
        let records = store.group(GROUP);
        let mut lines = Vec::new();
        for &r in &Regularizer::ALL {
            let Some(record) = latest(&records, r) else { continue };
            let c = record.series.colour;
            let points = |f: &dyn Fn(f32, f32) -> f32| -> Vec<(f64, f64)> {
                record
                    .series
                    .epochs
                    .iter()
                    .filter_map(|e| {
                        e.train_eval_accuracy.map(|t| (e.epoch as f64, f(t, e.test_accuracy) as f64 * 100.0))
                    })
                    .collect()
            };
            let name = regularizer_name(r, lang.get()).to_string();
            if gap {
                lines.push(Line {
                    label: name,
                    points: points(&|t, v| t - v),
                    colour: c,
                    style: LineStyle::SolidWithPoints,
                });
            } else {
                lines.push(Line { label: name, points: points(&|t, _| t), colour: c, style: LineStyle::Solid });
                lines.push(Line {
                    label: String::new(),
                    points: points(&|_, v| v),
                    colour: c,
                    style: LineStyle::Dashed,
                });
            }
        }
        lines
    };
    let draw = move |root: &CanvasArea, gap: bool| {
        let l = lang.get();
        let lines = series(gap);
        let plot = LinePlot {
            title: if gap { GAP.get(l) } else { ACCURACY.get(l) },
            x_label: EPOCH_AXIS.get(l),
            y_label: if gap { GAP_AXIS.get(l) } else { ACCURACY_AXIS.get(l) },
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
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
    };
    let table = move || {
        let l = lang.get();
        let records = store.group(GROUP);
        let rows = Regularizer::ALL
            .iter()
            .filter_map(|&r| {
                let e = latest(&records, r)?.series.epochs.last()?.clone();
                let train = e.train_eval_accuracy? * 100.0;
                let test = e.test_accuracy * 100.0;
                Some(view! { <tr>
                    <th scope="row">{regularizer_name(r, l)}</th>
                    <td>{format!("{train:.1}")}</td><td>{format!("{test:.1}")}</td><td>{format!("{:.1}", train - test)}</td>
                </tr> })
            })
            .collect_view();
        view! {
            <table class="numbers" id="l6-table">
                <caption>{FINAL.get(l)}</caption>
                <thead><tr><td></td>
                    <th>{pick(l, "train (%)".into(), "训练（%）".into())}</th>
                    <th>{pick(l, "test (%)".into(), "测试（%）".into())}</th>
                    <th>{pick(l, "gap".into(), "差距".into())}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    view! {
        <div class="widget regularizers">
            <div class="controls">
                <PresetChoice name="l6-preset" value=preset plan=plan />
                <BatchSizeSlider id="l6-batch" value=batch />
                <TrainButton id="l6-train" label=RUN_FOUR on_click=train />
            </div>
            <ChartCanvas id="l6-accuracy" empty_message=empty_chart_message() draw=move |root: &CanvasArea| draw(root, false) height=380
                label=Signal::derive(move || ACCURACY.get(lang.get()).to_string()) />
            <ChartCanvas id="l6-gap" empty_message=empty_chart_message() draw=move |root: &CanvasArea| draw(root, true) height=320
                label=Signal::derive(move || GAP.get(lang.get()).to_string()) />
            {table}
            <RunPanel group=GROUP />
        </div>
    }
}
