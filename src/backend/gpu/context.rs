//! Acquiring the GPU once. Kernels and backends take a [`GpuContext`]; they never make
//! devices themselves, so tests and the page inject the device they have.

use std::sync::{Arc, Mutex};

use crate::error::NormlabError;

/// What the page shows about the compute device.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdapterDescription {
    pub vendor: String,
    pub architecture: String,
    pub description: String,
    /// Which API runs underneath: "WebGPU", "Vulkan", ...
    pub api: String,
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
            .map_err(|e| NormlabError::NoGpu(format!("no adapter ({e})")))?;
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
            .map_err(|e| NormlabError::NoGpu(format!("device request failed ({e})")))?;

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
        GpuContext { device, queue, adapter, limits, fault }
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
            .ok_or_else(|| NormlabError::NoGpu("no browser window".into()))?;
        let gpu = Reflect::get(&navigator, &JsValue::from_str("gpu")).unwrap_or(JsValue::UNDEFINED);
        if gpu.is_undefined() || gpu.is_null() {
            return Err(NormlabError::NoGpu("this browser has no navigator.gpu".into()));
        }
        let request = Reflect::get(&gpu, &JsValue::from_str("requestAdapter"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| NormlabError::NoGpu("navigator.gpu.requestAdapter is missing".into()))?;
        let promise = request
            .call0(&gpu)
            .ok()
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
            .ok_or_else(|| NormlabError::NoGpu("requestAdapter failed".into()))?;
        let adapter = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|e| NormlabError::NoGpu(format!("requestAdapter failed: {e:?}")))?;
        if adapter.is_null() || adapter.is_undefined() {
            return Err(NormlabError::NoGpu("no WebGPU adapter is available".into()));
        }
        let info = Reflect::get(&adapter, &JsValue::from_str("info")).unwrap_or(JsValue::UNDEFINED);
        Ok(AdapterDescription {
            vendor: field(&info, "vendor"),
            architecture: field(&info, "architecture"),
            description: field(&info, "description"),
            api: "WebGPU".into(),
        })
    }
}
