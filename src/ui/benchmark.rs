//! The page's benchmark hook. `tools/bench/browser_bench.mjs` calls it through the wasm
//! module's exports to time the lab's training step beside TensorFlow.js's on the same
//! WebGPU adapter, in the same browser. The lesson UI never calls it; it measures with
//! `experiment::benchmark`, exactly as the native `normlab-bench` does.

use serde::Deserialize;
use serde_json::json;

use super::fetch::load_dataset;
use super::trainer::workers::EngineWorker;
use crate::backend::engine::{AnyBackend, Engine};
use crate::experiment::benchmark::{profile_kernels, time_training_steps, BenchModel, BenchSchedule};
use crate::experiment::Run;

#[derive(Deserialize)]
struct Request {
    model: BenchModel,
    batch: usize,
    /// "webgpu", "cpu-worker" (the CPU engine as the page trains on it, in a Web Worker)
    /// or "cpu" (the same on the page's own thread).
    backend: String,
    steps_per_block: usize,
    blocks: usize,
    /// Also time each kernel with GPU timestamps, where the browser offers them.
    #[serde(default)]
    kernel_times: bool,
}

/// Times training steps as `request` (JSON) asks; answers with the figures as JSON.
pub async fn benchmark_training_step(request: &str) -> Result<String, String> {
    let request: Request = serde_json::from_str(request).map_err(|e| format!("bad benchmark request: {e}"))?;
    let schedule = BenchSchedule { steps_per_block: request.steps_per_block, blocks: request.blocks };
    let config = request.model.config(request.batch);
    let dataset = load_dataset(request.model.dataset()).await.map_err(|e| e.to_string())?;
    let mut profile = None;
    let (device, timing) = match request.backend.as_str() {
        "webgpu" => {
            let engine = if request.kernel_times { Engine::gpu_for_profiling().await } else { Engine::gpu().await }
                .map_err(|e| e.to_string())?;
            let device = engine.describe();
            let mut run = Run::new(engine.backend(), &config, &dataset).map_err(|e| e.to_string())?;
            let counters = |r: &Run<AnyBackend>| r.backend.counters();
            let timing = time_training_steps(&mut run, schedule, counters).await.map_err(|e| e.to_string())?;
            if request.kernel_times {
                profile = Some(profile_kernels(&mut run, schedule.steps_per_block).await.map_err(|e| e.to_string()));
            }
            (device, timing)
        }
        "cpu" => {
            let mut run = Run::new(Engine::cpu().backend(), &config, &dataset).map_err(|e| e.to_string())?;
            let timing = time_training_steps(&mut run, schedule, |_| None).await.map_err(|e| e.to_string())?;
            ("CPU (wasm, one thread, on the page's thread)".to_string(), timing)
        }
        // As the page trains on the CPU: in an engine worker.
        "cpu-worker" => {
            let worker = EngineWorker::start().await?;
            let timing =
                worker.benchmark(request.model, request.batch, schedule, &dataset).await.map_err(|e| e.to_string())?;
            ("CPU (wasm, one thread, in a Web Worker)".to_string(), timing)
        }
        other => return Err(format!("unknown backend '{other}' (webgpu, cpu, cpu-worker)")),
    };
    let mut answer = json!({
        "framework": "normlab",
        "backend": request.backend,
        "device": device,
        "model": request.model,
        "batch": request.batch,
    });
    let extra = match profile {
        Some(Ok(p)) => json!({"gpu_busy_ms_per_step": p.busy_ms_per_step, "profiled_ms_per_step": p.wall_ms_per_step,
                              "gpu_busy_share": p.busy_ms_per_step / p.wall_ms_per_step, "kernels": p.kernels}),
        Some(Err(e)) => json!({"kernel_times_error": e}),
        None => json!({}),
    };
    for part in [serde_json::to_value(&timing).unwrap_or_default(), extra] {
        if let (Some(a), serde_json::Value::Object(b)) = (answer.as_object_mut(), part) {
            a.extend(b);
        }
    }
    Ok(answer.to_string())
}
