//! Lesson 8: the normalization family. An axes picture of a 4-D block in which the student
//! clicks a cell and sees every cell that shares its mean and variance (computed from the
//! engine's own `NormGeometry`), and a comparison table whose accuracy columns are
//! measured on the spot.

use leptos::prelude::*;

use super::{labelled_runs, PresetChoice, TrainButton};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{Preset, FAMILY, FAMILY_BATCH_SIZES};
use crate::nn::NormKind;
use crate::records::RunRecord;
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::Trainer;

/// The block drawn: N samples × C channels × H × W.
const N: usize = 4;
const C: usize = 6;
const H: usize = 3;
const W: usize = 3;

const KIND: Msg = Msg { en: "Normalization", zh: "归一化方式" };
const GROUPS: Msg = Msg { en: "Groups G", zh: "组数 G" };
const SAMPLE: Msg = Msg { en: "sample", zh: "样本" };
const CHANNEL: Msg = Msg { en: "channel", zh: "通道" };
const MEASURE: Msg = Msg { en: "Measure the table", zh: "测量这张表" };

fn kind_name(kind: NormKind) -> String {
    match kind {
        NormKind::Batch => "BatchNorm".into(),
        NormKind::BatchPerPosition => "BatchNorm per position".into(),
        NormKind::Layer => "LayerNorm".into(),
        NormKind::Instance => "InstanceNorm".into(),
        NormKind::Group { groups } => format!("GroupNorm (G = {groups})"),
        NormKind::Rms => "RMSNorm".into(),
        NormKind::None => "none".into(),
        NormKind::Lp { order } => order.name().into(),
    }
}

