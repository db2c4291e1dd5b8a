//! Whole training runs on the shipped Fashion-MNIST subset (10 000 training and 2 000 test
//! images): the loss falls, one epoch reaches the accuracy the lab promises on both
//! backends, the two backends agree step by step, and a diverging run is reported.

use std::sync::OnceLock;

use normlab::backend::engine::{AnyBackend, Engine};

use normlab::backend::Backend;
use normlab::data::Dataset;
use normlab::experiment::benchmark::{time_training_steps, BenchModel, BenchSchedule};
use normlab::experiment::{Event, ExperimentConfig, Outcome, Recorder, Run};
use normlab::nn::{Architecture, ModelChoices, NormKind, Optimizer};
use normlab::NormlabError;

use crate::fixtures::assert_close;
use crate::gpu_vs_cpu::gpu_or_skip;

/// The accuracy one epoch of the default experiment must reach (the acceptance).
const ONE_EPOCH_ACCURACY: f32 = 0.80;

fn fashion_mnist() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/fashion-mnist.nlds.gz");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Dataset::from_nlds_gz(&bytes).expect("the shipped data set parses")
    })
}

/// Builds and trains a run; returns how it ended and everything it reported.
fn train<B: Backend>(backend: B, config: &ExperimentConfig) -> (Outcome, Recorder) {
    let mut run = Run::new(backend, config, fashion_mnist()).expect("a valid configuration");
    let mut recorder = Recorder::default();
    let outcome = pollster::block_on(run.train(&mut recorder)).expect("training runs");
    (outcome, recorder)
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len() as f32
}

#[test]
fn loss_falls_in_a_short_cpu_run() {
    let config = ExperimentConfig { max_batches_per_epoch: Some(40), ..ExperimentConfig::default() };
    let (outcome, recorder) = train(Engine::cpu().backend(), &config);
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    let losses = recorder.losses();
    assert_eq!(losses.len(), 40);
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    let (first, last) = (mean(&losses[..10]), mean(&losses[30..]));
    assert!(last < first, "the loss did not fall: first ten average {first}, last ten {last}");
}

fn check_one_epoch(outcome: Outcome, recorder: &Recorder, backend: &str) {
    let epochs = recorder.epochs();
    assert_eq!(epochs.len(), 1, "{backend}: one epoch summary");
    let accuracy = epochs[0].test_accuracy;
    eprintln!("{backend}: one epoch, test accuracy {accuracy:.4}, train loss {:.4}", epochs[0].train_loss);
    assert_eq!(outcome, Outcome::Finished { final_test_accuracy: accuracy, not_learning: false });
    assert!(
        accuracy >= ONE_EPOCH_ACCURACY,
        "{backend}: one epoch of the default MLP reached {accuracy}, below {ONE_EPOCH_ACCURACY}"
    );
    // 10 000 images in batches of 64, the last partial batch dropped.
    assert_eq!(recorder.losses().len(), 10_000 / 64);
}

#[test]
fn one_epoch_reaches_80_percent_on_cpu() {
    // MLP 784-256-256-10 with BatchNorm, Adam lr 1e-3, batch 64, one epoch.
    let config = ExperimentConfig::default();
    assert_eq!(
        (&config.model.architecture, config.model.norms.as_slice(), config.batch_size, config.epochs),
        (&Architecture::Mlp { hidden: vec![256, 256] }, &[NormKind::Batch][..], 64, 1)
    );
    let (outcome, recorder) = train(Engine::cpu().backend(), &config);
    check_one_epoch(outcome, &recorder, "CPU");
}

#[test]
fn one_epoch_reaches_80_percent_on_gpu() {
    let Some(ctx) = gpu_or_skip("one_epoch_reaches_80_percent_on_gpu") else { return };
    let (outcome, recorder) = train(Engine::Gpu(Box::new(ctx)).backend(), &ExperimentConfig::default());
    check_one_epoch(outcome, &recorder, "GPU");
}

