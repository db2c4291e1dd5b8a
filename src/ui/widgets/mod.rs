//! The live pieces of the lessons, by the name a lesson gives them (`@live <name>`), and
//! the controls and charts they share.

mod attention_map;
mod batch_stats;
mod batch_sweep;
mod bn_step;
mod class_view;
mod comparison;
mod deep_mlp;
mod family;
mod high_lr;
mod measured;
mod names;
mod noise_vs_mask;
mod playground;
mod practice;
mod preset;
mod regularizers;
mod self_check;
mod sequences;
mod why_bn;

use leptos::prelude::*;

use super::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use super::i18n::*;
use super::runs::RunStore;
use super::trainer::RunRequest;
use crate::chart::training::{draw_training_chart_with_references, LossAxis, TrainingKey};
use crate::chart::{RunSeries, TrainingChartText};
use crate::experiment::catalog::Variant;
use crate::experiment::config::{format_lr, BATCH_SIZE_RANGE, EPOCHS_RANGE};
use crate::experiment::Outcome;
use crate::ui::references::References;
pub use preset::PresetChoice;

/// The live piece called `name` in lesson `lesson`.
pub fn live(name: &str, lesson: &'static str) -> AnyView {
    match name {
        "deep-mlp" => view! { <deep_mlp::DeepMlp /> }.into_any(),
        "bn-step" => view! { <bn_step::BnStep /> }.into_any(),
        "names-model" => view! { <names::NamesModel /> }.into_any(),
        "high-lr" => view! { <high_lr::HighLr lesson=lesson /> }.into_any(),
        "batch-stats-spread" => view! { <batch_stats::BatchStatsSpread /> }.into_any(),
        "batch-sweep" => view! { <batch_sweep::BatchSweep /> }.into_any(),
        "regularizers" => view! { <regularizers::Regularizers /> }.into_any(),
        "noise-vs-mask" => view! { <noise_vs_mask::NoiseVsMask /> }.into_any(),
        "noisy-bn" => view! { <why_bn::NoisyBn /> }.into_any(),
        "ics" => view! { <why_bn::CovariateShift /> }.into_any(),
        "smoothness" => view! { <why_bn::Smoothness /> }.into_any(),
        "lp-norm" => view! { <why_bn::LpNorm /> }.into_any(),
        "norm-axes" => view! { <family::NormAxes /> }.into_any(),
        "family-table" => view! { <family::FamilyTable /> }.into_any(),
        "placement" => view! { <practice::Placement /> }.into_any(),
        "redundant-bias" => view! { <practice::RedundantBias /> }.into_any(),
        "clipping" => view! { <practice::Clipping /> }.into_any(),
        "seq-norms" => view! { <sequences::SeqNorms /> }.into_any(),
        "seq-length" => view! { <sequences::SeqLength /> }.into_any(),
        "seq-batch-one" => view! { <sequences::SeqBatchOne /> }.into_any(),
        "seq-placement" => view! { <sequences::SeqPlacement /> }.into_any(),
        "playground" => view! { <playground::Playground lesson=lesson /> }.into_any(),
        "self-check" => view! { <self_check::SelfCheck /> }.into_any(),
        "class-view" => view! { <class_view::ClassView /> }.into_any(),
        // `measured:<experiment>`: the stored results of a lesson experiment's full preset.
        other if other.starts_with("measured:") => {
            match crate::experiment::catalog::Experiment::parse(&other["measured:".len()..]) {
                Some(experiment) => view! { <measured::Measured experiment=experiment /> }.into_any(),
                None => {
                    view! { <p class="alert">"Unknown experiment / 未知的实验: " {other.to_string()}</p> }.into_any()
                }
            }
        }
        // A lesson names a piece the page does not have: a bug in the lesson, said plainly.
        other => view! { <p class="alert">"Unknown live piece / 未知的实验组件: " {other.to_string()}</p> }.into_any(),
    }
}

