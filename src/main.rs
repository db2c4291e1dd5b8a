//! The browser entry point (built by Trunk). Natively this binary only points to the
//! runner, which is the command-line way to train.

#[cfg(target_arch = "wasm32")]
fn main() {
    normlab::ui::start();
}

/// The benchmark's hook into the page (see `ui::benchmark`): `tools/bench/browser_bench.mjs`
/// calls it as `window.wasmBindings.benchmark_training_step(json)`. Exported from the
/// binary itself, where Trunk's start-up script picks up the exports.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn benchmark_training_step(request: String) -> Result<String, wasm_bindgen::JsValue> {
    normlab::ui::benchmark_training_step(&request).await.map_err(|e| wasm_bindgen::JsValue::from_str(&e))
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("normlab's page is built with Trunk (see README.md); to train from the command line, run normlab-run.");
}