/// The first 20 training losses of one configuration on both backends, from the same seed.
fn first_20_losses(ctx: normlab::backend::gpu::GpuContext, config: &ExperimentConfig) -> (Vec<f32>, Vec<f32>) {
    let config = ExperimentConfig { max_batches_per_epoch: Some(20), ..config.clone() };
    let (_, cpu) = train(Engine::cpu().backend(), &config);
    let (_, gpu) = train(Engine::Gpu(Box::new(ctx)).backend(), &config);
    let (cpu, gpu) = (cpu.losses(), gpu.losses());
    assert_eq!((cpu.len(), gpu.len()), (20, 20));
    (cpu, gpu)
}

#[test]
fn gpu_and_cpu_losses_agree_for_20_batches() {
    let Some(ctx) = gpu_or_skip("gpu_and_cpu_losses_agree_for_20_batches") else { return };
    // The default experiment (BatchNorm, Adam). The first losses agree to 2e-7, but Adam's
    // step m̂/√v̂ has the same size whatever the gradient's magnitude, so coordinates whose
    // gradient is zero in exact arithmetic and rounding error in f32 (before BatchNorm:
    // the weights of pixels that are constant across the batch) take full-size steps
    // whose signs depend on each backend's summation order. The gap grows to 1.3e-3
    // relative by step 20 on lavapipe (1.5e-3 without a norm), hence 3e-3 rather than
    // 1e-3. With SGD (next test) the two backends agree to 2e-7 after 20 steps.
    let (cpu, gpu) = first_20_losses(ctx, &ExperimentConfig::default());
    assert_close("GPU vs CPU training losses, Adam", &gpu[..1], &cpu[..1], 1e-5, 0.0);
    assert_close("GPU vs CPU training losses, Adam", &gpu, &cpu, 3e-3, 0.0);
}

#[test]
fn gpu_and_cpu_losses_agree_closely_for_20_sgd_batches() {
    let Some(ctx) = gpu_or_skip("gpu_and_cpu_losses_agree_closely_for_20_sgd_batches") else { return };
    // Without Adam's per-coordinate normalisation nothing amplifies rounding: 2e-7 measured.
    let config =
        ExperimentConfig { optimizer: Optimizer::sgd_momentum(), learning_rate: 0.05, ..ExperimentConfig::default() };
    let (cpu, gpu) = first_20_losses(ctx, &config);
    assert_close("GPU vs CPU training losses, SGD", &gpu, &cpu, 1e-5, 0.0);
}

/// A training step's GPU work, as the benchmark counts it: (submissions, dispatches) per step.
fn gpu_step_counts(ctx: normlab::backend::gpu::GpuContext, model: BenchModel) -> (f64, f64) {
    let engine = Engine::Gpu(Box::new(ctx));
    let sequences;
    let data: &Dataset = match model.dataset() {
        normlab::data::DatasetId::NameSequences => {
            sequences = names_as_sequences();
            &sequences
        }
        _ => fashion_mnist(),
    };
    let batch = model.batches(&[64])[0];
    let mut run = Run::new(engine.backend(), &model.config(batch), data).expect("a valid configuration");
    let schedule = BenchSchedule { steps_per_block: 3, blocks: 1 };
    let timing = pollster::block_on(time_training_steps(&mut run, schedule, |r| r.backend.counters())).expect("steps");
    (timing.submissions_per_step.expect("a GPU counts"), timing.dispatches_per_step.expect("a GPU counts"))
}

#[test]
fn a_gpu_training_step_is_one_submission_of_few_dispatches() {
    // Dispatches, not arithmetic, set the step time of these small models on a real GPU:
    // the parameter arenas and the fusions (bias in the product's epilogue, the activation
    // in the norm's passes, BatchNorm's γ/β gradients in its backward statistics, one
    // gather for inputs and labels) bring the MLP+BN to 24 and the CNN+BN to 36.
    // The transformer (2 blocks on names) takes 80: its two blocks each hold two norms,
    // attention's forward and two backward passes, and four products with their gradients.
    for (model, most) in [(BenchModel::Mlp, 24.0), (BenchModel::Cnn, 40.0), (BenchModel::Transformer, 80.0)] {
        let Some(ctx) = gpu_or_skip("a_gpu_training_step_is_one_submission_of_few_dispatches") else { return };
        let (submissions, dispatches) = gpu_step_counts(ctx, model);
        eprintln!("{}: {submissions} submissions, {dispatches} dispatches per step", model.label());
        assert_eq!(submissions, 1.0, "{}: one queue submission per step", model.label());
        assert!(dispatches <= most, "{}: {dispatches} dispatches per step, at most {most}", model.label());
    }
}

