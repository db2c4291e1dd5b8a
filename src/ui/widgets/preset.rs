//! The preset choice every live piece shows: test run, quick or full, each saying what it
//! runs and how long it takes on the engine that would train it (measured on this device,
//! before anything starts: see `experiment::pace`).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::experiment::pace::{family_key, job_millis, RunWork};
use crate::experiment::presets::Preset;
use crate::nn::Architecture;
use crate::ui::device::{DeviceState, EngineChoice, EngineKind, GpuStatus};
use crate::ui::fetch::load_dataset;
use crate::ui::i18n::*;
use crate::ui::trainer::{RunRequest, Trainer};

/// What one run of a preset needs for its description and its time.
#[derive(Clone, Debug, PartialEq)]
struct PlannedRun {
    family: String,
    work: RunWork,
    architecture: Architecture,
    train_examples: usize,
    epochs: usize,
}

/// The runs of each preset, once their data sets are known.
type Plans = Vec<(Preset, Vec<PlannedRun>)>;

fn model_name(architecture: &Architecture, lang: Lang) -> &'static str {
    match (architecture, lang) {
        (Architecture::Mlp { .. }, _) => "MLP",
        (Architecture::Cnn { .. }, _) => "CNN",
        (Architecture::CharMlp { .. }, Lang::En) => "character model",
        (Architecture::CharMlp { .. }, Lang::Zh) => "字符模型",
        (Architecture::Transformer { .. }, _) => "Transformer",
    }
}

/// "2 runs of the CNN, 2 epochs each on 3 000 training examples (184 steps)".
fn plan_words(runs: &[PlannedRun], lang: Lang) -> String {
    let Some(first) = runs.first() else { return String::new() };
    let steps: usize = runs.iter().map(|r| r.work.steps).sum();
    let same = |f: &dyn Fn(&PlannedRun) -> usize| runs.iter().all(|r| f(r) == f(first));
    let epochs = if same(&|r| r.epochs) { Some(first.epochs) } else { None };
    let examples = if same(&|r| r.train_examples) { Some(first.train_examples) } else { None };
    let model = model_name(&first.architecture, lang);
    let count = runs.len();
    match lang {
        Lang::En => {
            let runs =
                if count == 1 { format!("1 run of the {model}") } else { format!("{count} runs of the {model}") };
            let epochs = match epochs {
                Some(1) => ", 1 epoch".to_string(),
                Some(e) => format!(", {e} epochs"),
                None => String::new(),
            };
            let data = examples.map(|n| format!(" on {} training examples", thousands(n))).unwrap_or_default();
            format!("{runs}{epochs}{data}, {} steps in all", thousands(steps))
        }
        Lang::Zh => {
            let epochs = epochs.map(|e| format!("，每次 {e} 个 epoch")).unwrap_or_default();
            let data = examples.map(|n| format!("，{} 个训练样本", thousands(n))).unwrap_or_default();
            format!("{model} 运行 {count} 次{epochs}{data}，共 {} 步", thousands(steps))
        }
    }
}

/// 3000 → "3 000" (a thin space between thousands, as in both languages' science texts).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// The engine a job of these runs would train on and how long it would take there (the
/// CPU's runs spread over its workers, as the job will train them), from what this device
/// measured; None while a measurement is missing.
fn estimate(device: &DeviceState, trainer: &Trainer, runs: &[PlannedRun]) -> Option<Estimate> {
    let on = |engine: EngineKind| -> Option<Estimate> {
        let each: Option<Vec<f64>> =
            runs.iter().map(|r| device.cost(engine, &r.family).map(|c| r.work.millis(&c))).collect();
        let lanes = trainer.lanes(engine, runs.len());
        Some(Estimate { engine, millis: job_millis(&each?, lanes), lanes })
    };
    let gpu = matches!(device.gpu.get(), GpuStatus::Ready(_));
    match (device.choice.get(), gpu) {
        (EngineChoice::Cpu, _) | (_, false) => on(EngineKind::Cpu),
        (EngineChoice::WebGpu, true) => on(EngineKind::WebGpu),
        (EngineChoice::Automatic, true) => {
            let (cpu, gpu) = (on(EngineKind::Cpu)?, on(EngineKind::WebGpu)?);
            Some(if gpu.millis < cpu.millis { gpu } else { cpu })
        }
    }
}

/// How long a job would take, where, and how many of its runs would train at once.
#[derive(Clone, Copy)]
struct Estimate {
    engine: EngineKind,
    millis: f64,
    lanes: usize,
}