/// The runs as chart series, each failed run's note (from the same verdict as its status
/// line) in the page's language.
fn series_of(records: Vec<crate::records::RunRecord>, lang: Lang) -> Vec<RunSeries> {
    records
        .into_iter()
        .map(|r| {
            let not_learning = matches!(r.outcome(), Some(Outcome::Finished { not_learning: true, .. }));
            let mut s = r.series;
            s.note = (not_learning && !r.trial).then(|| NOT_LEARNING.get(lang).to_string());
            s
        })
        .collect()
}

/// The runs a live piece asks for, each labelled by `label`, mostly from its key (what sets
/// it apart). A key the piece has no words for (its experiment gained a kind of run the
/// piece does not know yet) gives None, and the run is named by its own one-line
/// description instead.
pub fn labelled_runs(
    variants: Vec<Variant>,
    lang: Lang,
    label: impl Fn(&Variant) -> Option<String>,
) -> Vec<RunRequest> {
    variants
        .into_iter()
        .map(|v| {
            let label = label(&v).unwrap_or_else(|| words(&v.config.label_words(), lang).to_string());
            RunRequest::of_variant(v, label)
        })
        .collect()
}

/// What a chart of runs says before there is any run to draw.
pub fn empty_chart_message() -> Signal<String> {
    let lang = lang();
    Signal::derive(move || NO_RUNS_CHART.get(lang.get()).to_string())
}

/// The loss-and-accuracy chart of a group's runs, with a switch for a logarithmic loss axis.
#[component]
pub fn TrainingChart(
    group: &'static str,
    id: &'static str,
    /// The chart's title in both languages.
    title: Msg,
) -> impl IntoView {
    let store = expect_context::<RunStore>();
    let references = expect_context::<References>();
    let lang = lang();
    let log_loss = RwSignal::new(false);
    let draw = move |root: &CanvasArea| {
        let l = lang.get();
        let records = store.group(group);
        let behind = references.for_runs(&records, l);
        let runs = series_of(records, l);
        let text = TrainingChartText {
            title: title.get(l),
            x_label: EPOCH_AXIS.get(l),
            loss_label: LOSS_AXIS.get(l),
            accuracy_label: ACCURACY_AXIS.get(l),
            diverged: DIVERGED.get(l),
        };
        let key = TrainingKey {
            batch_loss: KEY_BATCH.get(l),
            epoch_mean: KEY_EPOCH.get(l),
            test_accuracy: KEY_ACCURACY.get(l),
        };
        let axis = LossAxis::from_log_switch(log_loss.get());
        let data = draw_training_chart_with_references(root, &runs, &behind, &text, &key, axis)?;
        let summary: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "label": r.label,
                    "losses": r.batch_losses.iter().map(|p| p.1).collect::<Vec<_>>(),
                    "epoch_losses": r.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>(),
                    "test_accuracy": r.epochs.iter().map(|e| e.test_accuracy).collect::<Vec<_>>(),
                    "diverged_at": r.diverged_at,
                    "note": r.note,
                })
            })
            .collect();
        // What was drawn, for tests and anyone inspecting the page: the runs' numbers, the
        // loss axis's range (data units, and whether logarithmic) and the legend's styles.
        let reference_summary: Vec<serde_json::Value> = behind
            .iter()
            .map(|r| serde_json::json!({ "label": r.label, "colour": r.colour, "points": r.points }))
            .collect();
        let summary = serde_json::json!({
            "runs": summary,
            "references": reference_summary,
            "loss_axis": data.y_range,
            "legend": data.legend,
        });
        Ok(Drawn { summary: summary.to_string(), data: Some(data) })
    };
    let label = Signal::derive(move || title.get(lang.get()).to_string());
    let caption = Signal::derive(move || CHART_CAPTION.get(lang.get()).to_string());
    view! {
        <div class="chart-tools">
            <label class="check">
                <input type="checkbox" prop:checked=move || log_loss.get()
                    on:change=move |ev| log_loss.set(event_target_checked(&ev)) />
                {tr(LOG_SCALE)}
            </label>
        </div>
        <ChartCanvas id=id draw=draw label=label caption=caption empty_message=empty_chart_message() />
    }
}