#[test]
fn absurd_learning_rate_is_reported_as_divergence() {
    // The page's URL parser refuses such a rate, but Run::new takes any positive one.
    let (_, problems) = ExperimentConfig::from_query("lr=10000");
    assert_eq!(problems.len(), 1, "the URL parser refuses lr=1e4");
    let config = ExperimentConfig {
        model: ModelChoices { norms: vec![NormKind::None], ..ModelChoices::default() },
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 1e4,
        max_batches_per_epoch: Some(50),
        ..ExperimentConfig::default()
    };
    let (outcome, recorder) = train(Engine::cpu().backend(), &config);
    let Outcome::Diverged { epoch, batch } = outcome else { panic!("expected divergence, got {outcome:?}") };
    assert_eq!(epoch, 1);
    assert!((1..=50).contains(&batch), "batch {batch}");
    assert!(
        recorder.events.contains(&Event::Diverged { epoch, batch, step: batch }),
        "the recorder holds the divergence: {:?}",
        recorder.events.last()
    );
    let losses = recorder.losses();
    assert_eq!(losses.len(), batch, "losses are reported up to the first bad batch");
    assert!(!losses[batch - 1].is_finite() && losses[..batch - 1].iter().all(|l| l.is_finite()), "{losses:?}");
    assert!(recorder.epochs().is_empty(), "no epoch summary after divergence");
}

/// A model past the CPU backend's memory budget is refused before allocating, naming both
/// numbers (in the page the budget keeps the tab's wasm memory from running out).
#[test]
fn a_model_past_the_memory_budget_is_refused_in_words() {
    let config = ExperimentConfig::default();
    let budget = 1u64 << 20;
    match Run::new(Engine::cpu().backend_with_memory_budget(budget), &config, fashion_mnist()) {
        Err(NormlabError::TooLarge { requested, limit, what }) => {
            assert_eq!(limit, budget);
            assert!(requested > budget && what.en.contains("tensors together"), "{what}: {requested}");
        }
        Err(other) => panic!("expected TooLarge, got {other}"),
        Ok(_) => panic!("a model of several MB fit in a 1 MB budget"),
    }
    assert!(Run::new(Engine::cpu().backend(), &config, fashion_mnist()).is_ok());
}

#[test]
fn batch_norm_with_batch_of_one_is_refused() {
    let config = ExperimentConfig { batch_size: 1, ..ExperimentConfig::default() };
    match Run::new(Engine::cpu().backend(), &config, fashion_mnist()) {
        Err(NormlabError::InvalidConfig(message)) => {
            assert!(message.en.contains("more than 1 value per channel"), "{message}")
        }
        Err(other) => panic!("expected InvalidConfig, got {other}"),
        Ok(_) => panic!("a BatchNorm run with batch 1 was accepted"),
    }
}

fn names_as_sequences() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/names.txt");
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    Dataset::from_file_bytes(normlab::data::DatasetId::NameSequences, &text).expect("the shipped names parse")
}

fn names() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/names.txt");
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    Dataset::from_file_bytes(normlab::data::DatasetId::Names, &text).expect("the shipped names parse")
}

