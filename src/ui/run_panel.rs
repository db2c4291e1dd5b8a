//! The run management every live piece shares: progress with speed and time left, Stop,
//! the list of its runs with their outcome and a link that reproduces each, and exports.

use leptos::prelude::*;

use super::browser;
use super::device::DeviceState;
use super::i18n::*;
use super::runs::RunStore;
use super::trainer::{job_error_words, JobPhase, Progress, Trainer};
use crate::chart::css_colour;
use crate::experiment::Outcome;
use crate::platform;
use crate::records::{self, RunRecord, RunStatus};

/// A run's state in words. The verdict ("not learning") follows from the numbers by
/// `experiment::verdict`; a test run (smoke preset) is too short to show a lesson's
/// effect, so it carries none.
pub fn status_text(record: &RunRecord, lang: Lang) -> String {
    match &record.status {
        RunStatus::Running => RUNNING.get(lang).to_string(),
        RunStatus::Interrupted => INTERRUPTED.get(lang).to_string(),
        RunStatus::Failed { reason, reason_zh } => match (lang, reason_zh) {
            (Lang::Zh, Some(zh)) => format!("失败：{zh}"),
            (Lang::Zh, None) => format!("失败：{reason}"),
            (Lang::En, _) => format!("failed: {reason}"),
        },
        RunStatus::Done { outcome } => {
            let text = outcome_text(outcome, record.trial, lang);
            if record.trial {
                pick(
                    lang,
                    format!("test run, too short to show the effect: {text}"),
                    format!("试运行，太短，看不出效果：{text}"),
                )
            } else {
                text
            }
        }
    }
}

