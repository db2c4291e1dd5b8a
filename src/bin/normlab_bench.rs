//! normlab-bench: how fast a training step is, on each backend this machine has.
//!
//! ```text
//! cargo run --release --bin normlab-bench [-- --steps 20 --only cpu|gpu]
//! ```
//! For the CNN of the notes and the MLP 784-256-256-10, both with BatchNorm and Adam, at
//! batch 64 and 256: milliseconds per step (median of several timed blocks after warm-up),
//! images per second, and on the GPU the queue submissions and dispatches per step.
//! This is a measurement, not a test: it prints figures and never fails on them.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::process::ExitCode;

    use normlab::backend::cpu::CpuBackend;
    use normlab::backend::gpu::{GpuBackend, GpuContext};
    use normlab::backend::Backend;
    use normlab::data::{epoch_order, Dataset};
    use normlab::experiment::{ExperimentConfig, Run};
    use normlab::nn::Architecture;
    use normlab::platform::now_millis;
    use normlab::NormlabError;

    const BLOCKS: usize = 5;

    struct Figures {
        ms_per_step: f64,
        submissions_per_step: Option<f64>,
        dispatches_per_step: Option<f64>,
    }

    /// Times `steps` training steps in each of several blocks (after a warm-up block) and
    /// returns the median block's time per step. Every block ends with a read-back, so
    /// GPU work is included.
    async fn time_steps<B: Backend>(
        run: &mut Run<B>,
        steps: usize,
        counters: impl Fn(&Run<B>) -> Option<(u64, u64)>,
    ) -> Result<Figures, NormlabError> {
        let order = epoch_order(10_000, 1, 0);
        let batch = run.config.batch_size;
        let rows = |i: usize| {
            let start = (i * batch) % (order.len() - batch);
            order[start..start + batch].to_vec()
        };
        let mut block_ms = Vec::new();
        let mut counts = None;
        for block in 0..=BLOCKS {
            let before = counters(run);
            let started = now_millis();
            for i in 0..steps {
                run.record_train_step(&rows(block * steps + i), i % 8)?;
            }
            run.read_metrics().await?;
            let elapsed = now_millis() - started;
            if block > 0 {
                block_ms.push(elapsed / steps as f64);
            }
            if let (Some(a), Some(b)) = (before, counters(run)) {
                // The read-back adds one submission per block; count only the steps'.
                counts = Some(((b.0 - a.0 - 1) as f64 / steps as f64, (b.1 - a.1) as f64 / steps as f64));
            }
        }
        block_ms.sort_by(f64::total_cmp);
        Ok(Figures {
            ms_per_step: block_ms[block_ms.len() / 2],
            submissions_per_step: counts.map(|c| c.0),
            dispatches_per_step: counts.map(|c| c.1),
        })
    }

    fn configs() -> Vec<(&'static str, ExperimentConfig)> {
        let mut out = Vec::new();
        for batch in [64, 256] {
            out.push(("CNN+BN", ExperimentConfig { batch_size: batch, ..ExperimentConfig::notes_cnn() }));
            out.push((
                "MLP+BN",
                ExperimentConfig {
                    batch_size: batch,
                    architecture: Architecture::Mlp { hidden: vec![256, 256] },
                    ..ExperimentConfig::default()
                },
            ));
        }
        out
    }

    fn row(backend: &str, model: &str, batch: usize, f: &Figures) {
        let per_step = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "| {backend:<28} | {model:<7} | {batch:>5} | {:>9.2} | {:>9.0} | {:>11} | {:>10} |",
            f.ms_per_step,
            batch as f64 / (f.ms_per_step / 1000.0),
            per_step(f.submissions_per_step),
            per_step(f.dispatches_per_step),
        );
    }

    pub fn main() -> ExitCode {
        let mut steps = 10;
        let mut only: Option<String> = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match (arg.as_str(), args.next()) {
                ("--steps", Some(v)) => steps = v.parse().unwrap_or(steps),
                ("--only", Some(v)) => only = Some(v),
                _ => {
                    eprintln!("usage: normlab-bench [--steps N] [--only cpu|gpu]");
                    return ExitCode::from(2);
                }
            }
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/fashion-mnist.nlds.gz");
        let dataset = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| Dataset::from_nlds_gz(&b).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("normlab-bench: {steps} steps per block, median of {BLOCKS} blocks after one warm-up block; Adam");
        println!("| backend                      | model   | batch | ms/step   | images/s  | submits/step | dispatches/step |");
        println!(
            "|------------------------------|---------|-------|-----------|-----------|-------------|------------|"
        );
        let gpu = if only.as_deref() == Some("cpu") {
            None
        } else {
            pollster::block_on(GpuContext::new()).map_err(|e| eprintln!("no GPU: {e}")).ok()
        };
        for (model, config) in configs() {
            if only.as_deref() != Some("gpu") {
                let result = pollster::block_on(async {
                    let mut run = Run::new(CpuBackend::new(), &config, &dataset)?;
                    time_steps(&mut run, steps, |_| None).await
                });
                match result {
                    Ok(f) => row("CPU (1 thread)", model, config.batch_size, &f),
                    Err(e) => eprintln!("CPU {model}: {e}"),
                }
            }
            if let Some(ctx) = &gpu {
                let name = ctx.adapter.description.clone();
                let result = pollster::block_on(async {
                    let mut run = Run::new(GpuBackend::new(ctx.clone()), &config, &dataset)?;
                    time_steps(&mut run, steps, |r| Some((r.backend.submission_count(), r.backend.dispatch_count())))
                        .await
                });
                match result {
                    Ok(f) => {
                        row(&format!("GPU {}", name.chars().take(24).collect::<String>()), model, config.batch_size, &f)
                    }
                    Err(e) => eprintln!("GPU {model}: {e}"),
                }
            }
        }
        ExitCode::SUCCESS
    }
}