/// Lesson 3's character model on both backends: the same 20 losses (plain SGD, so the
/// backends agree closely), the probes report running and batch statistics and both
/// evaluation modes, and the trained model writes names.
#[test]
fn character_model_trains_alike_on_both_backends_and_writes_names() {
    use normlab::experiment::presets::{self, Preset};
    let Some(ctx) = gpu_or_skip("character_model_trains_alike_on_both_backends_and_writes_names") else { return };
    let data = names();
    let config =
        ExperimentConfig { max_batches_per_epoch: Some(20), epochs: 1, ..presets::names_model(0.1, Preset::Quick) };
    let mut losses = Vec::new();
    let mut sampled = Vec::new();
    for gpu in [false, true] {
        let mut recorder = Recorder::default();
        let names = if gpu {
            let mut run = Run::new(Engine::Gpu(Box::new(ctx.clone())).backend(), &config, &data).expect("valid");
            run.set_probes(presets::names_probes(Preset::Smoke));
            pollster::block_on(run.train(&mut recorder)).expect("trains");
            pollster::block_on(normlab::experiment::sample_names(&mut run, 8, 3)).expect("samples")
        } else {
            let mut run = Run::new(Engine::cpu().backend(), &config, &data).expect("valid");
            run.set_probes(presets::names_probes(Preset::Smoke));
            pollster::block_on(run.train(&mut recorder)).expect("trains");
            pollster::block_on(normlab::experiment::sample_names(&mut run, 8, 3)).expect("samples")
        };
        let probes: Vec<_> = recorder
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Probe(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        assert!(!probes.is_empty(), "no probe reports");
        let last = probes.last().unwrap();
        let norm = &last.norms[0];
        assert_eq!((norm.batch_mean.len(), norm.running_mean.as_ref().map(Vec::len)), (4, Some(4)));
        let evaluation = last.evaluation.expect("both evaluation modes");
        assert!(evaluation.eval_loss.is_finite() && evaluation.batch_stats_loss.is_finite());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase())), "{names:?}");
        losses.push(recorder.losses());
        sampled.push(names);
    }
    assert_close("GPU vs CPU losses, character model", &losses[1], &losses[0], 1e-4, 0.0);
    let first = mean(&losses[0][..5]);
    assert!(first > 3.0 && first < 3.8, "the first losses should be near ln 27 = 3.30: {first}");
}

/// Lesson 7's measurements, checked against a computation written out here from the
/// public API: after the same 8 training steps, the loss and gradient at w and at
/// w − η·g on the last batch, by hand.
#[test]
fn landscape_and_covariate_shift_probes_match_a_direct_computation() {
    use normlab::experiment::ProbeSpec;
    use normlab::nn::Phase;
    let config = ExperimentConfig {
        model: ModelChoices { architecture: Architecture::Mlp { hidden: vec![16, 16] }, ..ModelChoices::default() },
        optimizer: Optimizer::Sgd { momentum: 0.0, weight_decay: 0.0 },
        learning_rate: 0.1,
        max_batches_per_epoch: Some(16),
        batch_size: 32,
        ..ExperimentConfig::default()
    };
    let multiples = vec![0.5, 2.0];
    let spec =
        ProbeSpec { every_steps: 8, landscape: Some(multiples.clone()), covariate_shift: true, ..ProbeSpec::default() };
    let data = fashion_mnist();
    let mut probed = Run::new(Engine::cpu().backend(), &config, data).expect("valid");
    probed.set_probes(spec);
    let mut recorder = Recorder::default();
    pollster::block_on(probed.train(&mut recorder)).expect("trains");
    let report = recorder
        .events
        .iter()
        .find_map(|e| match e {
            Event::Probe(p) => Some(p.clone()),
            _ => None,
        })
        .expect("one probe after 8 steps");
    let landscape = report.landscape.expect("measured");

    // The same 8 steps by hand, then the measurements.
    let mut run = Run::new(Engine::cpu().backend(), &config, data).expect("valid");
    let order = normlab::data::epoch_order(data.train.len, config.seed, 0);
    for step in 0..8 {
        run.record_train_step(&order[step * 32..(step + 1) * 32], step).unwrap();
    }
    let last: Vec<f32> = order[7 * 32..8 * 32].iter().map(|&r| r as f32).collect();
    let features = data.features();
    let x: Vec<f32> = last
        .iter()
        .flat_map(|&r| data.train.images[r as usize * features..(r as usize + 1) * features].to_vec())
        .collect();
    let y: Vec<f32> = last.iter().map(|&r| data.train.labels[r as usize]).collect();
    let xs = run.backend.alloc(x.len(), "x").unwrap();
    let ys = run.backend.alloc(y.len(), "y").unwrap();
    let metrics = run.backend.alloc(4, "m").unwrap();
    run.backend.upload(xs, &x);
    run.backend.upload(ys, &y);
    let params = run.model.params();
    let read = |run: &mut Run<AnyBackend>, t| pollster::block_on(run.backend.read_later(t)).unwrap();
    let loss_and_grad = |run: &mut Run<AnyBackend>| {
        let logits = run.model.forward(&mut run.backend, xs, 32, Phase::BatchStats);
        let dlogits = run.model.dlogits;
        run.backend.cross_entropy(logits, ys, Some(dlogits), metrics, 0, 32, 10);
        run.model.backward(&mut run.backend, 32);
        let loss = read(run, metrics)[0];
        let grads: Vec<Vec<f32>> = params.iter().map(|p| read(run, p.grad)).collect();
        (loss, grads)
    };
    let values: Vec<Vec<f32>> = params.iter().map(|p| read(&mut run, p.value)).collect();
    let (loss, g) = loss_and_grad(&mut run);
    let flat = |v: &[Vec<f32>]| v.concat();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let mut losses = vec![loss];
    let (mut change, mut beta) = (0.0f64, 0.0f64);
    for m in &multiples {
        let eta = 0.1 * m;
        for (i, p) in params.iter().enumerate() {
            let moved: Vec<f32> = values[i].iter().zip(&g[i]).map(|(w, d)| w - eta * d).collect();
            run.backend.upload(p.value, &moved);
        }
        let (l, g2) = loss_and_grad(&mut run);
        losses.push(l);
        let diff: Vec<f32> = flat(&g).iter().zip(flat(&g2)).map(|(a, b)| a - b).collect();
        change = change.max(norm(&diff));
        beta = beta.max(norm(&diff) / (eta as f64 * norm(&flat(&g))));
    }
    let close = |a: f32, b: f64, what: &str| {
        assert!((a as f64 - b).abs() <= 1e-4 * b.abs().max(1.0), "{what}: probe {a}, direct {b}")
    };
    close(landscape.loss_min, losses.iter().copied().fold(f32::INFINITY, f32::min) as f64, "lowest loss");
    close(landscape.loss_max, losses.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64, "highest loss");
    close(landscape.gradient_change, change, "gradient change");
    close(landscape.beta_smoothness, beta, "β-smoothness");
    // Covariate shift: the first weight layer has nothing before it.
    assert_eq!(report.covariate_shift.len(), 3);
    assert!((report.covariate_shift[0].cosine - 1.0).abs() < 1e-5 && report.covariate_shift[0].l2_distance < 1e-6);
    assert!(report.covariate_shift[2].l2_distance > 0.0);

    // Measuring puts the parameters back: the probed run trains exactly like a plain one.
    let mut plain = Recorder::default();
    pollster::block_on(Run::new(Engine::cpu().backend(), &config, data).unwrap().train(&mut plain)).unwrap();
    assert_eq!(recorder.losses(), plain.losses(), "the probes changed the training");
}