#[component]
pub fn NormAxes() -> impl IntoView {
    let lang = lang();
    let kind = RwSignal::new(NormKind::Batch);
    let groups = RwSignal::new(2usize);
    // The clicked cell: (sample, channel, position).
    let picked = RwSignal::new((0usize, 0usize, 4usize));
    let geometry = move || {
        let k = match kind.get() {
            NormKind::Group { .. } => NormKind::Group { groups: groups.get() },
            other => other,
        };
        k.geometry(N, C, H * W, true).ok().flatten()
    };
    let summary = move || {
        let l = lang.get();
        let Some(g) = geometry() else { return String::new() };
        let (n, c, _) = picked.get();
        let stat = g.stat_of(n, c);
        let subtract = if g.subtract_mean {
            pick(l, "mean and variance".into(), "均值和方差".into())
        } else {
            pick(l, "root mean square (no mean)".into(), "均方根（不减均值）".into())
        };
        pick(
            l,
            format!(
                "Statistic {} of {}: {} cells share one {subtract}. {} statistics × {} cells = {} cells.",
                stat + 1,
                g.stat_count(),
                g.elements_per_stat(),
                g.stat_count(),
                g.elements_per_stat(),
                g.elements()
            ),
            format!(
                "第 {} 个统计量（共 {} 个）：{} 个单元格共用一组{subtract}。{} 个统计量 × {} 个单元格 = {} 个单元格。",
                stat + 1,
                g.stat_count(),
                g.elements_per_stat(),
                g.stat_count(),
                g.elements_per_stat(),
                g.elements()
            ),
        )
    };
    let block = move || {
        let l = lang.get();
        let g = geometry();
        let (pn, pc, pp) = picked.get();
        let picked_stat = g.map(|g| g.stat_of(pn, pc));
        (0..N)
            .map(|n| {
                let planes = (0..C)
                    .map(|c| {
                        let shared = g.is_some_and(|g| Some(g.stat_of(n, c)) == picked_stat);
                        let cells = (0..H * W)
                            .map(|p| {
                                let label =
                                    format!("{} {n}, {} {c}, ({}, {})", SAMPLE.get(l), CHANNEL.get(l), p / W, p % W);
                                let here = (n, c, p) == (pn, pc, pp);
                                view! {
                                    <button class="cell" class:shared=shared class:picked=here aria-label=label
                                        aria-pressed=if here { "true" } else { "false" }
                                        on:click=move |_| picked.set((n, c, p))></button>
                                }
                            })
                            .collect_view();
                        view! { <div class="plane" title=format!("{} {c}", CHANNEL.get(l))>{cells}</div> }
                    })
                    .collect_view();
                view! {
                    <div class="slab">
                        <span class="slab-label">{format!("{} {n}", SAMPLE.get(l))}</span>
                        <div class="planes">{planes}</div>
                    </div>
                }
            })
            .collect_view()
    };
    let kinds = [
        ("batch", "BatchNorm"),
        ("layer", "LayerNorm"),
        ("instance", "InstanceNorm"),
        ("group", "GroupNorm"),
        ("rms", "RMSNorm"),
    ];
    view! {
        <div class="widget norm-axes">
            <div class="controls">
                <div class="control">
                    <label for="l8-kind">{tr(KIND)}</label>
                    <select id="l8-kind"
                        prop:value=move || match kind.get() { NormKind::Group { .. } => "group".to_string(), k => k.name() }
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            kind.set(if v == "group" { NormKind::Group { groups: groups.get_untracked() } } else { NormKind::parse(&v).unwrap_or(NormKind::Batch) });
                        }>
                        {kinds.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="control">
                    <label for="l8-groups">{tr(GROUPS)}</label>
                    <select id="l8-groups" prop:value=move || groups.get().to_string()
                        prop:disabled=move || !matches!(kind.get(), NormKind::Group { .. })
                        on:change=move |ev| groups.set(event_target_value(&ev).parse().unwrap_or(2))>
                        {[1usize, 2, 3, 6].map(|g| view! { <option value=g.to_string()>{g.to_string()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <p class="axes-summary" id="l8-summary" aria-live="polite">{summary}</p>
            <div class="block" id="l8-block">{block}</div>
        </div>
    }
}

/// The text columns of the comparison table, per kind: (depends on the batch, same in
/// training and inference, typical use).
fn facts(kind: NormKind, lang: Lang) -> [&'static str; 3] {
    let (yes, no) = (pick_static(lang, "yes", "是"), pick_static(lang, "no", "否"));
    match kind {
        NormKind::Batch => [yes, no, pick_static(lang, "CNNs with batches of 16 or more", "批量在 16 以上的 CNN")],
        NormKind::Layer => {
            [no, yes, pick_static(lang, "transformers, RNNs, variable-length sequences", "Transformer、RNN、变长序列")]
        }
        NormKind::Instance => [no, yes, pick_static(lang, "style transfer, image generation", "风格迁移、图像生成")],
        NormKind::Group { .. } => [
            no,
            yes,
            pick_static(lang, "CNNs with tiny batches (detection, segmentation)", "批量很小的 CNN（检测、分割）"),
        ],
        NormKind::Rms => [
            no,
            yes,
            pick_static(lang, "large language models (cheaper LayerNorm)", "大语言模型（更省算力的 LayerNorm）"),
        ],
        _ => ["–", "–", pick_static(lang, "the baseline", "基线")],
    }
}

fn pick_static(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    Msg { en, zh }.get(lang)
}

fn latest(records: &[RunRecord], kind: NormKind, batch: usize) -> Option<f32> {
    records
        .iter()
        .rev()
        .filter(|r| r.outcome().is_some())
        .find(|r| r.config.model.norms.first() == Some(&kind) && r.config.batch_size == batch)
        .and_then(|r| r.series.epochs.last().map(|e| e.test_accuracy * 100.0))
}

#[component]
pub fn FamilyTable() -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    const GROUP: &str = "l8/family";
    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        labelled_runs(LivePiece::FamilyTable.variants(p), l, |v| match v.key {
            VariantKey::NormAtBatch { norm, batch_size } => {
                Some(format!("{} · {} {batch_size}", kind_name(norm), BATCH_SIZE.get(l)))
            }
            _ => None,
        })
    };
    let train = move |_| {
        let runs = plan(preset.get_untracked());
        trainer.start(GROUP, Some(preset.get_untracked()), runs, |_| {});
    };
    let table = move || {
        let l = lang.get();
        let records = store.group(GROUP);
        // The table's two columns of accuracy: the experiment's two batch sizes.
        let [small, large] = FAMILY_BATCH_SIZES;
        let rows = FAMILY
            .iter()
            .map(|&k| {
                let [batch_dependent, same, usage] = facts(k, l);
                let cell = |b| latest(&records, k, b).map_or("–".to_string(), |a| format!("{a:.1}"));
                view! { <tr>
                    <th scope="row">{kind_name(k)}</th>
                    <td>{cell(small)}</td><td>{cell(large)}</td>
                    <td class="text">{batch_dependent}</td><td class="text">{same}</td><td class="text">{usage}</td>
                </tr> }
            })
            .collect_view();
        view! {
            <table class="numbers family" id="l8-table">
                <thead><tr>
                    <td></td>
                    <th>{pick(l, format!("accuracy at batch {small} (%)"), format!("批大小 {small} 的准确率（%）"))}</th>
                    <th>{pick(l, format!("accuracy at batch {large} (%)"), format!("批大小 {large} 的准确率（%）"))}</th>
                    <th>{pick(l, "depends on the batch?".into(), "依赖批？".into())}</th>
                    <th>{pick(l, "same in training and inference?".into(), "训练与推理相同？".into())}</th>
                    <th>{pick(l, "typical use".into(), "典型用途".into())}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    view! {
        <div class="widget family-table">
            <div class="controls">
                <PresetChoice name="l8-preset" value=preset plan=plan />
                <TrainButton id="l8-train" label=MEASURE on_click=train />
            </div>
            {table}
            <RunPanel group=GROUP />
        </div>
    }
}
