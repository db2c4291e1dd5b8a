//! Which engine the page trains on. WebGPU is looked for once at start-up; the student
//! picks automatic, WebGPU or the CPU (remembered across lessons and reloads, and carried
//! by a run's link). In automatic mode each job trains on the engine that measured faster
//! for its model (see `experiment::pace`): a software WebGPU adapter is often far slower
//! than the page's CPU engine, and the panel says so in words.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::i18n::{lang, pick, tr, Lang, DETECTING, DEVICE};
pub use crate::backend::engine::Engine;
use crate::backend::engine::{self, AdapterDescription};
use crate::experiment::pace::StepCost;

/// The page's name for an engine's kind.
pub fn kind_of(engine: &Engine) -> EngineKind {
    match engine.kind() {
        engine::EngineKind::Gpu => EngineKind::WebGpu,
        engine::EngineKind::Cpu => EngineKind::Cpu,
    }
}

/// The two engines, without their state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    WebGpu,
    Cpu,
}

impl EngineKind {
    /// How a link names the engine a run used.
    pub fn code(self) -> &'static str {
        match self {
            EngineKind::WebGpu => "webgpu",
            EngineKind::Cpu => "cpu",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (EngineKind::WebGpu, _) => "WebGPU",
            (EngineKind::Cpu, Lang::En) => "the CPU",
            (EngineKind::Cpu, Lang::Zh) => "CPU",
        }
    }
}

/// What the student asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// The engine that measured faster for the job's model.
    #[default]
    Automatic,
    WebGpu,
    Cpu,
}

impl EngineChoice {
    pub const ALL: [EngineChoice; 3] = [EngineChoice::Automatic, EngineChoice::WebGpu, EngineChoice::Cpu];

    /// The value in links (`engine=`) and in storage.
    pub fn code(self) -> &'static str {
        match self {
            EngineChoice::Automatic => "auto",
            EngineChoice::WebGpu => "webgpu",
            EngineChoice::Cpu => "cpu",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "auto" => Some(EngineChoice::Automatic),
            "webgpu" | "gpu" => Some(EngineChoice::WebGpu),
            "cpu" => Some(EngineChoice::Cpu),
            _ => None,
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (EngineChoice::Automatic, Lang::En) => "Automatic (the faster, measured)",
            (EngineChoice::Automatic, Lang::Zh) => "自动（实测更快者）",
            (EngineChoice::WebGpu, _) => "WebGPU",
            (EngineChoice::Cpu, Lang::En) => "CPU",
            (EngineChoice::Cpu, Lang::Zh) => "CPU",
        }
    }
}

/// What the page found of WebGPU.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuStatus {
    Detecting,
    Ready(AdapterDescription),
    /// WebGPU is missing or failed; the reason says how (in English, from the browser).
    Missing {
        reason: String,
    },
}

/// Why the last job trained where it did, for the panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub engine: EngineKind,
    /// The model, in words ("the CNN").
    pub model: (String, String),
    /// How many times slower the other engine measured for this job (None: only one
    /// engine was measured or asked for).
    pub other_slower: Option<f64>,
    /// The other engine's figure is a lower bound (its larger batch was not timed).
    pub at_least: bool,
}

const CHOICE_KEY: &str = "normlab.engine";
const COSTS_KEY: &str = "normlab.costs.v1";

#[derive(Clone, Copy)]
pub struct DeviceState {
    pub gpu: RwSignal<GpuStatus>,
    pub choice: RwSignal<EngineChoice>,
    pub decision: RwSignal<Option<Decision>>,
    /// Measured costs by [`DeviceState::cost_key`], kept in the browser between visits.
    pub costs: RwSignal<HashMap<String, StepCost>>,
    /// The WebGPU engine, opened once (its pipelines compiled once, for every run).
    gpu_engine: StoredValue<Option<Engine>, LocalStorage>,
    /// How many engine workers a link asked the CPU's jobs to use (`workers=`; 0 trains
    /// on the page's own thread, as a comparison); None: one per core.
    asked_workers: Option<usize>,
}

