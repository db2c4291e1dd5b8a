//! Every GPU kernel against the CPU reference, natively (Vulkan; lavapipe in CI). The
//! cases themselves live in `tests/common/gpu_cases/`, shared with the browser test.

use normlab::backend::gpu::GpuContext;

/// The GPU for a test, or None (after a loud line on stderr) when this machine has no
/// adapter. With `NORMLAB_REQUIRE_GPU=1` (CI) a missing adapter fails the test instead.
pub fn gpu_or_skip(test: &str) -> Option<GpuContext> {
    match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => Some(ctx),
        Err(e) if std::env::var("NORMLAB_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("{test}: NORMLAB_REQUIRE_GPU=1 but there is no GPU: {e}")
        }
        Err(e) => {
            // Straight to the process's stderr: the test harness captures eprintln! of a
            // passing test, and a skip must not go unseen.
            use std::io::Write;
            let line = format!("SKIPPED: no GPU adapter: {e} ({test}; NORMLAB_REQUIRE_GPU=1 makes this fail)");
            let _ = writeln!(std::io::stderr(), "\n**** {line} ****\n");
            None
        }
    }
}

#[test]
fn every_kernel_matches_the_cpu_reference() {
    let Some(ctx) = gpu_or_skip("every_kernel_matches_the_cpu_reference") else { return };
    eprintln!("GPU: {}", ctx.adapter);
    let result = pollster::block_on(crate::gpu_cases::run_all_logged(&ctx, &mut |line| eprintln!("  {line}")));
    match result {
        Ok(cases) => assert!(cases >= 42, "only {cases} cases ran"),
        Err(report) => panic!("{report}"),
    }
}
