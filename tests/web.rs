//! The GPU kernels against the CPU reference inside a real browser: headless Chromium's
//! WebGPU on SwiftShader, through wasm-bindgen-test (see webdriver.json).
//!
//!     cargo test --target wasm32-unknown-unknown --test web
#![cfg(target_arch = "wasm32")]

#[path = "common/gpu_cases/mod.rs"]
mod gpu_cases;

use normlab::backend::gpu::GpuContext;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn every_kernel_matches_the_cpu_reference_on_webgpu() {
    // A browser without an adapter fails here: these tests exist to run the kernels.
    let ctx = GpuContext::new().await.expect("headless Chromium should offer a WebGPU adapter (SwiftShader)");
    let checked = gpu_cases::run_all(&ctx).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(checked > 10, "only {checked} cases ran");
}
