//! normlab-run: trains an experiment from the command line, on the CPU backend or the
//! native GPU backend (Vulkan), with the same configuration as the page and its URL.
//!
//! ```text
//! normlab-run [--backend cpu|gpu] [--url 'http://…/?norm=batch&lr=0.001'] [--KEY VALUE]… [--data-dir www/data]
//! ```
//! Every `--KEY VALUE` is a URL parameter of the page (data, norm, opt, lr, batch, epochs,
//! seed, batches). Prints one JSON line per epoch and a final summary line.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// The runner trains natively; in a browser build there is nothing for it to do.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::PathBuf;
    use std::process::ExitCode;

    use normlab::backend::cpu::CpuBackend;
    use normlab::backend::gpu::{GpuBackend, GpuContext};
    use normlab::backend::Backend;
    use normlab::data::ImageDataset;
    use normlab::experiment::{Event, ExperimentConfig, Observer, Outcome, Run};
    use normlab::NormlabError;

    struct JsonLines {
        backend: String,
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
                Event::Losses { .. } => {}
            }
        }
    }

    const USAGE: &str = "usage: normlab-run [--backend cpu|gpu] [--url URL] [--data-dir DIR] [--KEY VALUE]...
  KEY is a page URL parameter:
    data (fashion-mnist|mnist)  arch (mlp|cnn)  hidden (256-256)  channels (32-64)
    norm (none|batch|layer|instance|group4|rms, or a comma list per block)  place (before|after)
    act (relu|tanh)  dropout (0..0.95)  bias (1|0)  affine (1|0)  momentum (0.1|none)  noise (0..10)
    opt (sgd|adam)  lr  wd  batch  epochs  seed  batches (cap per epoch)  clip (none|norm:1|value:0.5)";

    pub fn main() -> ExitCode {
        let mut backend = "cpu".to_string();
        let mut query = String::new();
        let mut data_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/www/data"));
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let Some(key) = arg.strip_prefix("--") else {
                eprintln!("unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            };
            if key == "help" {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            let Some(value) = args.next() else {
                eprintln!("--{key} needs a value\n{USAGE}");
                return ExitCode::from(2);
            };
            match key {
                "backend" => backend = value,
                "data-dir" => data_dir = PathBuf::from(value),
                "url" => {
                    let q = value.split_once('?').map_or(value.as_str(), |(_, q)| q);
                    query.push('&');
                    query.push_str(q.split('#').next().unwrap_or(""));
                }
                _ => query.push_str(&format!("&{key}={value}")),
            }
        }
        let (config, problems) = ExperimentConfig::from_query(&query);
        for problem in &problems {
            eprintln!("warning: {problem}");
        }
        match pollster::block_on(run(&backend, &config, &data_dir)) {
            Ok(outcome) => {
                println!("{}", serde_json::json!({ "summary": outcome, "config": config, "backend": backend }));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        }
    }

    async fn run(
        backend: &str,
        config: &ExperimentConfig,
        data_dir: &std::path::Path,
    ) -> Result<Outcome, NormlabError> {
        let path = data_dir.join(config.dataset.file_name());
        let bytes = std::fs::read(&path)
            .map_err(|e| NormlabError::Fetch { what: path.display().to_string(), reason: e.to_string() })?;
        let dataset = ImageDataset::from_nlds_gz(&bytes)?;
        match backend {
            "cpu" => train(CpuBackend::new(), config, &dataset).await,
            "gpu" => train(GpuBackend::new(GpuContext::new().await?), config, &dataset).await,
            other => Err(NormlabError::InvalidConfig(format!("unknown backend {other:?} (cpu or gpu)"))),
        }
    }

    async fn train<B: Backend>(
        backend: B,
        config: &ExperimentConfig,
        dataset: &ImageDataset,
    ) -> Result<Outcome, NormlabError> {
        let describe = backend.describe();
        eprintln!("training on {describe}: {}", config.label());
        let mut run = Run::new(backend, config, dataset)?;
        let layers: Vec<String> = run.model.layers.iter().map(|l| l.describe()).collect();
        eprintln!("model: {}", layers.join(" → "));
        run.train(&mut JsonLines { backend: describe }).await
    }
}
