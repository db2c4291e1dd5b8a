//! normlab-run: trains an experiment from the command line, on the CPU backend or the
//! native GPU backend (Vulkan), with the same settings as the page and its URL.
//!
//! ```text
//! normlab-run [--backend cpu|gpu] [--threads N] [--url 'http://…/?norm=batch&lr=0.001'] [--KEY VALUE]…
//! normlab-run [--backend cpu|gpu] --preset high-lr-full [--seed N] [--epochs N]
//! ```
//! Every `--KEY VALUE` is a setting of the page's address, checked strictly (`--help`
//! lists them with their defaults). Prints one JSON line per epoch (and per probe, for the
//! experiments that look inside the network) and a summary line per run on standard
//! output, a progress bar per run on standard error; a preset ends with a table of its runs.

#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod report;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// The runner trains natively; in a browser build there is nothing for it to do.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::Path;
    use std::process::ExitCode;

    use normlab::backend::engine::Engine;
    use normlab::data::{toy, Dataset, DatasetId, Source};
    use normlab::experiment::stats::loss_noise;
    use normlab::experiment::{ExperimentConfig, Outcome, ProbeSpec, Run};
    use normlab::NormlabError;

    use crate::cli::{self, Plan, Training};
    use crate::report::{json, progress_bar, BackendLabel, ProgressWhere, RunReport};

    pub fn main() -> ExitCode {
        match cli::parse() {
            Plan::ListPresets => {
                println!("{}", cli::list_presets());
                ExitCode::SUCCESS
            }
            Plan::Train(training) => train_all(&training),
        }
    }

    fn train_all(training: &Training) -> ExitCode {
        let Training { cli, runs } = training;
        let backend = cli.backend.name();
        // One engine for every run: the GPU device is opened, and its pipelines compiled, once.
        let engine = match pollster::block_on(Engine::open(backend, usize::from(cli.threads))) {
            Ok(engine) => engine,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        let label = BackendLabel { backend, device: engine.describe() };
        let progress = if cli.progress { ProgressWhere::Always } else { ProgressWhere::TerminalOnly };
        let mut table = Vec::new();
        for (index, (config, probes)) in runs.iter().enumerate() {
            let title = format!("run {}/{}", index + 1, runs.len());
            let trained = load(config, &cli.data_dir, cli.cifar_file.as_deref()).and_then(|dataset| {
                pollster::block_on(train(&engine, &label, config, probes.clone(), &dataset, title, progress))
            });
            match trained {
                Ok((outcome, losses)) => {
                    let noise = loss_noise(&losses);
                    let summary = serde_json::json!({
                        "summary": json(&outcome),
                        "loss_noise": json(&noise),
                        "config": json(config),
                    });
                    label.print(summary);
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

    fn load(config: &ExperimentConfig, data_dir: &Path, cifar_file: Option<&Path>) -> Result<Dataset, NormlabError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| NormlabError::Fetch { what: path.display().to_string(), reason: e.to_string() })
        };
        match config.dataset.source() {
            Source::Shipped(file) => Dataset::from_file_bytes(config.dataset, &read(&data_dir.join(file))?),
            Source::Generated(shape) => Ok(toy::generate(shape)),
            Source::UserFile if config.dataset == DatasetId::ImageFolder => Err(NormlabError::InvalidConfig(normlab::words!(
                "--data image-folder is the page's own images (decoded by the browser); the runner cannot read a folder of images",
                "--data image-folder 是页面里你自己的图像（由浏览器解码）；命令行运行器不能读取图像文件夹"
            ))),
            Source::UserFile => match cifar_file {
                Some(path) => Dataset::from_file_bytes(config.dataset, &read(path)?),
                None => Err(NormlabError::InvalidConfig(normlab::words!(
                    "--data cifar10 needs --cifar-file PATH",
                    "--data cifar10 需要 --cifar-file PATH"
                ))),
            },
        }
    }

    async fn train(
        engine: &Engine,
        label: &BackendLabel,
        config: &ExperimentConfig,
        probes: Option<ProbeSpec>,
        dataset: &Dataset,
        title: String,
        progress: ProgressWhere,
    ) -> Result<(Outcome, Vec<f32>), NormlabError> {
        eprintln!("training on {}: {}", label.device, config.label());
        let mut run = Run::new(engine.backend(), config, dataset)?;
        if let Some(spec) = probes {
            run.set_probes(spec);
        }
        let layers: Vec<String> = run.model.layers.iter().map(|l| l.describe()).collect();
        eprintln!("model: {}", layers.join(" → "));
        let total_steps = config.steps_per_epoch(config.training_pool(dataset)) * config.epochs;
        let bar = progress_bar(total_steps as u64, title, progress);
        let mut report = RunReport { label: label.clone(), bar, losses: Vec::new() };
        let outcome = run.train(&mut report).await;
        if !report.bar.is_finished() {
            report.bar.finish();
        }
        Ok((outcome?, report.losses))
    }
}
