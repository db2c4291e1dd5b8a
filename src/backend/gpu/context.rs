//! Acquiring the GPU once. Kernels and backends take a [`GpuContext`]; they never make
//! devices themselves, so tests and the page inject the device they have.

use std::sync::{Arc, Mutex, OnceLock};

use super::kernels::Pipelines;

use crate::error::NormlabError;

/// What the page shows about the compute device.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdapterDescription {
    pub vendor: String,
    pub architecture: String,
    pub description: String,
    /// Which API runs underneath: "WebGPU", "Vulkan", ...
    pub api: String,
    /// The browser says this is a fallback adapter (`GPUAdapterInfo.isFallbackAdapter`:
    /// a software implementation, or one with severe performance limits).
    pub fallback: bool,
}

impl AdapterDescription {
    /// Whether this adapter is a software renderer running on the CPU (a fallback adapter,
    /// or one of the known software implementations by name), whose speed is the CPU's
    /// shared with the page.
    pub fn is_software(&self) -> bool {
        const SOFTWARE: [&str; 6] = ["swiftshader", "llvmpipe", "lavapipe", "software", "basic render", "warp"];
        let names = format!("{} {} {}", self.vendor, self.architecture, self.description).to_lowercase();
        self.fallback || SOFTWARE.iter().any(|s| names.contains(s)) || self.architecture == "Cpu"
    }
}

impl std::fmt::Display for AdapterDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<&str> = [self.vendor.as_str(), self.architecture.as_str(), self.description.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let name = if parts.is_empty() { "unnamed adapter".to_string() } else { parts.join(" · ") };
        write!(f, "{} ({})", name, self.api)
    }
}

/// A device and queue, and the first error the device reported, if any.
#[derive(Clone)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: AdapterDescription,
    pub limits: wgpu::Limits,
    /// Set by wgpu's uncaptured-error and device-lost callbacks; read by the backend.
    pub(crate) fault: Arc<Mutex<Option<NormlabError>>>,
    /// Every kernel's pipeline, compiled on first use and then shared by every backend
    /// (every run) on this device: a second run starts without compiling a shader.
    pipelines: Arc<OnceLock<Pipelines>>,
}

impl GpuContext {
    /// Finds an adapter and opens a device with the adapter's own limits (a training run
    /// may need large storage buffers). In the browser this is WebGPU; natively Vulkan.
    pub async fn new() -> Result<Self, NormlabError> {
        Self::with_features(wgpu::Features::empty()).await
    }

    /// Like [`GpuContext::new`], with timestamp queries where the adapter has them, so
    /// that the benchmark can time each kernel (`GpuBackend::start_kernel_timing`).
    pub async fn for_profiling() -> Result<Self, NormlabError> {
        Self::with_features(wgpu::Features::TIMESTAMP_QUERY).await
    }