/// Every lesson experiment the runner and the page can start, at its smoke preset, trains
/// to the end on the CPU with its probes on: no setting of a lesson panics or is refused.
#[test]
fn every_named_experiment_runs_its_smoke_preset() {
    use normlab::data::{toy, DatasetId, Source};
    use normlab::experiment::presets::{self, EXPERIMENTS};
    let names = names();
    for experiment in EXPERIMENTS {
        for (config, probes) in presets::named(&format!("{experiment}-smoke")).expect("named") {
            let other;
            let data = match config.dataset.source() {
                Source::Shipped(_) if config.dataset == DatasetId::Names => &names,
                Source::Shipped(_) if config.dataset == DatasetId::FashionMnist => fashion_mnist(),
                Source::Shipped(file) => {
                    let path = format!("{}/www/data/{file}", env!("CARGO_MANIFEST_DIR"));
                    other = Dataset::from_file_bytes(config.dataset, &std::fs::read(&path).unwrap()).unwrap();
                    &other
                }
                Source::Generated(shape) => {
                    other = toy::generate(shape);
                    &other
                }
                Source::UserFile => panic!("{experiment}: a lesson needs the student's file"),
            };
            let mut run = Run::new(Engine::cpu().backend(), &config, data)
                .unwrap_or_else(|e| panic!("{experiment} {}: {e}", config.to_query()));
            if let Some(spec) = probes {
                run.set_probes(spec);
            }
            let mut recorder = Recorder::default();
            pollster::block_on(run.train(&mut recorder))
                .unwrap_or_else(|e| panic!("{experiment} {}: {e}", config.to_query()));
            assert!(!recorder.losses().is_empty(), "{experiment}: no losses");
        }
    }
}

