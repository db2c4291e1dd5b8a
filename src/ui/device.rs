//! Which compute device the page trains on, found once at start-up and shown to the student.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::i18n::{lang, pick, tr, DETECTING, DEVICE};
use crate::backend::gpu::GpuContext;

/// The engine a run will use: the GPU context when WebGPU works, else the CPU.
#[derive(Clone)]
pub enum Engine {
    Gpu(Box<GpuContext>),
    Cpu,
}

/// What the device panel says.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceStatus {
    Detecting,
    Gpu(String),
    /// WebGPU is missing or failed; the reason says how.
    Cpu {
        reason: String,
    },
}

#[derive(Clone, Copy)]
pub struct DeviceState {
    pub status: RwSignal<DeviceStatus>,
    engine: StoredValue<Option<Engine>, LocalStorage>,
}

impl DeviceState {
    /// Starts looking for a WebGPU adapter; until it answers, the status is `Detecting`.
    pub fn detect(force_cpu: bool) -> Self {
        let state =
            DeviceState { status: RwSignal::new(DeviceStatus::Detecting), engine: StoredValue::new_local(None) };
        spawn_local(async move {
            let (engine, status) = if force_cpu {
                (Engine::Cpu, DeviceStatus::Cpu { reason: "the link asks for the CPU (backend=cpu)".into() })
            } else {
                match GpuContext::new().await {
                    Ok(ctx) => {
                        let name = ctx.adapter.to_string();
                        (Engine::Gpu(Box::new(ctx)), DeviceStatus::Gpu(name))
                    }
                    Err(error) => (Engine::Cpu, DeviceStatus::Cpu { reason: error.to_string() }),
                }
            };
            state.engine.set_value(Some(engine));
            state.status.set(status);
        });
        state
    }

    pub fn engine(&self) -> Option<Engine> {
        self.engine.get_value()
    }

    pub fn ready(&self) -> bool {
        self.status.get() != DeviceStatus::Detecting
    }

    /// After a lost device: asks WebGPU for a new one (the status says `Detecting`
    /// meanwhile, which holds back new runs) and falls back to the CPU if none comes.
    pub fn recover(&self, lost: String) {
        self.engine.set_value(None);
        self.status.set(DeviceStatus::Detecting);
        let state = *self;
        spawn_local(async move {
            let (engine, status) = match GpuContext::new().await {
                Ok(ctx) => {
                    let name = format!("{} (a new device after the last was lost: {lost})", ctx.adapter);
                    (Engine::Gpu(Box::new(ctx)), DeviceStatus::Gpu(name))
                }
                Err(error) => (
                    Engine::Cpu,
                    DeviceStatus::Cpu {
                        reason: format!("the GPU device was lost ({lost}) and no new one came: {error}"),
                    },
                ),
            };
            state.engine.set_value(Some(engine));
            state.status.set(status);
        });
    }
}

#[component]
pub fn DevicePanel(device: DeviceState) -> impl IntoView {
    let lang = lang();
    let detecting = tr(DETECTING);
    let text = move || match device.status.get() {
        DeviceStatus::Detecting => detecting().to_string(),
        DeviceStatus::Gpu(name) => pick(lang.get(), format!("WebGPU: {name}"), format!("WebGPU：{name}")),
        DeviceStatus::Cpu { reason } => pick(
            lang.get(),
            format!("WebGPU unavailable: running on the CPU ({reason})"),
            format!("WebGPU 不可用：在 CPU 上运行（{reason}）"),
        ),
    };
    let class = move || match device.status.get() {
        DeviceStatus::Gpu(_) => "device gpu",
        DeviceStatus::Cpu { .. } => "device cpu",
        DeviceStatus::Detecting => "device",
    };
    view! {
        <section id="device" class=class aria-live="polite">
            <span class="device-label">{tr(DEVICE)}": "</span>
            <span class="device-name">{text}</span>
        </section>
    }
}
