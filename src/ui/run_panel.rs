//! The run management every live piece shares: progress with speed and time left, Stop,
//! the list of its runs with their outcome and a link that reproduces each, and exports.

use leptos::prelude::*;

use super::browser;
use super::device::DeviceState;
use super::i18n::*;
use super::runs::RunStore;
use super::trainer::Trainer;
use crate::chart::css_colour;
use crate::experiment::Outcome;
use crate::records::{self, RunRecord, RunStatus};

/// A run's state in words.
pub fn status_text(record: &RunRecord, lang: Lang) -> String {
    match &record.status {
        RunStatus::Running => RUNNING.get(lang).to_string(),
        RunStatus::Interrupted => INTERRUPTED.get(lang).to_string(),
        RunStatus::Failed { reason } => pick(lang, format!("failed: {reason}"), format!("失败：{reason}")),
        RunStatus::Done { outcome } => match outcome {
            Outcome::Finished { final_test_accuracy, not_learning } => {
                let accuracy = final_test_accuracy * 100.0;
                if *not_learning {
                    pick(
                        lang,
                        format!("not learning: loss stayed at chance level, test accuracy {accuracy:.1} %"),
                        format!("没有学习：损失停在随机猜测的水平，测试准确率 {accuracy:.1}%"),
                    )
                } else {
                    pick(lang, format!("test accuracy {accuracy:.1} %"), format!("测试准确率 {accuracy:.1}%"))
                }
            }
            Outcome::Diverged { epoch, batch } => pick(
                lang,
                format!("diverged at epoch {epoch}, batch {batch}"),
                format!("在第 {epoch} 个 epoch 的第 {batch} 个批发散"),
            ),
            Outcome::Stopped => STOPPED.get(lang).to_string(),
        },
    }
}

/// The address that opens a run's exact configuration in the playground.
pub fn playground_link(record: &RunRecord, lang: Lang) -> String {
    format!("?lesson=playground&lang={}&{}", lang.code(), record.config.to_query())
}

fn seconds(secs: f64) -> String {
    if !secs.is_finite() {
        "–".into()
    } else if secs < 90.0 {
        format!("{secs:.0} s")
    } else {
        format!("{:.0} min {:.0} s", (secs / 60.0).floor(), secs % 60.0)
    }
}

/// Progress of the job training now, with Stop: shown in the page header and in the live
/// piece that started it.
#[component]
pub fn JobProgress(#[prop(optional)] group: Option<&'static str>) -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let lang = lang();
    let mine = move || match (trainer.busy.get(), group) {
        (Some(busy), Some(g)) => busy == g,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let text = move || {
        let p = trainer.progress.get();
        let l = lang.get();
        let group = trainer.busy.get().unwrap_or_default();
        if p.steps_done == 0 {
            return format!("{group} · {}", PREPARING.get(l));
        }
        let runs = if p.runs > 1 {
            pick(l, format!("run {} of {} · ", p.run, p.runs), format!("第 {}/{} 次运行 · ", p.run, p.runs))
        } else {
            String::new()
        };
        format!(
            "{group} · {runs}{} / {} {} · {:.1} {} · {} {}",
            p.steps_done,
            p.steps_total,
            STEPS.get(l),
            p.steps_per_sec,
            STEPS_PER_SEC.get(l),
            seconds(p.secs_left),
            LEFT.get(l),
        )
    };
    view! {
        <Show when=mine>
            <div class="job-progress" role="status" data-steps=move || trainer.progress.get().steps_done>
                <progress max=move || trainer.progress.get().steps_total.max(1) value=move || trainer.progress.get().steps_done></progress>
                <span class="job-text">{text}</span>
                <button class="stop" on:click=move |_| trainer.stop()>{tr(STOP)}</button>
            </div>
        </Show>
    }
}

/// Progress, messages and the run list of one live piece (`group`).
#[component]
pub fn RunPanel(group: &'static str) -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let device = expect_context::<DeviceState>();
    let lang = lang();
    let busy_elsewhere = move || trainer.busy.get().is_some_and(|g| g != group);
    let message = move || trainer.message_for(group);
    let rows = move || {
        let l = lang.get();
        store
            .group(group)
            .into_iter()
            .map(|r| {
                let id = r.id;
                let swatch = format!("background: {}", css_colour(r.series.colour));
                let link = playground_link(&r, l);
                let status = status_text(&r, l);
                let failed = r.outcome().is_some_and(|o| o.failed());
                view! {
                    <li class="run" class:failed=failed data-run=id>
                        <span class="swatch" style=swatch aria-hidden="true"></span>
                        <span class="run-label">{r.series.label.clone()}</span>
                        <span class="run-status">{status}</span>
                        <span class="run-device">{r.device.clone()}</span>
                        <a class="run-link" href=link title=LINK_TITLE.get(l)>{LINK.get(l)}</a>
                        <button class="small" on:click=move |_| store.remove(id)
                            prop:disabled=move || store.records.with(|rs| rs.iter().any(|x| x.id == id && x.status == RunStatus::Running))>
                            {REMOVE.get(l)}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let empty = move || store.group(group).is_empty();
    let export_csv = move |_| {
        let text = records::to_csv(&store.group(group));
        if let Err(e) = browser::download_text(&format!("normlab-{}.csv", group.replace('/', "-")), "text/csv", &text) {
            log::warn!("{e}");
        }
    };
    let export_json = move |_| {
        let text = records::to_json(&store.group(group));
        if let Err(e) =
            browser::download_text(&format!("normlab-{}.json", group.replace('/', "-")), "application/json", &text)
        {
            log::warn!("{e}");
        }
    };
    view! {
        <div class="run-panel" data-group=group>
            <JobProgress group=group />
            <Show when=busy_elsewhere>
                <p class="note">{tr(BUSY_ELSEWHERE)}</p>
            </Show>
            {move || message().map(|(text, error)| view! {
                <p class=if error { "alert" } else { "note" } role=if error { "alert" } else { "status" }>{text}</p>
            })}
            <Show when=move || trainer.restartable.get().as_deref() == Some(group)>
                <button class="restart" on:click=move |_| { trainer.restart(); }
                    prop:disabled=move || trainer.is_busy() || !device.ready()>{tr(RESTART)}</button>
            </Show>
            <h4>{tr(RUNS)}</h4>
            <Show when=empty>
                <p class="muted">{tr(NO_RUNS)}</p>
            </Show>
            <ul class="runs">{rows}</ul>
            <div class="buttons">
                <button class="small export-csv" on:click=export_csv prop:disabled=empty>{tr(EXPORT_CSV)}</button>
                <button class="small export-json" on:click=export_json prop:disabled=empty>{tr(EXPORT_JSON)}</button>
                <button class="small clear" on:click=move |_| store.clear_group(group) prop:disabled=empty>{tr(CLEAR)}</button>
            </div>
        </div>
    }
}
