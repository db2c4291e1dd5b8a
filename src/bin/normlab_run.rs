//! normlab-run: trains an experiment from the command line, on the CPU backend or the
//! native GPU backend (Vulkan), with the same configuration as the page and its URL.
//!
//! ```text
//! normlab-run [--backend cpu|gpu] [--threads N] [--url 'http://…/?norm=batch&lr=0.001'] [--KEY VALUE]… [--data-dir www/data]
//! normlab-run [--backend cpu|gpu] --preset high-lr-full
//! ```
//! Every `--KEY VALUE` is a URL parameter of the page (data, norm, opt, lr, batch, epochs,
//! seed, batches, …). `--preset` runs one of the lessons' experiments instead. Prints one
//! JSON line per epoch (and per probe, for the experiments that look inside the network)
//! and a final summary line per run; a preset ends with a table of its runs.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// The runner trains natively; in a browser build there is nothing for it to do.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use normlab::backend::engine::{AnyBackend, Engine};
    use normlab::backend::Backend;
    use normlab::data::{toy, Dataset, Source};
    use normlab::experiment::stats::loss_noise;
    use normlab::experiment::{presets, Event, ExperimentConfig, Observer, Outcome, ProbeSpec, Run};
    use normlab::NormlabError;

    /// Prints epochs, probes and divergence as JSON lines; keeps the batch losses.
    struct JsonLines {
        backend: String,
        losses: Vec<f32>,
    }

    impl Observer for JsonLines {
        fn on_event(&mut self, event: &Event) {
            match event {
                Event::Epoch(summary) => {
                    let mut line = serde_json::to_value(summary).unwrap_or_default();
                    line["backend"] = self.backend.clone().into();
                    println!("{line}");
                }
                Event::Diverged { .. } => println!("{}", serde_json::to_string(event).unwrap_or_default()),
                Event::Probe(report) => {
                    // Histograms are for the page; the runner prints the numbers.
                    let mut line = serde_json::to_value(report).unwrap_or_default();
                    if let Some(layers) = line.get_mut("activations").and_then(|a| a.as_array_mut()) {
                        for layer in layers {
                            layer.as_object_mut().map(|o| o.remove("histogram"));
                        }
                    }
                    println!("{}", serde_json::json!({ "probe": line }));
                }
                Event::Losses { losses, .. } => self.losses.extend_from_slice(losses),
                Event::Evaluating { .. } => {}
            }
        }
    }

    const USAGE: &str = "usage: normlab-run [--backend cpu|gpu] [--threads N] [--url URL] [--data-dir DIR] [--KEY VALUE]...
       normlab-run [--backend cpu|gpu] [--threads N] [--data-dir DIR] --preset EXPERIMENT-(smoke|quick|full)
  --threads N: the CPU backend's threads (default 1, as in the browser; results depend slightly on N)
  --cifar-file PATH: a CIFAR-10 binary batch file, for data=cifar10
  KEY is a page URL parameter:
    data (fashion-mnist|mnist|names|moons|circles|spirals|cifar10)  train (subset size)  arch (mlp|cnn|char)  hidden (256-256)
    channels (32-64)  embed (10)  init (weight-scale multiplier)
    norm (none|batch|layer|instance|group4|rms|l1|l2|linf, or a comma list per block)  place (before|after)
    act (relu|tanh)  dropout (0..1)  bias (1|0)  affine (1|0)  momentum (0.1|none)  noise (0..10)
    opt (sgd|adam)  lr  wd  batch  epochs  seed  batches (cap per epoch)  clip (none|norm:1|norm-l1:1|norm-inf:1|value:0.5)
    drop (0.5:0.1: after half the steps, lr × 0.1)
  EXPERIMENT is one of the lessons' experiments:";

    fn usage() -> String {
        format!("{USAGE} {}", presets::EXPERIMENTS.join(", "))
    }

    pub fn main() -> ExitCode {
        let mut backend = "cpu".to_string();
        let mut threads = 1;
        let mut query = String::new();
        let mut preset: Option<String> = None;
        let mut cifar_file: Option<PathBuf> = None;
        let mut data_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/www/data"));
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let Some(key) = arg.strip_prefix("--") else {
                eprintln!("unexpected argument {arg:?}\n{}", usage());
                return ExitCode::from(2);
            };
            if key == "help" {
                println!("{}", usage());
                return ExitCode::SUCCESS;
            }
            let Some(value) = args.next() else {
                eprintln!("--{key} needs a value\n{}", usage());
                return ExitCode::from(2);
            };
            match key {
                "backend" => backend = value,
                "threads" => match value.parse::<usize>() {
                    Ok(n) if (1..=256).contains(&n) => threads = n,
                    _ => {
                        eprintln!("--threads takes a whole number from 1 to 256, not {value:?}");
                        return ExitCode::from(2);
                    }
                },
                "data-dir" => data_dir = PathBuf::from(value),
                "preset" => preset = Some(value),
                "cifar-file" => cifar_file = Some(PathBuf::from(value)),
                "url" => {
                    let q = value.split_once('?').map_or(value.as_str(), |(_, q)| q);
                    query.push('&');
                    query.push_str(q.split('#').next().unwrap_or(""));
                }
                _ => query.push_str(&format!("&{key}={value}")),
            }
        }
        let runs = match preset {
            Some(name) => match presets::named(&name) {
                Some(runs) => runs,
                None => {
                    eprintln!("unknown preset {name:?}\n{}", usage());
                    return ExitCode::from(2);
                }
            },
            None => {
                let (config, problems) = ExperimentConfig::from_query(&query);
                for problem in &problems {
                    eprintln!("warning: {problem}");
                }
                vec![(config, None)]
            }
        };
        // One engine for every run: the GPU device is opened, and its pipelines compiled, once.
        let engine = match pollster::block_on(Engine::open(&backend, threads)) {
            Ok(engine) => engine,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        let mut table = Vec::new();
        for (config, probes) in &runs {
            match pollster::block_on(run(&engine, config, probes.clone(), &data_dir, cifar_file.as_deref())) {
                Ok((outcome, losses)) => {
                    let noise = loss_noise(&losses);
                    println!(
                        "{}",
                        serde_json::json!({ "summary": outcome, "loss_noise": noise, "config": config, "backend": backend })
                    );
                    table.push(format!("{:<70} {}  loss noise {noise:.3}", config.label(), describe(&outcome)));
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
        if runs.len() > 1 {
            eprintln!("\n{}", table.join("\n"));
        }
        ExitCode::SUCCESS
    }

    fn describe(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Finished { final_test_accuracy, not_learning } => format!(
                "test accuracy {:5.1} %{}",
                final_test_accuracy * 100.0,
                if *not_learning { " (not learning)" } else { "" }
            ),
            Outcome::Diverged { epoch, batch } => format!("diverged at epoch {epoch}, batch {batch}"),
            Outcome::Stopped { epoch, batch } => format!("stopped at epoch {epoch}, batch {batch}"),
        }
    }

    async fn run(
        engine: &Engine,
        config: &ExperimentConfig,
        probes: Option<ProbeSpec>,
        data_dir: &Path,
        cifar_file: Option<&Path>,
    ) -> Result<(Outcome, Vec<f32>), NormlabError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| NormlabError::Fetch { what: path.display().to_string(), reason: e.to_string() })
        };
        let dataset = match config.dataset.source() {
            Source::Shipped(file) => Dataset::from_file_bytes(config.dataset, &read(&data_dir.join(file))?)?,
            Source::Generated(shape) => toy::generate(shape),
            Source::UserFile => match cifar_file {
                Some(path) => Dataset::from_file_bytes(config.dataset, &read(path)?)?,
                None => {
                    return Err(NormlabError::InvalidConfig(normlab::words!(
                        "data=cifar10 needs --cifar-file PATH",
                        "data=cifar10 需要 --cifar-file PATH"
                    )))
                }
            },
        };
        train(engine.backend(), config, probes, &dataset).await
    }

    async fn train(
        backend: AnyBackend,
        config: &ExperimentConfig,
        probes: Option<ProbeSpec>,
        dataset: &Dataset,
    ) -> Result<(Outcome, Vec<f32>), NormlabError> {
        let describe = backend.describe();
        eprintln!("training on {describe}: {}", config.label());
        let mut run = Run::new(backend, config, dataset)?;
        if let Some(spec) = probes {
            run.set_probes(spec);
        }
        let layers: Vec<String> = run.model.layers.iter().map(|l| l.describe()).collect();
        eprintln!("model: {}", layers.join(" → "));
        let mut observer = JsonLines { backend: describe, losses: Vec::new() };
        let outcome = run.train(&mut observer).await?;
        Ok((outcome, observer.losses))
    }
}