impl DeviceState {
    /// Starts looking for a WebGPU adapter; until it answers, the status is `Detecting`.
    /// `linked` is the engine a link asked for (`engine=`, or the older `backend=cpu`): it
    /// becomes the student's choice.
    pub fn detect(linked: Option<EngineChoice>, asked_workers: Option<usize>) -> Self {
        let stored = browser::load(CHOICE_KEY).as_deref().and_then(EngineChoice::parse);
        let choice = linked.or(stored).unwrap_or_default();
        if linked.is_some() {
            let _ = browser::save(CHOICE_KEY, choice.code());
        }
        let costs: HashMap<String, StepCost> =
            browser::load(COSTS_KEY).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        let state = DeviceState {
            gpu: RwSignal::new(GpuStatus::Detecting),
            choice: RwSignal::new(choice),
            decision: RwSignal::new(None),
            costs: RwSignal::new(costs),
            gpu_engine: StoredValue::new_local(None),
            asked_workers,
        };
        spawn_local(async move {
            match Engine::gpu().await {
                Ok(gpu) => {
                    let adapter = gpu.adapter().cloned().unwrap_or_default();
                    state.gpu_engine.set_value(Some(gpu));
                    state.gpu.set(GpuStatus::Ready(adapter));
                }
                Err(error) => state.gpu.set(GpuStatus::Missing { reason: error.to_string() }),
            }
        });
        state
    }

    /// Whether WebGPU has answered (one way or the other): runs wait until then.
    pub fn ready(&self) -> bool {
        self.gpu.get() != GpuStatus::Detecting
    }

    pub fn set_choice(&self, choice: EngineChoice) {
        self.choice.set(choice);
        let _ = browser::save(CHOICE_KEY, choice.code());
    }

    /// How many engine workers a link asked for (0: the page's own thread).
    pub fn asked_workers(&self) -> Option<usize> {
        self.asked_workers
    }

    /// The GPU, where WebGPU works.
    pub fn gpu_engine(&self) -> Option<Engine> {
        self.gpu_engine.get_value()
    }

    /// The engines a job may use, given the student's choice: one, or both for the
    /// automatic choice to measure.
    pub fn candidates(&self) -> Vec<Engine> {
        match (self.choice.get_untracked(), self.gpu_engine()) {
            (EngineChoice::Cpu, _) | (_, None) => vec![Engine::cpu()],
            (EngineChoice::WebGpu, Some(gpu)) => vec![gpu],
            (EngineChoice::Automatic, Some(gpu)) => vec![gpu, Engine::cpu()],
        }
    }

    /// Where a cost measured on `engine` for a model family is kept.
    pub fn cost_key(&self, engine: EngineKind, family: &str) -> String {
        match (engine, self.gpu.get_untracked()) {
            (EngineKind::WebGpu, GpuStatus::Ready(adapter)) => format!("webgpu {adapter} | {family}"),
            (EngineKind::WebGpu, _) => format!("webgpu | {family}"),
            (EngineKind::Cpu, _) => format!("cpu | {family}"),
        }
    }

    /// The cost measured for `family` on `engine`, if it was (reactive).
    pub fn cost(&self, engine: EngineKind, family: &str) -> Option<StepCost> {
        let key = self.cost_key(engine, family);
        self.costs.with(|c| c.get(&key).copied())
    }

    pub fn remember_cost(&self, engine: EngineKind, family: &str, cost: StepCost) {
        let key = self.cost_key(engine, family);
        self.costs.update(|c| {
            c.insert(key, cost);
        });
        let text = self.costs.with_untracked(|c| serde_json::to_string(c).unwrap_or_default());
        let _ = browser::save(COSTS_KEY, &text);
    }

    /// After a lost device: asks WebGPU for a new one (the status says `Detecting`
    /// meanwhile, which holds back new runs); without one, jobs train on the CPU.
    pub fn recover(&self, lost: String) {
        self.gpu_engine.set_value(None);
        self.gpu.set(GpuStatus::Detecting);
        let state = *self;
        spawn_local(async move {
            match Engine::gpu().await {
                Ok(gpu) => {
                    let mut adapter = gpu.adapter().cloned().unwrap_or_default();
                    adapter.description =
                        format!("{} (a new device after the last was lost: {lost})", adapter.description);
                    state.gpu_engine.set_value(Some(gpu));
                    state.gpu.set(GpuStatus::Ready(adapter));
                }
                Err(error) => state.gpu.set(GpuStatus::Missing {
                    reason: format!("the GPU device was lost ({lost}) and no new one came: {error}"),
                }),
            }
        });
    }
}

/// The adapter in words, saying when it is a software renderer.
pub fn adapter_words(adapter: &AdapterDescription, lang: Lang) -> String {
    let name = adapter.to_string();
    match (adapter.is_software(), lang) {
        (true, Lang::En) => format!("{name}, a software renderer (it runs on the CPU)"),
        (true, Lang::Zh) => format!("{name}，一个软件渲染器（在 CPU 上运行）"),
        (false, _) => name,
    }
}

