//! Acceptance runs of the full engine on the CPU backend: whole multi-epoch trainings of
//! the CNN of the source notes on the shipped Fashion-MNIST subset. They take minutes, so
//! they live in their own test binary (`cargo test --release --test acceptance`), which
//! `scripts/test.sh` runs after the faster suites.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::Backend;
use normlab::data::ImageDataset;
use normlab::experiment::{ExperimentConfig, Outcome, Recorder, Run};
use normlab::nn::NormKind;

fn fashion_mnist() -> ImageDataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/fashion-mnist.nlds.gz");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    ImageDataset::from_nlds_gz(&bytes).expect("the shipped data set parses")
}

fn train<B: Backend>(backend: B, config: &ExperimentConfig) -> (Outcome, Recorder) {
    let mut run = Run::new(backend, config, &fashion_mnist()).expect("a valid configuration");
    let mut recorder = Recorder::default();
    let outcome = pollster::block_on(run.train(&mut recorder)).expect("training runs");
    (outcome, recorder)
}

/// Whether a run "failed to learn" as the notes describe: it diverged, or its loss stayed
/// near ln 10 (guessing among 10 classes) and its accuracy near chance.
fn failed_to_learn(outcome: &Outcome, recorder: &Recorder) -> bool {
    match outcome {
        Outcome::Diverged { .. } => true,
        Outcome::Finished { final_test_accuracy } => {
            let last_epoch = recorder.epochs().last().cloned().expect("an epoch summary");
            *final_test_accuracy < 0.2 && (last_epoch.train_loss - 10f32.ln()).abs() < 0.2
        }
        Outcome::Stopped => false,
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

#[test]
fn high_learning_rate_breaks_the_plain_cnn_but_not_the_batchnorm_one_on_cpu() {
    // The notes' experiment: Adam at lr 0.1 for 8 epochs.
    let with_bn = ExperimentConfig { epochs: 8, learning_rate: 0.1, ..ExperimentConfig::notes_cnn() };
    let without_bn = ExperimentConfig { norms: vec![NormKind::None], ..with_bn.clone() };
    let (outcome, recorder) = train(CpuBackend::new(), &without_bn);
    eprintln!("CPU CNN without BN at lr 0.1: {outcome:?}, {:?}", recorder.epochs());
    assert!(failed_to_learn(&outcome, &recorder), "the CNN without BatchNorm learned at lr 0.1: {outcome:?}");
    let (outcome, recorder) = train(CpuBackend::new(), &with_bn);
    eprintln!("CPU CNN with BN at lr 0.1: {outcome:?}, {:?}", recorder.epochs());
    let Outcome::Finished { final_test_accuracy } = outcome else {
        panic!("the CNN with BatchNorm stopped: {outcome:?}")
    };
    assert!(final_test_accuracy >= 0.80, "the CNN with BatchNorm reached only {final_test_accuracy} at lr 0.1");
}
