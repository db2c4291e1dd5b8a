//! What each lesson tells the student to look for, checked at the lesson's quick preset:
//! the preset the page starts with and the one a student runs. Every configuration comes
//! from `experiment::presets`, and the runs of an experiment from its one definition in
//! `experiment::catalog` (as the page's pieces, `normlab-run --preset` and
//! `tests/acceptance.rs` take them), so a test cannot drift from what the page trains.
//!
//! The lessons' claims were measured on seeds 1–4, on one and two CPU threads and, for the
//! MLPs and lesson 5's batch size 2, on the native GPU backend (lavapipe): the page's other
//! engines sum in other orders, and long runs amplify the last bits. These tests train
//! seed 1 on the CPU backend and assert each claim with a margin that held on all of those,
//! never an exact number. The whole file takes one to two minutes in release mode on two
//! cores.

use std::sync::OnceLock;

use normlab::backend::engine::Engine;
use normlab::data::{Dataset, DatasetId, Source};
use normlab::experiment::catalog::{LivePiece, Variant};
use normlab::experiment::presets::{self, Preset, SWEEP_NORMS};
use normlab::experiment::stats::loss_noise;
use normlab::experiment::{
    EpochSummary, Event, ExperimentConfig, Landscape, Outcome, ProbeReport, ProbeSpec, Recorder, Run, Shift,
};
use normlab::nn::NormKind;

/// The shipped data set a quick preset trains on, read once for the whole file.
pub(crate) fn dataset(id: DatasetId) -> &'static Dataset {
    static FASHION_MNIST: OnceLock<Dataset> = OnceLock::new();
    static NAMES: OnceLock<Dataset> = OnceLock::new();
    static NAME_SEQUENCES: OnceLock<Dataset> = OnceLock::new();
    let cell = match id {
        DatasetId::FashionMnist => &FASHION_MNIST,
        DatasetId::Names => &NAMES,
        DatasetId::NameSequences => &NAME_SEQUENCES,
        other => panic!("no quick preset trains on {other:?}"),
    };
    cell.get_or_init(|| {
        let Source::Shipped(file) = id.source() else { panic!("{id:?} is not shipped with the page") };
        let path = format!("{}/www/data/{file}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Dataset::from_file_bytes(id, &bytes).expect("the shipped data set parses")
    })
}

/// One finished training run: how it ended and everything it reported.
pub(crate) struct Trained {
    pub(crate) config: ExperimentConfig,
    pub(crate) label: String,
    pub(crate) outcome: Outcome,
    pub(crate) recorder: Recorder,
}

impl Trained {
    fn accuracy(&self) -> f32 {
        match self.outcome {
            Outcome::Finished { final_test_accuracy, .. } => final_test_accuracy,
            ref other => panic!("{}: the run did not finish: {other:?}", self.label),
        }
    }

    fn not_learning(&self) -> bool {
        matches!(self.outcome, Outcome::Finished { not_learning: true, .. })
    }

    fn last_epoch(&self) -> EpochSummary {
        self.recorder.epochs().pop().unwrap_or_else(|| panic!("{}: no epoch finished", self.label))
    }

    fn loss_noise(&self) -> f32 {
        loss_noise(&self.recorder.losses())
    }

    fn probes(&self) -> Vec<&ProbeReport> {
        let probes: Vec<&ProbeReport> = self
            .recorder
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Probe(p) => Some(p),
                _ => None,
            })
            .collect();
        assert!(!probes.is_empty(), "{}: no probe reported", self.label);
        probes
    }
}

pub(crate) fn train(config: &ExperimentConfig, probes: Option<ProbeSpec>) -> Trained {
    let mut run = Run::new(Engine::cpu().backend(), config, dataset(config.dataset)).expect("a valid configuration");
    if let Some(spec) = probes {
        run.set_probes(spec);
    }
    let mut recorder = Recorder::default();
    let outcome = pollster::block_on(run.train(&mut recorder)).expect("training runs");
    let trained = Trained { config: config.clone(), label: config.label(), outcome, recorder };
    eprintln!(
        "{}: {:?}, last epoch {:?}, loss noise {:.3}",
        trained.label,
        trained.outcome,
        trained.recorder.epochs().last(),
        trained.loss_noise()
    );
    trained
}

/// Every run of a named experiment (`presets::named`), in its order.
pub(crate) fn train_named(name: &str) -> Vec<Trained> {
    presets::named(name)
        .unwrap_or_else(|| panic!("no preset {name}"))
        .iter()
        .map(|(c, p)| train(c, p.clone()))
        .collect()
}

/// Every run of a list of an experiment's runs (a live piece's, say), in its order.
pub(crate) fn train_variants(variants: Vec<Variant>) -> Vec<Trained> {
    variants.into_iter().map(|v| train(&v.config, v.probes)).collect()
}

pub(crate) fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

// Lesson 1: an 8-layer tanh MLP at a bad initialisation, without and with BatchNorm.

mod batch_size_and_regularizers;
mod early_lessons;
mod later_lessons;
mod sequences;
