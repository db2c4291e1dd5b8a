//! normlab-run: trains an experiment from the command line, on the CPU backend or the
//! native GPU backend (Vulkan), with the same settings as the page and its URL.
//!
//! ```text
//! normlab-run [--backend cpu|gpu] [--threads N] [--url 'http://…/?norm=batch&lr=0.001'] [--KEY VALUE]…
//! normlab-run [--backend cpu|gpu] --preset high-lr-full [--seed N] [--epochs N]
//! normlab-run --reproduce-course [--seeds 1,2,3] [--only high-lr,batch-sweep]
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
    use normlab::chart::RunSeries;
    use normlab::data::{toy, Dataset, DatasetId, Source};
    use normlab::experiment::catalog::Experiment;
    use normlab::experiment::course_results::{ExperimentResults, SeedRun, VariantResults, RESULTS_VERSION};
    use normlab::experiment::presets::Preset;
    use normlab::experiment::stats::loss_noise;
    use normlab::experiment::{ExperimentConfig, Outcome, ProbeSpec, Run};
    use normlab::platform::now_millis;
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
            Plan::Reproduce { cli, experiments } => reproduce(&cli, &experiments),
            Plan::ResultsTable(dir) => match ExperimentResults::read_dir(&dir) {
                Ok(stored) => {
                    print!("{}", normlab::experiment::measured::markdown_tables(&stored));
                    ExitCode::SUCCESS
                }
                Err(problem) => {
                    eprintln!("error: {problem}");
                    ExitCode::FAILURE
                }
            },
        }
    }

    /// Trains every run of each experiment's full preset at every seed and writes the
    /// experiment's results file as soon as it is done (an interrupted course keeps the
    /// experiments it finished).
    fn reproduce(cli: &cli::Cli, experiments: &[Experiment]) -> ExitCode {
        let Some((engine, label)) = open_engine(cli) else { return ExitCode::FAILURE };
        let backend = label.backend;
        if let Err(e) = std::fs::create_dir_all(&cli.results_dir) {
            eprintln!("error: cannot make {}: {e}", cli.results_dir.display());
            return ExitCode::FAILURE;
        }
        let progress = if cli.progress { ProgressWhere::Always } else { ProgressWhere::TerminalOnly };
        let course_started = now_millis();
        // Once, before training: the files say what the runs were built from, even if the
        // checkout moves on while the course trains.
        let commit = commit();
        for experiment in experiments {
            let started = now_millis();
            let variants = experiment.variants(Preset::Full);
            let total = variants.len() * cli.seeds.len();
            let mut runs = Vec::with_capacity(variants.len());
            for (v, variant) in variants.iter().enumerate() {
                let mut seeds = Vec::with_capacity(cli.seeds.len());
                for (s, &seed) in cli.seeds.iter().enumerate() {
                    let config = ExperimentConfig { seed, ..variant.config.clone() };
                    let title = format!("{} run {}/{total}", experiment.name(), v * cli.seeds.len() + s + 1);
                    let run_started = now_millis();
                    let trained = load(&config, &cli.data_dir, None).and_then(|dataset| {
                        let steps_per_epoch = config.steps_per_epoch(config.training_pool(&dataset));
                        let probes = variant.probes.clone();
                        pollster::block_on(train(&engine, &label, &config, probes, &dataset, title, progress))
                            .map(|trained| (trained, steps_per_epoch))
                    });
                    match trained {
                        Ok((Trained { outcome, losses, series, probes }, steps_per_epoch)) => {
                            let noise = loss_noise(&losses);
                            let secs = (now_millis() - run_started) / 1000.0;
                            eprintln!("  seed {seed}: {} ({secs:.0} s)", describe(&outcome));
                            let noise = noise.is_finite().then_some(noise);
                            seeds.push(SeedRun::new(seed, outcome, &series, noise, secs, &probes, steps_per_epoch));
                        }
                        Err(error) => {
                            eprintln!("error: {}: {error}", experiment.name());
                            return ExitCode::FAILURE;
                        }
                    }
                }
                runs.push(VariantResults { config: variant.config.clone(), seeds });
            }
            let results = ExperimentResults {
                version: RESULTS_VERSION,
                experiment: experiment.name().into(),
                preset: Preset::Full.name().into(),
                seeds: cli.seeds.clone(),
                commit: commit.clone(),
                engine: backend.into(),
                device: label.device.clone(),
                machine: machine(),
                made: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
                wall_secs: (now_millis() - started) / 1000.0,
                runs,
            };
            let path = cli.results_dir.join(ExperimentResults::file_name(*experiment));
            if let Err(e) = std::fs::write(&path, results.to_json() + "\n") {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            if let Err(e) = write_index(&cli.results_dir) {
                eprintln!("error: cannot write the list of stored results: {e}");
                return ExitCode::FAILURE;
            }
            label.print(serde_json::json!({
                "results": path.display().to_string(),
                "experiment": experiment.name(),
                "wall_secs": results.wall_secs,
            }));
        }
        let (n, secs) = (experiments.len(), (now_millis() - course_started) / 1000.0);
        eprintln!("the course: {n} experiment{} in {secs:.0} s", if n == 1 { "" } else { "s" });
        ExitCode::SUCCESS
    }

    /// Writes `index.json`: the experiments whose results files are in `dir`, by name.
    fn write_index(dir: &Path) -> std::io::Result<()> {
        let mut stored: Vec<&str> = Experiment::ALL
            .iter()
            .filter(|e| dir.join(ExperimentResults::file_name(**e)).is_file())
            .map(|e| e.name())
            .collect();
        stored.sort_unstable();
        std::fs::write(dir.join(ExperimentResults::INDEX), serde_json::json!(stored).to_string() + "\n")
    }

    /// One engine for every run (the GPU device is opened, and its pipelines compiled,
    /// once) and the label every line carries; None after saying why it would not open.
    fn open_engine(cli: &cli::Cli) -> Option<(Engine, BackendLabel)> {
        let backend = cli.backend.name();
        match pollster::block_on(Engine::open(backend, usize::from(cli.threads))) {
            Ok(engine) => {
                let label = BackendLabel { backend, device: engine.describe() };
                Some((engine, label))
            }
            Err(error) => {
                eprintln!("error: {error}");
                None
            }
        }
    }

    /// The commit the results come from: `git describe --always --dirty` of the source
    /// tree, or `unknown` outside a checkout.
    fn commit() -> String {
        std::process::Command::new("git")
            .args(["-C", env!("CARGO_MANIFEST_DIR"), "describe", "--always", "--dirty"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    fn machine() -> String {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        format!("{} {}, {cores} cores", std::env::consts::ARCH, std::env::consts::OS)
    }

    fn train_all(training: &Training) -> ExitCode {
        let Training { cli, runs } = training;
        let Some((engine, label)) = open_engine(cli) else { return ExitCode::FAILURE };
        let progress = if cli.progress { ProgressWhere::Always } else { ProgressWhere::TerminalOnly };
        let mut table = Vec::new();
        for (index, (config, probes)) in runs.iter().enumerate() {
            let title = format!("run {}/{}", index + 1, runs.len());
            let trained = load(config, &cli.data_dir, cli.cifar_file.as_deref()).and_then(|dataset| {
                pollster::block_on(train(&engine, &label, config, probes.clone(), &dataset, title, progress))
            });
            match trained {
                Ok(Trained { outcome, losses, .. }) => {
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

    /// What one run leaves: its outcome, every batch loss, its series and probe reports.
    struct Trained {
        outcome: Outcome,
        losses: Vec<f32>,
        series: RunSeries,
        probes: Vec<normlab::experiment::ProbeReport>,
    }

    async fn train(
        engine: &Engine,
        label: &BackendLabel,
        config: &ExperimentConfig,
        probes: Option<ProbeSpec>,
        dataset: &Dataset,
        title: String,
        progress: ProgressWhere,
    ) -> Result<Trained, NormlabError> {
        eprintln!("training on {}: {}", label.device, config.label());
        let mut run = Run::new(engine.backend(), config, dataset)?;
        if let Some(spec) = probes {
            run.set_probes(spec);
        }
        let layers: Vec<String> = run.model.layers.iter().map(|l| l.describe()).collect();
        eprintln!("model: {}", layers.join(" → "));
        let total_steps = config.steps_per_epoch(config.training_pool(dataset)) * config.epochs;
        let bar = progress_bar(total_steps as u64, title, progress);
        let mut report = RunReport {
            label: label.clone(),
            bar,
            losses: Vec::new(),
            series: RunSeries::new(config.label()),
            probes: Vec::new(),
        };
        let outcome = run.train(&mut report).await;
        if !report.bar.is_finished() {
            report.bar.finish();
        }
        Ok(Trained { outcome: outcome?, losses: report.losses, series: report.series, probes: report.probes })
    }
}
