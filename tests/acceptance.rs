//! Acceptance runs of the full engine on the CPU backend: whole multi-epoch trainings at
//! the lessons' full presets (`experiment::presets`, the same configurations the page and
//! `normlab-run --preset` use), on the shipped Fashion-MNIST subset. They take minutes, so
//! they live in their own test binary, which `scripts/test.sh` runs after the faster suites.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::Backend;
use normlab::data::Dataset;
use normlab::experiment::presets::{self, Preset};
use normlab::experiment::{ExperimentConfig, Outcome, Recorder, Run};
use normlab::nn::NormKind;

fn fashion_mnist() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/fashion-mnist.nlds.gz");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    Dataset::from_nlds_gz(&bytes).expect("the shipped data set parses")
}

fn train<B: Backend>(backend: B, config: &ExperimentConfig) -> (Outcome, Recorder) {
    let mut run = Run::new(backend, config, &fashion_mnist()).expect("a valid configuration");
    let mut recorder = Recorder::default();
    let outcome = pollster::block_on(run.train(&mut recorder)).expect("training runs");
    (outcome, recorder)
}

fn final_accuracy(outcome: &Outcome) -> f32 {
    match outcome {
        Outcome::Finished { final_test_accuracy, .. } => *final_test_accuracy,
        other => panic!("the run did not finish: {other:?}"),
    }
}

#[test]
fn cnn_with_batchnorm_reaches_85_percent_within_two_epochs_on_cpu() {
    let config = ExperimentConfig { epochs: 2, ..ExperimentConfig::notes_cnn() };
    let (outcome, recorder) = train(CpuBackend::new(), &config);
    let accuracy = recorder.epochs().iter().map(|e| e.test_accuracy).fold(0.0, f32::max);
    eprintln!("CPU CNN+BN, 2 epochs: {:?}", recorder.epochs());
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    assert!(accuracy >= 0.85, "best test accuracy {accuracy} within two epochs, want ≥ 0.85");
}

/// Lesson 4 at its full preset (the notes' experiment: Adam at lr 0.1 for 8 epochs).
#[test]
fn high_learning_rate_breaks_the_plain_cnn_but_not_the_batchnorm_one_on_cpu() {
    let (outcome, recorder) = train(CpuBackend::new(), &presets::high_lr(false, Preset::Full));
    eprintln!("CPU CNN without BN at lr 0.1: {outcome:?}, {:?}", recorder.epochs());
    // "Failed to learn" as the notes describe it: diverged, or stuck at ln 10 and chance.
    assert!(outcome.failed(), "the CNN without BatchNorm learned at lr 0.1: {outcome:?}");
    let (outcome, recorder) = train(CpuBackend::new(), &presets::high_lr(true, Preset::Full));
    eprintln!("CPU CNN with BN at lr 0.1: {outcome:?}, {:?}", recorder.epochs());
    let accuracy = final_accuracy(&outcome);
    assert!(accuracy >= 0.80, "the CNN with BatchNorm reached only {accuracy} at lr 0.1");
}

/// Lesson 5 at its full preset, the two runs its claim rests on: at batch size 2,
/// BatchNorm's eval-mode accuracy is far below GroupNorm's.
#[test]
fn at_batch_size_two_batchnorm_falls_far_below_groupnorm_in_eval_mode_on_cpu() {
    let (bn, bn_epochs) = train(CpuBackend::new(), &presets::batch_sweep(NormKind::Batch, 2, Preset::Full));
    let (gn, gn_epochs) =
        train(CpuBackend::new(), &presets::batch_sweep(NormKind::Group { groups: 8 }, 2, Preset::Full));
    eprintln!("batch 2, BN: {:?}\nbatch 2, GN: {:?}", bn_epochs.epochs(), gn_epochs.epochs());
    let (bn, gn) = (final_accuracy(&bn), final_accuracy(&gn));
    assert!(gn >= 0.80, "GroupNorm at batch 2 reached only {gn}");
    assert!(bn <= gn - 0.25, "BatchNorm at batch 2 ({bn}) is not clearly below GroupNorm ({gn})");
}
