//! The lessons' experiments, each defined once: its runs at each preset, every run with
//! its configuration, what it probes and what sets it apart from the experiment's other
//! runs (a [`VariantKey`], from which the page makes the run's label in its language).
//! The native runner's `--preset EXPERIMENT-PRESET` and the tests read them by name
//! ([`named`]), the page's live pieces through [`LivePiece`], so that what a lesson says
//! it measured is what its test measures.
//!
//! - [`definitions`]: each experiment's runs, made from the constructors of
//!   [`super::presets`];
//! - [`pieces`]: the runs each live piece of the page trains: its experiment's, or a
//!   documented selection of them.

mod definitions;
mod pieces;

pub use pieces::LivePiece;

use super::presets::{BadInit, Preset, Regularizer};
use super::{ExperimentConfig, ProbeSpec};
use crate::backend::GradClip;
use crate::nn::{NormKind, NormPosition, Placement};

/// A lesson's experiment, by the name the runner and the tests give it ([`Self::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Experiment {
    /// Lesson 1: the deep tanh MLP initialised too small, without and with BatchNorm.
    DeepMlpTooSmall,
    /// Lesson 1: the same initialised too large.
    DeepMlpTooLarge,
    /// Lesson 3: the character model on first names at two running-statistics momenta.
    Names,
    /// Lesson 4: the notes' CNN at Adam's learning rate 0.1, without and with BatchNorm.
    HighLr,
    /// Lesson 5: every normalization of the sweep at every batch size of the preset.
    BatchSweep,
    /// Lesson 6: an overfitting MLP with no regularizer, Dropout, BatchNorm or both.
    Regularizers,
    /// Lesson 7: the loss landscape along the gradient, without and with BatchNorm.
    Smoothness,
    /// Lesson 7: BatchNorm, noisy BatchNorm and none, with the covariate-shift probes.
    NoisyBn,
    /// Lesson 7: L1, L2 (BatchNorm), L∞ normalization and none.
    LpNorm,
    /// Lesson 8: the family of normalizations at batch sizes 2 and 128.
    Family,
    /// Lesson 9: BatchNorm before and after the ReLU.
    Placement,
    /// Lesson 9: the linear layers before BatchNorm without and with their bias.
    RedundantBias,
    /// Lesson 9: a diverging run without clipping, clipped by norm and by value.
    Clipping,
    /// Lesson 11: the transformer on names with each normalization a sequence model may use.
    SeqNorms,
    /// Lesson 11: trained on short names, evaluated on longer ones, loss by position.
    SeqLength,
    /// Lesson 11: one name's loss alone and in a batch of 32, under each norm.
    SeqBatchOne,
    /// Lesson 11: pre- against post-LayerNorm in a deeper transformer, with and without
    /// a learning-rate warm-up.
    SeqPlacement,
}

impl Experiment {
    /// Every experiment, in the order the runner lists them.
    pub const ALL: [Experiment; 17] = [
        Experiment::DeepMlpTooSmall,
        Experiment::DeepMlpTooLarge,
        Experiment::Names,
        Experiment::HighLr,
        Experiment::BatchSweep,
        Experiment::Regularizers,
        Experiment::Smoothness,
        Experiment::NoisyBn,
        Experiment::LpNorm,
        Experiment::Family,
        Experiment::Placement,
        Experiment::RedundantBias,
        Experiment::Clipping,
        Experiment::SeqNorms,
        Experiment::SeqLength,
        Experiment::SeqBatchOne,
        Experiment::SeqPlacement,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Experiment::DeepMlpTooSmall => "deep-mlp-too-small",
            Experiment::DeepMlpTooLarge => "deep-mlp-too-large",
            Experiment::Names => "names",
            Experiment::HighLr => "high-lr",
            Experiment::BatchSweep => "batch-sweep",
            Experiment::Regularizers => "regularizers",
            Experiment::Smoothness => "smoothness",
            Experiment::NoisyBn => "noisy-bn",
            Experiment::LpNorm => "lp-norm",
            Experiment::Family => "family",
            Experiment::Placement => "placement",
            Experiment::RedundantBias => "redundant-bias",
            Experiment::Clipping => "clipping",
            Experiment::SeqNorms => "seq-norms",
            Experiment::SeqLength => "seq-length",
            Experiment::SeqBatchOne => "seq-batch-one",
            Experiment::SeqPlacement => "seq-placement",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Lesson 1's experiment at the bad initialisation `init`.
    pub fn deep_mlp(init: BadInit) -> Self {
        match init {
            BadInit::TooSmall => Experiment::DeepMlpTooSmall,
            BadInit::TooLarge => Experiment::DeepMlpTooLarge,
        }
    }
}

/// The lessons' experiments by name, for the command-line runner: `EXPERIMENT-PRESET`
/// with PRESET `smoke`, `quick` or `full`.
pub const EXPERIMENTS: [&str; Experiment::ALL.len()] = {
    let mut names = [""; Experiment::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Experiment::ALL[i].name();
        i += 1;
    }
    names
};

/// One run of an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// What sets it apart from the experiment's other runs.
    pub key: VariantKey,
    pub config: ExperimentConfig,
    /// What it measures inside the network while it trains, if anything.
    pub probes: Option<ProbeSpec>,
}