#[test]
fn cpu_backend_on_three_threads_trains_like_one_thread() {
    // The notes' CNN exercises every op that spreads over threads (convolutions, pooling,
    // BatchNorm over channels, matrix rows). Three threads split 64 samples unevenly.
    // Only the order of a few sums changes (the conv weight gradient adds three partial
    // sums), so with SGD the losses agree to rounding, and a thread count gives the same
    // losses on every run.
    let config = ExperimentConfig {
        model: ModelChoices { architecture: Architecture::notes_cnn(), ..ModelChoices::default() },
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 0.05,
        max_batches_per_epoch: Some(6),
        ..ExperimentConfig::default()
    };
    let (_, one) = train(Engine::cpu().backend(), &config);
    let three_threads = || Engine::cpu_threads(3).backend();
    assert_eq!(three_threads().describe(), "CPU (pure Rust, 3 threads)");
    let (_, three) = train(three_threads(), &config);
    let (_, again) = train(three_threads(), &config);
    let (one, three, again) = (one.losses(), three.losses(), again.losses());
    assert_eq!(one.len(), 6);
    assert_close("CPU losses, 3 threads vs 1", &three, &one, 1e-5, 0.0);
    assert_eq!(three, again, "the same thread count gives the same losses");
}

/// Reads a tensor of a run's backend.
fn read_tensor<B: Backend>(run: &mut Run<B>, tensor: normlab::backend::TensorId) -> Vec<f32> {
    pollster::block_on(run.backend.read_later(tensor)).expect("read-back")
}

#[test]
fn the_optimizer_over_the_arena_moves_the_learnable_parameters_only() {
    // Without `affine`, a norm's γ = 1 and β = 0 get gradients but no updates (they live
    // outside the parameter arena the optimizer steps); the learnable ones all move.
    let config = ExperimentConfig {
        model: ModelChoices { affine: false, ..ModelChoices::default() },
        max_batches_per_epoch: Some(5),
        ..ExperimentConfig::default()
    };
    let mut run = Run::new(Engine::cpu().backend(), &config, fashion_mnist()).expect("a valid configuration");
    let norm = run.model.norms().next().expect("a BatchNorm layer");
    let (gamma, beta) = (norm.gamma, norm.beta);
    let learnable = run.model.params();
    let before: Vec<Vec<f32>> = learnable.iter().map(|p| read_tensor(&mut run, p.value)).collect();
    let outcome = pollster::block_on(run.train(&mut Recorder::default())).expect("training runs");
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    assert!(read_tensor(&mut run, gamma.value).iter().all(|&g| g == 1.0), "γ moved without affine");
    assert!(read_tensor(&mut run, beta.value).iter().all(|&b| b == 0.0), "β moved without affine");
    assert!(read_tensor(&mut run, gamma.grad).iter().any(|&g| g != 0.0), "γ had no gradient to ignore");
    for (p, was) in learnable.iter().zip(before) {
        assert_ne!(read_tensor(&mut run, p.value), was, "a learnable {:?} of {} did not move", p.role, p.len);
    }
    // The arena's gaps between parameters stay zero.
    let values = run.model.arena.values;
    let arena = read_tensor(&mut run, values);
    let used: usize = learnable.iter().map(|p| p.len).sum();
    let nonzero = arena.iter().filter(|&&v| v != 0.0).count();
    assert!(nonzero <= used, "{nonzero} nonzero arena values for {used} parameter values");
}

#[test]
fn dropout_of_one_trains_to_the_end_without_nan() {
    // nn.Dropout(1.0) zeroes every hidden activation: the output layer learns the class
    // frequencies from its bias alone, and nothing becomes NaN.
    let config = ExperimentConfig {
        model: ModelChoices { dropout: 1.0, ..ModelChoices::default() },
        max_batches_per_epoch: Some(10),
        ..ExperimentConfig::default()
    };
    let (outcome, recorder) = train(Engine::cpu().backend(), &config);
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    assert!(recorder.losses().iter().all(|l| l.is_finite()), "{:?}", recorder.losses());
}
