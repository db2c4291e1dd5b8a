//! Lesson 5 (b): the batch-size sweep the notes could not finish: batch sizes 2 to 256
//! with BatchNorm, GroupNorm, LayerNorm and none; eval-mode test accuracy and the noise of
//! the training loss against batch size.

use leptos::prelude::*;

use super::{labelled_runs, PresetChoice, TrainButton};
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{self, Preset, SWEEP_NORMS};
use crate::nn::NormKind;
use crate::records::RunRecord;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::Trainer;
use crate::ui::widgets::empty_chart_message;

const GROUP: &str = "l5/batch-sweep";
const ACCURACY: Msg =
    Msg { en: "Test accuracy in eval mode against batch size", zh: "评估模式下的测试准确率与批大小" };
const NOISE: Msg = Msg { en: "Noise of the training loss against batch size", zh: "训练损失的噪声与批大小" };
const BATCH_AXIS: Msg = Msg { en: "batch size (log scale)", zh: "批大小（对数坐标）" };
const ACCURACY_AXIS: Msg = Msg { en: "test accuracy (%)", zh: "测试准确率（%）" };
const NOISE_AXIS: Msg =
    Msg { en: "SD of consecutive batch losses / √2", zh: "相邻批损失之差的标准差 / √2" };
const RESULTS: Msg = Msg { en: "Latest result for each setting", zh: "每种设置的最新结果" };

fn norm_title(kind: NormKind, lang: Lang) -> String {
    match kind {
        NormKind::Batch => "BatchNorm".into(),
        NormKind::Group { groups } => format!("GroupNorm ({groups})"),
        NormKind::Layer => "LayerNorm".into(),
        _ => NONE.get(lang).into(),
    }
}

/// The latest finished run of the group for (norm, batch size).
fn latest(records: &[RunRecord], norm: NormKind, batch: usize) -> Option<&RunRecord> {
    records
        .iter()
        .rev()
        .filter(|r| r.outcome().is_some())
        .find(|r| r.config.model.norms.first() == Some(&norm) && r.config.batch_size == batch)
}

fn accuracy(r: &RunRecord) -> Option<f64> {
    r.series.epochs.last().map(|e| e.test_accuracy as f64 * 100.0)
}

#[component]
pub fn BatchSweep() -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);

    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        labelled_runs(LivePiece::BatchSweep.variants(p), l, |v| match v.key {
            VariantKey::NormAtBatch { norm, batch_size } => {
                Some(format!("{} · {} {batch_size}", norm_title(norm, l), BATCH_SIZE.get(l)))
            }
            _ => None,
        })
    };
    let train = move |_| {
        let runs = plan(preset.get_untracked());
        trainer.start(GROUP, Some(preset.get_untracked()), runs, |_| {});
    };
    let sizes = move || presets::sweep_batch_sizes(Preset::Full);
    let series = move |value: fn(&RunRecord) -> Option<f64>| {
        let l = lang.get();
        let records = store.group(GROUP);
        SWEEP_NORMS
            .iter()
            .enumerate()
            .map(|(i, &norm)| Line {
                label: norm_title(norm, l),
                points: sizes()
                    .into_iter()
                    .filter_map(|b| latest(&records, norm, b).and_then(value).map(|v| (b as f64, v)))
                    .collect(),
                colour: i,
                style: if norm == NormKind::None { LineStyle::Dashed } else { LineStyle::SolidWithPoints },
            })
            .collect::<Vec<_>>()
    };
    let draw_accuracy = move |root: &CanvasArea| {
        let l = lang.get();
        let lines = series(accuracy);
        let plot = LinePlot {
            title: ACCURACY.get(l),
            x_label: BATCH_AXIS.get(l),
            y_label: ACCURACY_AXIS.get(l),
            x_scale: Scale::Log2,
            y_scale: Scale::Linear,
            lines: &lines,
            references: &[(10.0, pick(l, "chance (10 %)".into(), "随机猜测（10%）".into()))],
            y_range: Some((0.0, 100.0)),
        };
        let data = draw_line_plot(root, &plot)?;
        Ok(Drawn {
            summary: serde_json::json!(lines.iter().map(|l| (l.label.clone(), l.points.clone())).collect::<Vec<_>>())
                .to_string(),
            data: Some(data),
        })
    };
    let draw_noise = move |root: &CanvasArea| {
        let l = lang.get();
        let lines = series(|r| r.loss_noise.map(|n| n as f64));
        let plot = LinePlot {
            title: NOISE.get(l),
            x_label: BATCH_AXIS.get(l),
            y_label: NOISE_AXIS.get(l),
            x_scale: Scale::Log2,
            y_scale: Scale::Log10,
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
        let rows = SWEEP_NORMS
            .iter()
            .map(|&norm| {
                let cells = sizes()
                    .into_iter()
                    .map(|b| {
                        let text = latest(&records, norm, b)
                            .and_then(accuracy)
                            .map_or("–".to_string(), |a| format!("{a:.1}"));
                        view! { <td>{text}</td> }
                    })
                    .collect_view();
                view! { <tr><th scope="row">{norm_title(norm, l)}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <table class="numbers" id="l5-sweep-table">
                <caption>{RESULTS.get(l)}" (%)"</caption>
                <thead><tr><th scope="col">{BATCH_SIZE.get(l)}</th>{sizes().into_iter().map(|b| view! { <th>{b}</th> }).collect_view()}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    view! {
        <div class="widget batch-sweep">
            <div class="controls">
                <PresetChoice name="l5-preset" value=preset plan=plan />
                <TrainButton id="l5-train" label=RUN_ALL on_click=train />
            </div>
            <ChartCanvas id="l5-accuracy" empty_message=empty_chart_message() draw=draw_accuracy height=380 label=Signal::derive(move || ACCURACY.get(lang.get()).to_string()) />
            <ChartCanvas id="l5-noise" empty_message=empty_chart_message() draw=draw_noise height=340 label=Signal::derive(move || NOISE.get(lang.get()).to_string()) />
            {table}
            <RunPanel group=GROUP />
        </div>
    }
}