/// What sets one run of an experiment apart from its others: the page names the run by
/// it, each live piece in its own words and language.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VariantKey {
    /// With BatchNorm, or without any normalization (lessons 1, 4 and 7).
    BatchNorm(bool),
    /// BatchNorm with noise of this strength (lesson 7).
    NoisyBatchNorm {
        strength: f32,
    },
    /// BatchNorm's running-statistics momentum (lesson 3).
    Momentum(f32),
    /// One normalization (lesson 7's Lp normalizations).
    Norm(NormKind),
    /// One normalization at one batch size (lessons 5 and 8).
    NormAtBatch {
        norm: NormKind,
        batch_size: usize,
    },
    Regularizer(Regularizer),
    /// Where the normalization sits relative to the activation (lesson 9).
    Placement(Placement),
    /// With or without the bias of the layers before BatchNorm (lesson 9).
    Bias(bool),
    Clip(GradClip),
    /// A sequence model's normalization and where it sits (lesson 11).
    SequenceNorm {
        norm: NormKind,
        position: NormPosition,
    },
    /// LayerNorm pre or post, with or without warm-up (lesson 11).
    Warmup {
        position: NormPosition,
        warmup: bool,
    },
}

/// The runs of a named experiment (`EXPERIMENT-PRESET`, see [`EXPERIMENTS`]), each with
/// what it probes, in the order the runner trains them.
pub fn named(name: &str) -> Option<Vec<(ExperimentConfig, Option<ProbeSpec>)>> {
    let (experiment, preset) = name.rsplit_once('-')?;
    let variants = Experiment::parse(experiment)?.variants(Preset::parse(preset)?);
    Some(variants.into_iter().map(|v| (v.config, v.probes)).collect())
}

/// Which run of which experiment `config` is, at any preset and any seed: the experiment
/// and what sets the run apart (the same key names it at every preset, though a preset
/// may have more runs than another). None for a configuration no preset trains.
pub fn variant_of(config: &ExperimentConfig) -> Option<(Experiment, VariantKey)> {
    Experiment::ALL.into_iter().find_map(|experiment| {
        Preset::ALL.into_iter().find_map(|preset| {
            let variant = experiment
                .variants(preset)
                .into_iter()
                .find(|v| ExperimentConfig { seed: config.seed, ..v.config.clone() } == *config)?;
            Some((experiment, variant.key))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::presets::*;

    #[test]
    fn a_run_of_any_preset_and_seed_is_found_at_its_place_and_other_settings_are_not() {
        for experiment in Experiment::ALL {
            for preset in Preset::ALL {
                for (i, v) in experiment.variants(preset).into_iter().enumerate() {
                    let seeded = ExperimentConfig { seed: 97, ..v.config.clone() };
                    let (found, key) = variant_of(&seeded).expect("a preset's run");
                    // Two experiments may share a run: the one found trains the same
                    // configuration under the same key at this preset.
                    let same = found.variants(preset).into_iter().find(|f| f.key == key).map(|f| f.config);
                    assert_eq!(
                        same.map(|c| ExperimentConfig { seed: 97, ..c }),
                        Some(seeded),
                        "{experiment:?} {preset:?} run {i}"
                    );
                }
            }
        }
        let mut changed = Experiment::HighLr.variants(Preset::Quick)[0].config.clone();
        changed.batch_size = 33;
        assert_eq!(variant_of(&changed), None);
    }

    #[test]
    fn every_named_experiment_exists_in_both_presets() {
        for experiment in EXPERIMENTS {
            for preset in ["smoke", "quick", "full"] {
                let runs = named(&format!("{experiment}-{preset}")).expect("named");
                assert!(runs.len() >= 2, "{experiment}");
            }
        }
        assert!(named("high-lr-slow").is_none());
    }

    #[test]
    fn presets_survive_the_url() {
        let mut all = vec![high_lr(true, Preset::Full), high_lr(false, Preset::Quick)];
        all.push(names_model(0.001, Preset::Full));
        all.push(deep_mlp(BadInit::TooLarge, true, Preset::Quick));
        for norm in SWEEP_NORMS {
            all.push(batch_sweep(norm, 2, Preset::Full));
            all.push(batch_sweep(norm, 128, Preset::Quick));
        }
        for experiment in EXPERIMENTS {
            for preset in ["smoke", "quick", "full"] {
                all.extend(named(&format!("{experiment}-{preset}")).unwrap().into_iter().map(|(c, _)| c));
            }
        }
        for config in all {
            let (parsed, problems) = ExperimentConfig::from_query(&config.to_query());
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(parsed, config);
        }
    }

    #[test]
    fn every_experiment_is_found_by_its_name() {
        for experiment in Experiment::ALL {
            assert_eq!(Experiment::parse(experiment.name()), Some(experiment));
        }
        assert_eq!(EXPERIMENTS.len(), Experiment::ALL.len());
        assert!(Experiment::parse("ics").is_none());
    }

    /// Within an experiment the keys tell the runs apart, so that no two runs of a piece
    /// carry the same label.
    #[test]
    fn the_keys_of_an_experiment_differ() {
        for experiment in Experiment::ALL {
            for preset in Preset::ALL {
                let variants = experiment.variants(preset);
                for (i, a) in variants.iter().enumerate() {
                    assert!(
                        variants[i + 1..].iter().all(|b| b.key != a.key),
                        "{}-{}: two runs share {:?}",
                        experiment.name(),
                        preset.name(),
                        a.key
                    );
                }
            }
        }
    }
}