    /// `wanted` features are asked for where the adapter has them.
    async fn with_features(wanted: wgpu::Features) -> Result<Self, NormlabError> {
        #[cfg(target_arch = "wasm32")]
        let browser_info = browser::adapter_description().await?;

        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
        descriptor.backends =
            if cfg!(target_arch = "wasm32") { wgpu::Backends::BROWSER_WEBGPU } else { wgpu::Backends::VULKAN };
        let instance = wgpu::Instance::new(descriptor);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| NormlabError::NoGpu(crate::words!("no adapter ({e})", "没有适配器（{e}）")))?;
        let limits = adapter.limits();
        let required_features = adapter.features() & wanted;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("normlab"),
                required_features,
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| NormlabError::NoGpu(crate::words!("device request failed ({e})", "请求设备失败（{e}）")))?;

        #[cfg(target_arch = "wasm32")]
        let adapter_description = browser_info;
        #[cfg(not(target_arch = "wasm32"))]
        let adapter_description = {
            let info = adapter.get_info();
            AdapterDescription {
                vendor: format!("{:#06x}", info.vendor),
                architecture: format!("{:?}", info.device_type),
                description: info.name,
                api: format!("{:?}", info.backend),
                fallback: false,
            }
        };
        Ok(Self::from_parts(device, queue, adapter_description, limits))
    }

    /// Wraps a device made elsewhere and installs the error hooks.
    pub fn from_parts(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter: AdapterDescription,
        limits: wgpu::Limits,
    ) -> Self {
        let fault: Arc<Mutex<Option<NormlabError>>> = Arc::default();
        let on_error = fault.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            let mut slot = on_error.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(match error {
                    wgpu::Error::OutOfMemory { .. } => NormlabError::Gpu("the GPU ran out of memory".into()),
                    other => NormlabError::Gpu(other.to_string()),
                });
            }
        }));
        let on_lost = fault.clone();
        device.set_device_lost_callback(move |reason, message| {
            let mut slot = on_lost.lock().unwrap_or_else(|p| p.into_inner());
            *slot = Some(NormlabError::DeviceLost(format!("{reason:?}: {message}")));
        });
        GpuContext { device, queue, adapter, limits, fault, pipelines: Arc::default() }
    }

    /// The device's compiled pipelines (compiled here the first time).
    pub(crate) fn pipelines(&self) -> Pipelines {
        self.pipelines.get_or_init(|| Pipelines::new(&self.device)).clone()
    }

    /// Whether the pipelines have been compiled yet (the first run on a device pays for it).
    pub fn pipelines_compiled(&self) -> bool {
        self.pipelines.get().is_some()
    }

    /// The first error the device reported since the last call, if any.
    pub fn take_fault(&self) -> Option<NormlabError> {
        self.fault.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    //! wgpu reports only the adapter's description on the web; the page also wants the
    //! vendor and architecture, and a precise reason when WebGPU is missing.
    use js_sys::Reflect;
    use wasm_bindgen::{JsCast, JsValue};

    use super::AdapterDescription;
    use crate::error::NormlabError;

    fn field(object: &JsValue, name: &str) -> String {
        Reflect::get(object, &JsValue::from_str(name)).ok().and_then(|v| v.as_string()).unwrap_or_default()
    }

    pub async fn adapter_description() -> Result<AdapterDescription, NormlabError> {
        let navigator = web_sys::window()
            .map(|w| JsValue::from(w.navigator()))
            .ok_or_else(|| NormlabError::NoGpu(crate::words!("no browser window", "没有浏览器窗口")))?;
        let gpu = Reflect::get(&navigator, &JsValue::from_str("gpu")).unwrap_or(JsValue::UNDEFINED);
        if gpu.is_undefined() || gpu.is_null() {
            return Err(NormlabError::NoGpu(crate::words!(
                "this browser has no navigator.gpu",
                "这个浏览器没有 navigator.gpu"
            )));
        }
        let request = Reflect::get(&gpu, &JsValue::from_str("requestAdapter"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| {
                NormlabError::NoGpu(crate::words!(
                    "navigator.gpu.requestAdapter is missing",
                    "缺少 navigator.gpu.requestAdapter"
                ))
            })?;
        let promise =
            request.call0(&gpu).ok().and_then(|p| p.dyn_into::<js_sys::Promise>().ok()).ok_or_else(|| {
                NormlabError::NoGpu(crate::words!("requestAdapter failed", "requestAdapter 调用失败"))
            })?;
        let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| {
            NormlabError::NoGpu(crate::words!("requestAdapter failed: {e:?}", "requestAdapter 调用失败：{e:?}"))
        })?;
        if adapter.is_null() || adapter.is_undefined() {
            return Err(NormlabError::NoGpu(crate::words!(
                "no WebGPU adapter is available",
                "没有可用的 WebGPU 适配器"
            )));
        }
        let info = Reflect::get(&adapter, &JsValue::from_str("info")).unwrap_or(JsValue::UNDEFINED);
        // Older browsers put the flag on the adapter, newer ones on its info.
        let flag = |object: &JsValue| {
            Reflect::get(object, &JsValue::from_str("isFallbackAdapter")).ok().and_then(|v| v.as_bool())
        };
        Ok(AdapterDescription {
            vendor: field(&info, "vendor"),
            architecture: field(&info, "architecture"),
            description: field(&info, "description"),
            api: "WebGPU".into(),
            fallback: flag(&info).or_else(|| flag(&adapter)).unwrap_or(false),
        })
    }
}