/// "measured 40× slower than …", or "at least 40×" for a lower bound.
fn times(ratio: f64, at_least: bool, lang: Lang) -> String {
    let n = if ratio >= 10.0 { format!("{ratio:.0}") } else { format!("{ratio:.1}") };
    match (at_least, lang) {
        (false, Lang::En) => format!("{n}×"),
        (true, Lang::En) => format!("at least {n}×"),
        (false, Lang::Zh) => format!("{n} 倍"),
        (true, Lang::Zh) => format!("至少 {n} 倍"),
    }
}

/// What the panel says: the adapter, the student's choice and, after a job in automatic
/// mode, which engine trained and why.
pub fn device_words(status: &GpuStatus, choice: EngineChoice, decision: Option<&Decision>, lang: Lang) -> String {
    let gpu = match status {
        GpuStatus::Detecting => return DETECTING.get(lang).to_string(),
        GpuStatus::Ready(adapter) => pick(
            lang,
            format!("WebGPU on {}", adapter_words(adapter, lang)),
            format!("WebGPU：{}", adapter_words(adapter, lang)),
        ),
        GpuStatus::Missing { reason } => pick(
            lang,
            format!("WebGPU unavailable ({reason}): training on the CPU"),
            format!("WebGPU 不可用（{reason}）：在 CPU 上训练"),
        ),
    };
    if matches!(status, GpuStatus::Missing { .. }) {
        return gpu;
    }
    let choice_words = match choice {
        EngineChoice::Cpu => pick(lang, "; you chose the CPU".into(), "；你选择了 CPU".into()),
        EngineChoice::WebGpu => pick(lang, "; you chose WebGPU".into(), "；你选择了 WebGPU".into()),
        EngineChoice::Automatic => match decision {
            None => pick(
                lang,
                "; each job trains on the engine that measures faster for its model".into(),
                "；每个任务都在实测对其模型更快的引擎上训练".into(),
            ),
            Some(d) => {
                let model = pick(lang, d.model.0.clone(), d.model.1.clone());
                match (d.engine, d.other_slower) {
                    (EngineKind::Cpu, Some(r)) => pick(
                        lang,
                        format!(
                            "; measured {} slower than this CPU for {model}: training on the CPU",
                            times(r, d.at_least, lang)
                        ),
                        format!("；对{model}实测比本机 CPU 慢 {}：在 CPU 上训练", times(r, d.at_least, lang)),
                    ),
                    (EngineKind::WebGpu, Some(r)) => pick(
                        lang,
                        format!(
                            "; the CPU measured {} slower for {model}: training on WebGPU",
                            times(r, d.at_least, lang)
                        ),
                        format!("；对{model}，CPU 实测慢 {}：在 WebGPU 上训练", times(r, d.at_least, lang)),
                    ),
                    (engine, None) => pick(
                        lang,
                        format!("; training on {}", engine.name(lang)),
                        format!("；在 {} 上训练", engine.name(lang)),
                    ),
                }
            }
        },
    };
    format!("{gpu}{choice_words}")
}

#[component]
pub fn DevicePanel(device: DeviceState) -> impl IntoView {
    let lang = lang();
    let text = move || {
        let decision = device.decision.get();
        device_words(&device.gpu.get(), device.choice.get(), decision.as_ref(), lang.get())
    };
    let class = move || match (device.gpu.get(), device.decision.get().map(|d| d.engine), device.choice.get()) {
        (GpuStatus::Detecting, _, _) => "device",
        (GpuStatus::Missing { .. }, _, _) | (_, _, EngineChoice::Cpu) | (_, Some(EngineKind::Cpu), _) => "device cpu",
        _ => "device gpu",
    };
    let engine_label = move || pick(lang.get(), "Engine".into(), "引擎".into());
    view! {
        <section id="device" class=class aria-live="polite">
            <span class="device-label">{tr(DEVICE)}": "</span>
            <span class="device-name">{text}</span>
            <label class="engine-choice">
                <span>{engine_label}</span>
                <select id="engine" prop:value=move || device.choice.get().code()
                    on:change=move |ev| {
                        if let Some(choice) = EngineChoice::parse(&event_target_value(&ev)) {
                            device.set_choice(choice);
                        }
                    }>
                    {EngineChoice::ALL.iter().map(|&c| view! {
                        <option value=c.code()>{move || c.label(lang.get())}</option>
                    }).collect_view()}
                </select>
            </label>
        </section>
    }
}