fn estimate_words(estimate: Option<Estimate>, lang: Lang) -> String {
    match estimate {
        Some(Estimate { engine, millis, lanes }) => {
            let on = engine.name(lang);
            let (about, zh_about) = match millis < 500.0 {
                true => ("under a second".to_string(), "不到 1 秒".to_string()),
                false => {
                    (format!("about {}", duration_words(millis, lang)), format!("约 {}", duration_words(millis, lang)))
                }
            };
            match lanes {
                1 => pick(lang, format!("{about} on {on} here"), format!("在本机 {on} 上{zh_about}")),
                n => pick(
                    lang,
                    format!("{about} on {on} here, {n} runs at a time"),
                    format!("在本机 {on} 上{zh_about}（同时训练 {n} 次运行）"),
                ),
            }
        }
        None => pick(lang, "timing this device…".into(), "正在测量本机速度…".into()),
    }
}

/// Test run, quick or full, as radio buttons, each with what it runs and how long it takes
/// on this device. `plan` gives the runs of a preset (the same the Train button starts).
#[component]
pub fn PresetChoice<P>(name: &'static str, value: RwSignal<Preset>, plan: P) -> impl IntoView
where
    P: Fn(Preset) -> Vec<RunRequest> + Clone + 'static,
{
    let trainer = expect_context::<Trainer>();
    let device = expect_context::<DeviceState>();
    let lang = lang();
    let plans: RwSignal<Plans> = RwSignal::new(Vec::new());
    // The plans follow the live piece's own settings (a slider, an initialisation): the
    // effect runs again when a signal `plan` reads changes.
    Effect::new(move |_| {
        let all: Vec<Vec<RunRequest>> = Preset::ALL.iter().map(|&p| plan(p)).collect();
        spawn_local(async move {
            let mut planned = Vec::new();
            for (preset, runs) in Preset::ALL.into_iter().zip(all) {
                let mut list = Vec::new();
                for RunRequest { config, probes, .. } in runs {
                    let Ok(data) = load_dataset(config.dataset).await else { continue };
                    let family = family_key(&config, &data);
                    let known =
                        |e: EngineKind| device.costs.with_untracked(|c| c.contains_key(&device.cost_key(e, &family)));
                    if !known(EngineKind::Cpu) || !known(EngineKind::WebGpu) {
                        trainer.want_costs(config.clone());
                    }
                    list.push(PlannedRun {
                        family,
                        work: RunWork::of(&config, config.training_pool(&data), data.test.len, probes.as_ref()),
                        architecture: config.model.architecture.clone(),
                        train_examples: {
                            let pool = config.training_pool(&data);
                            config.train_subset.map_or(pool, |n| n.min(pool))
                        },
                        epochs: config.epochs,
                    });
                }
                planned.push((preset, list));
            }
            // The live piece may be gone by now (the student moved on).
            let _ = plans.try_set(planned);
        });
    });
    let runs_of = move |p: Preset| plans.with(|all| all.iter().find(|(q, _)| *q == p).map(|(_, r)| r.clone()));
    let option = move |preset: Preset, msg: Msg| {
        let time = move || {
            runs_of(preset)
                .and_then(|runs| estimate(&device, &trainer, &runs))
                .map(|e| format!(" ({})", duration_words(e.millis, lang.get())))
                .unwrap_or_default()
        };
        view! {
            <label class="radio">
                <input type="radio" name=name value=preset.name()
                    prop:checked=move || value.get() == preset
                    on:change=move |_| value.set(preset) />
                {tr(msg)}
                <span class="preset-time">{time}</span>
            </label>
        }
    };
    let description = move || {
        let l = lang.get();
        let Some(runs) = runs_of(value.get()) else { return String::new() };
        let (plan, time) = (plan_words(&runs, l), estimate_words(estimate(&device, &trainer, &runs), l));
        // A sentence ends once: the "timing…" ellipsis already ends it.
        let end = |mark: &'static str| if time.ends_with('…') { "" } else { mark };
        pick(l, format!("{plan}; {time}{}", end(".")), format!("{plan}；{time}{}", end("。")))
    };
    view! {
        <fieldset class="preset">
            <legend>{tr(PRESET)}</legend>
            {option(Preset::Smoke, SMOKE)}
            {option(Preset::Quick, QUICK)}
            {option(Preset::Full, FULL)}
            <p class="preset-plan" aria-live="polite">{description}</p>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(3000), "3\u{2009}000");
        assert_eq!(thousands(940), "940");
        assert_eq!(thousands(1_234_567), "1\u{2009}234\u{2009}567");
    }
}