fn outcome_text(outcome: &Outcome, trial: bool, lang: Lang) -> String {
    match outcome {
        Outcome::Finished { final_test_accuracy, not_learning } => {
            let accuracy = final_test_accuracy * 100.0;
            if *not_learning && !trial {
                pick(
                    lang,
                    format!("not learning: loss at chance level, test accuracy {accuracy:.1} %"),
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
        Outcome::Stopped { epoch: 0, .. } => {
            pick(lang, "stopped before the first batch".into(), "在第一个批之前就停止了".into())
        }
        Outcome::Stopped { epoch, batch } => pick(
            lang,
            format!("stopped at epoch {epoch}, batch {batch}"),
            format!("停在第 {epoch} 个 epoch 的第 {batch} 个批"),
        ),
    }
}

/// Whether the run's status is a failure to show in red (test runs never are).
pub fn failed(record: &RunRecord) -> bool {
    !record.trial && record.outcome().is_some_and(|o| o.failed())
}

/// The address that opens a run's exact configuration in the playground, on the engine
/// that trained it.
pub fn playground_link(record: &RunRecord, lang: Lang) -> String {
    let engine = record.engine.as_deref().map(|e| format!("&engine={e}")).unwrap_or_default();
    format!("?lesson=playground&lang={}&{}{engine}", lang.code(), record.config.to_query())
}

/// The job's progress in words.
fn progress_text(p: &Progress, group: &str, now: f64, l: Lang) -> String {
    let piece = piece_name(group, l);
    let runs = if p.runs > 1 && p.run_last > p.run {
        pick(
            l,
            format!(" · runs {}–{} of {}", p.run, p.run_last, p.runs),
            format!(" · 第 {}–{}/{} 次运行", p.run, p.run_last, p.runs),
        )
    } else if p.runs > 1 {
        pick(l, format!(" · run {} of {}", p.run, p.runs), format!(" · 第 {}/{} 次运行", p.run, p.runs))
    } else {
        String::new()
    };
    // One run's epoch; several runs at once are each at their own.
    let one_run = p.run_last <= p.run;
    let elapsed = format!(" · {} {}", duration_words(p.elapsed_millis(now), l), ELAPSED.get(l));
    let left = p
        .left_millis(now)
        .map(|ms| match ms < 500.0 {
            true => pick(l, " · under a second left".into(), " · 剩不到 1 秒".into()),
            false => pick(
                l,
                format!(" · about {} left", duration_words(ms, l)),
                format!(" · 约剩 {}", duration_words(ms, l)),
            ),
        })
        .unwrap_or_default();
    let threads = if p.threads > 1 {
        pick(l, format!(" × {} threads", p.threads), format!(" × {} 个线程", p.threads))
    } else {
        String::new()
    };
    let engine = p.engine.map(|e| format!(" · {}{threads}", e.name(l).trim_start_matches("the "))).unwrap_or_default();
    // While several runs train, one evaluating is a moment of the job, not its phase.
    let phase = if !one_run && p.phase == JobPhase::Evaluating { JobPhase::Training } else { p.phase };
    match phase {
        JobPhase::Loading => format!("{piece} · {}{elapsed}", LOADING.get(l)),
        JobPhase::Measuring => format!("{piece} · {}{elapsed}", MEASURING.get(l)),
        JobPhase::Stopping => format!("{piece} · {}", STOPPING.get(l)),
        JobPhase::Building => format!("{piece}{runs} · {}{engine}{elapsed}{left}", BUILDING.get(l)),
        JobPhase::Evaluating => format!(
            "{piece}{runs} · {} {}{engine}{elapsed}{left}",
            EVALUATING.get(l),
            pick(l, format!("after epoch {}", p.epoch), format!("第 {} 个 epoch 之后", p.epoch))
        ),
        JobPhase::Training => {
            let epochs = if p.epochs > 1 && one_run {
                pick(
                    l,
                    format!(" · epoch {} of {}", p.epoch, p.epochs),
                    format!(" · 第 {}/{} 个 epoch", p.epoch, p.epochs),
                )
            } else {
                String::new()
            };
            format!(
                "{piece}{runs}{epochs} · {} / {} {} · {:.1} {}{engine}{elapsed}{left}",
                p.steps_done,
                p.steps_total,
                STEPS.get(l),
                p.steps_per_sec,
                STEPS_PER_SEC.get(l),
            )
        }
    }
}

/// Progress of the job training now, with Stop: shown in the page header and in the live
/// piece that started it. It moves at least once a second (elapsed and remaining time
/// tick with the trainer's clock), whatever a step costs.
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
        trainer.tick.get();
        let group = trainer.busy.get().unwrap_or_default();
        progress_text(&trainer.progress.get(), &group, platform::now_millis(), lang.get())
    };
    let phase = move || format!("{:?}", trainer.progress.get().phase).to_lowercase();
    let stopping = move || trainer.progress.get().phase == JobPhase::Stopping;
    view! {
        <Show when=mine>
            <div class="job-progress" role="status" data-steps=move || trainer.progress.get().steps_done
                data-phase=phase data-tick=move || trainer.tick.get()>
                <progress max=move || trainer.progress.get().steps_total.max(1) value=move || trainer.progress.get().steps_done></progress>
                <span class="job-text">{text}</span>
                <button class="stop" on:click=move |_| trainer.stop() prop:disabled=stopping>{tr(STOP)}</button>
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
                let failed = failed(&r);
                view! {
                    <li class="run" class:failed=failed data-run=id>
                        <span class="swatch" style=swatch aria-hidden="true"></span>
                        <span class="run-label">{r.series.label.clone()}
                            <span class="run-config">{words(&r.config.label_words(), l).to_string()}</span>
                        </span>
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
            {move || message().map(|(error, is_error)| view! {
                <p class=if is_error { "alert" } else { "note" } role=if is_error { "alert" } else { "status" }>
                    {job_error_words(&error, lang.get())}
                </p>
            })}
            <Show when=move || trainer.restartable.get().as_deref() == Some(group)>
                <button class="restart" on:click=move |_| { trainer.restart(); }
                    prop:disabled=move || trainer.is_busy() || !device.ready()>{tr(RESTART)}</button>
            </Show>
            <h3 class="runs-heading">{tr(RUNS)}</h3>
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
