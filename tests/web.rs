//! The GPU kernels against the CPU reference inside a real browser: headless Chromium's
//! WebGPU on SwiftShader, through wasm-bindgen-test (see webdriver.json).
//!
//!     cargo test --target wasm32-unknown-unknown --test web
#![cfg(target_arch = "wasm32")]

use normlab::backend::gpu::GpuContext;
use normlab::backend::kernel_check::check_every_kernel;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn every_kernel_matches_the_cpu_reference_on_webgpu() {
    // A browser without an adapter fails here: these tests exist to run the kernels.
    let ctx = GpuContext::new().await.expect("headless Chromium should offer a WebGPU adapter (SwiftShader)");
    let outcomes = check_every_kernel(&ctx, &mut |_| {}).await.unwrap_or_else(|e| panic!("{e}"));
    let failed: Vec<&str> = outcomes.iter().filter_map(|o| o.mismatch.as_deref()).collect();
    assert!(failed.is_empty(), "{} of {} cases differ:\n{}", failed.len(), outcomes.len(), failed.join("\n"));
    assert!(outcomes.len() >= 55, "only {} cases ran", outcomes.len());
}
