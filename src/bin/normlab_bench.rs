//! normlab-bench: how fast a training step is on each native backend this machine has.
//!
//! ```text
//! cargo run --release --bin normlab-bench [-- --steps 10 --blocks 5 --only cpu|gpu --models cnn,mlp
//!                                             --batches 64,256 --json FILE --data FILE]
//! ```
//! For the CNN of the notes and the MLP 784-256-256-10, both with BatchNorm and Adam, at
//! batch 64 and 256: milliseconds per step (the median of timed blocks after a warm-up,
//! see `normlab::experiment::benchmark`), images per second, on the CPU backend with one
//! thread (as in the browser) and with every core; on the GPU also the queue
//! submissions and dispatches per step and, where the driver has timestamp queries, how
//! long each kernel runs and the share of the step the GPU is busy. `--json FILE` appends
//! one JSON object per figure, which `scripts/bench.sh` sets beside PyTorch's and
//! TensorFlow.js's. `--data` names the Fashion-MNIST subset (default: the repository's
//! `www/data/fashion-mnist.nlds.gz`, where the binary was built), for a binary carried to
//! another machine. This is a measurement, not a test: it never fails on the figures.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::io::Write;
    use std::process::ExitCode;

    use normlab::backend::engine::Engine;
    use normlab::data::{Dataset, DatasetId};
    use normlab::experiment::benchmark::{
        profile_kernels, time_training_steps, BenchModel, BenchSchedule, KernelShare, StepTiming,
    };
    use normlab::experiment::Run;
    use normlab::NormlabError;
    use serde_json::json;

    struct Options {
        schedule: BenchSchedule,
        only: Option<String>,
        models: Vec<BenchModel>,
        batches: Vec<usize>,
        json: Option<String>,
        data: String,
    }

    fn parse_options() -> Result<Options, String> {
        let mut options = Options {
            schedule: BenchSchedule { steps_per_block: 10, blocks: 5 },
            only: None,
            models: BenchModel::ALL.to_vec(),
            batches: vec![64, 256],
            json: None,
            data: concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/fashion-mnist.nlds.gz").to_string(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
            let number = |v: &str| v.parse::<usize>().map_err(|_| format!("{arg}: '{v}' is not a whole number"));
            match arg.as_str() {
                "--steps" => options.schedule.steps_per_block = number(&value)?.max(1),
                "--blocks" => options.schedule.blocks = number(&value)?.max(1),
                "--only" if value == "cpu" || value == "gpu" => options.only = Some(value),
                "--models" => {
                    options.models = value
                        .split(',')
                        .map(|m| match m {
                            "cnn" => Ok(BenchModel::Cnn),
                            "mlp" => Ok(BenchModel::Mlp),
                            "transformer" => Ok(BenchModel::Transformer),
                            other => Err(format!("unknown model '{other}' (cnn, mlp, transformer)")),
                        })
                        .collect::<Result<_, _>>()?
                }
                "--batches" => options.batches = value.split(',').map(number).collect::<Result<_, _>>()?,
                "--json" => options.json = Some(value),
                "--data" => options.data = value,
                _ => return Err(format!("unknown option {arg}")),
            }
        }
        Ok(options)
    }

    /// `busy`: the share of a (profiled) step the GPU spends in kernels.
    fn print_row(backend: &str, model: BenchModel, batch: usize, t: &StepTiming, busy: Option<f64>) {
        let per_step = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "| {backend:<30} | {:<14} | {batch:>5} | {:>9.2} | {:>9.0} | {:>7} | {:>10} | {:>8} |",
            model.label(),
            t.ms_per_step,
            t.images_per_s,
            per_step(t.submissions_per_step),
            per_step(t.dispatches_per_step),
            busy.map_or("-".to_string(), |b| format!("{:.0} %", 100.0 * b)),
        );
    }

    fn model_key(model: BenchModel) -> &'static str {
        match model {
            BenchModel::Cnn => "cnn",
            BenchModel::Mlp => "mlp",
            BenchModel::Transformer => "transformer",
        }
    }

    pub fn main() -> ExitCode {
        let options = match parse_options() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("normlab-bench: {e}");
                eprintln!(
                    "usage: normlab-bench [--steps N] [--blocks N] [--only cpu|gpu] [--models cnn,mlp,transformer] [--batches 64,256] [--json FILE] [--data FILE]"
                );
                return ExitCode::from(2);
            }
        };
        let path = &options.data;
        let images = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| Dataset::from_nlds_gz(&b).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let names_path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/names.txt");
        let names = match std::fs::read(names_path)
            .map_err(|e| e.to_string())
            .and_then(|b| Dataset::from_file_bytes(DatasetId::NameSequences, &b).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {names_path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut json_out = match &options.json {
            Some(p) => match std::fs::OpenOptions::new().create(true).append(true).open(p) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("error: {p}: {e}");
                    return ExitCode::FAILURE;
                }
            },
            None => None,
        };
        let mut emit = |value: serde_json::Value| {
            if let Some(f) = json_out.as_mut() {
                let _ = writeln!(f, "{value}");
            }
        };
        let BenchSchedule { steps_per_block, blocks } = options.schedule;
        println!("normlab-bench: {steps_per_block} steps per block, median of {blocks} blocks after one warm-up block; Adam lr 1e-3");
        println!("| backend                        | model          | batch | ms/step   | images/s  | submits | dispatches | GPU busy |");
        println!("|--------------------------------|----------------|-------|-----------|-----------|---------|------------|----------|");
        let gpu = if options.only.as_deref() == Some("cpu") {
            None
        } else {
            pollster::block_on(Engine::gpu_for_profiling()).map_err(|e| eprintln!("no GPU: {e}")).ok()
        };
        let cpu_name = cpu_model_name();
        // Single-threaded as in the browser, and with every core.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu_threads: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
        let mut profiles = Vec::new();
        // Batch by batch, the models timed at each (the transformer at its own batch only).
        let mut pairs: Vec<(usize, BenchModel)> = options
            .models
            .iter()
            .flat_map(|&model| model.batches(&options.batches).into_iter().map(move |batch| (batch, model)))
            .collect();
        pairs.sort_by_key(|&(batch, model)| (batch, BenchModel::ALL.iter().position(|&m| m == model)));
        for (batch, model) in pairs {
            {
                let dataset = if model.dataset() == DatasetId::NameSequences { &names } else { &images };
                let config = model.config(batch);
                let base =
                    json!({"suite": "native", "framework": "normlab", "model": model_key(model), "batch": batch});
                if options.only.as_deref() != Some("gpu") {
                    for &threads in &cpu_threads {
                        let result = pollster::block_on(async {
                            let mut run = Run::new(Engine::cpu_threads(threads).backend(), &config, dataset)?;
                            time_training_steps(&mut run, options.schedule, |_| None).await
                        });
                        match result {
                            Ok(t) => {
                                let label = if threads == 1 {
                                    "CPU (1 thread)".into()
                                } else {
                                    format!("CPU ({threads} threads)")
                                };
                                print_row(&label, model, batch, &t, None);
                                let mut v = base.clone();
                                merge(&mut v, json!({"backend": "cpu", "threads": threads, "device": cpu_name}));
                                merge(&mut v, serde_json::to_value(&t).unwrap_or_default());
                                emit(v);
                            }
                            Err(e) => eprintln!("CPU {}: {e}", model.label()),
                        }
                    }
                }
                if let Some(engine) = &gpu {
                    let name = engine.adapter().map(|a| a.description.clone()).unwrap_or_default();
                    let result = pollster::block_on(async {
                        let mut run = Run::new(engine.backend(), &config, dataset)?;
                        let timing = time_training_steps(&mut run, options.schedule, |r| r.backend.counters()).await?;
                        let profile = profile_kernels(&mut run, options.schedule.steps_per_block)
                            .await
                            .map_err(|e| eprintln!("no per-kernel times: {e}"))
                            .ok();
                        Ok::<_, NormlabError>((timing, profile))
                    });
                    match result {
                        Ok((t, profile)) => {
                            let label = format!("GPU {}", name.chars().take(26).collect::<String>());
                            let busy = profile.as_ref().map(|p| p.busy_ms_per_step / p.wall_ms_per_step);
                            print_row(&label, model, batch, &t, busy);
                            let mut v = base.clone();
                            merge(&mut v, json!({"backend": "vulkan", "device": name}));
                            merge(&mut v, serde_json::to_value(&t).unwrap_or_default());
                            if let Some(p) = &profile {
                                merge(
                                    &mut v,
                                    json!({"gpu_busy_ms_per_step": p.busy_ms_per_step,
                                           "profiled_ms_per_step": p.wall_ms_per_step,
                                           "gpu_busy_share": p.busy_ms_per_step / p.wall_ms_per_step,
                                           "kernels": p.kernels}),
                                );
                                profiles.push((model, batch, p.kernels.clone(), p.wall_ms_per_step));
                            }
                            emit(v);
                        }
                        Err(e) => eprintln!("GPU {}: {e}", model.label()),
                    }
                }
            }
        }
        for (model, batch, kernels, step_ms) in profiles {
            println!();
            println!(
                "GPU time per kernel, {} at batch {batch} (a profiled step: {step_ms:.2} ms wall):",
                model.label()
            );
            println!("| kernel                     | ms/step | share of step | dispatches/step |");
            println!("|----------------------------|---------|---------------|-----------------|");
            for KernelShare { kernel, ms_per_step, dispatches_per_step } in kernels.iter().take(12) {
                println!(
                    "| {kernel:<26} | {ms_per_step:>7.3} | {:>11.1} % | {dispatches_per_step:>15.1} |",
                    100.0 * ms_per_step / step_ms
                );
            }
        }
        ExitCode::SUCCESS
    }

    fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
        if let (Some(a), serde_json::Value::Object(b)) = (into.as_object_mut(), from) {
            a.extend(b);
        }
    }

    fn cpu_model_name() -> String {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(str::trim)
                    .map(String::from)
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string())
    }
}