/// Learning rate on a log scale: the slider holds log10(lr) from −4 to 0.
#[component]
pub fn LearningRateSlider(id: &'static str, value: RwSignal<f32>) -> impl IntoView {
    view! {
        <div class="control">
            <label for=id>{tr(LEARNING_RATE)}</label>
            <input id=id type="range" min="-4" max="0" step="0.1"
                prop:value=move || format!("{:.1}", value.get().log10())
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        // Round to two significant digits: 0.1, 0.0032, … as people write them.
                        let lr = 10f64.powf(v);
                        let digits = 10f64.powf(lr.log10().floor() - 1.0);
                        value.set(((lr / digits).round() * digits) as f32);
                    }
                } />
            <output for=id>{move || format_lr(value.get())}</output>
        </div>
    }
}

/// Batch size in powers of two.
#[component]
pub fn BatchSizeSlider(id: &'static str, value: RwSignal<usize>) -> impl IntoView {
    view! {
        <div class="control">
            <label for=id>{tr(BATCH_SIZE)}</label>
            <input id=id type="range" min=BATCH_SIZE_RANGE.0.ilog2() max=BATCH_SIZE_RANGE.1.ilog2() step="1"
                prop:value=move || value.get().max(2).ilog2().to_string()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<u32>() {
                        value.set(1usize << v);
                    }
                } />
            <output for=id>{move || value.get()}</output>
        </div>
    }
}

/// The number of epochs, within the range a run may have; a number outside it is brought
/// into the range, and the field says so.
#[component]
pub fn EpochsInput(id: &'static str, value: RwSignal<usize>) -> impl IntoView {
    let lang = lang();
    let clamped: RwSignal<Option<String>> = RwSignal::new(None);
    view! {
        <div class="control">
            <label for=id>{tr(EPOCHS)}</label>
            <input id=id type="number" min=EPOCHS_RANGE.0 max=EPOCHS_RANGE.1
                prop:value=move || value.get().to_string()
                on:change=move |ev| {
                    let typed = event_target_value(&ev);
                    match typed.trim().parse::<i64>() {
                        Ok(v) => {
                            let kept = v.clamp(EPOCHS_RANGE.0 as i64, EPOCHS_RANGE.1 as i64) as usize;
                            clamped.set((kept as i64 != v).then_some(typed));
                            value.set(kept);
                        }
                        Err(_) => {
                            clamped.set(Some(typed));
                            value.update(|_| {});
                        }
                    }
                } />
            {move || clamped.get().map(|typed| {
                let (low, high, now) = (EPOCHS_RANGE.0, EPOCHS_RANGE.1, value.get());
                view! {
                    <p class="note field-note" role="status">{pick(
                        lang.get(),
                        format!("{typed} is not an epoch count from {low} to {high}: using {now}."),
                        format!("{typed} 不是 {low} 到 {high} 之间的 epoch 数：改用 {now}。"),
                    )}</p>
                }
            })}
        </div>
    }
}

/// A live piece's Train button: disabled while any job trains (one job at a time) and
/// until the compute device is known.
#[component]
pub fn TrainButton(id: &'static str, label: Msg, on_click: impl Fn(leptos::ev::MouseEvent) + 'static) -> impl IntoView {
    let trainer = expect_context::<super::trainer::Trainer>();
    let device = expect_context::<super::device::DeviceState>();
    view! {
        <div class="buttons">
            <button class="train" id=id on:click=on_click
                prop:disabled=move || trainer.is_busy() || !device.ready()>{tr(label)}</button>
        </div>
    }
}
