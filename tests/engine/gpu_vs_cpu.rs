//! Every GPU kernel against the CPU reference, natively (Vulkan; lavapipe in CI). The
//! cases themselves live in `normlab::backend::kernel_check`, shared with the browser test
//! and the page's device self-check.

use normlab::backend::gpu::GpuContext;
use normlab::backend::kernel_check::{check_every_kernel, CaseOutcome};

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

/// Every case's mismatch report, or the check's own error.
pub fn failures_of(outcomes: Result<Vec<CaseOutcome>, String>) -> Result<usize, String> {
    let outcomes = outcomes?;
    let failed: Vec<String> = outcomes.iter().filter_map(|o| o.mismatch.clone()).collect();
    if failed.is_empty() {
        Ok(outcomes.len())
    } else {
        Err(format!("{} of {} cases differ:\n{}", failed.len(), outcomes.len(), failed.join("\n")))
    }
}

#[test]
fn every_kernel_matches_the_cpu_reference() {
    let Some(ctx) = gpu_or_skip("every_kernel_matches_the_cpu_reference") else { return };
    eprintln!("GPU: {}", ctx.adapter);
    let mut log = |o: &CaseOutcome| {
        eprintln!(
            "  {}: largest difference {:.1e}, worst {:.3} of tolerance",
            o.name, o.largest_difference, o.tolerance_used
        )
    };
    let outcomes = pollster::block_on(check_every_kernel(&ctx, &mut log));
    match failures_of(outcomes) {
        Ok(cases) => assert!(cases >= 55, "only {cases} cases ran"),
        Err(report) => panic!("{report}"),
    }
}
