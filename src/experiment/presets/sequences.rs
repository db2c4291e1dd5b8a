//! Lesson 11's experiments: a causal transformer on whole first names (width 64, 4 heads,
//! context 16, Adam), its normalization a choice.

use super::Preset;
use crate::data::DatasetId;
use crate::experiment::{ExperimentConfig, ProbeSpec};
use crate::nn::{Architecture, ModelChoices, NormKind, NormPosition, Optimizer};

/// The norms a sequence model may use, each where lesson 11 places it: LayerNorm pre and
/// post, RMSNorm, BatchNorm pooled over the real tokens, BatchNorm per position, none.
pub const SEQUENCE_NORMS: [(NormKind, NormPosition); 6] = [
    (NormKind::Layer, NormPosition::Pre),
    (NormKind::Layer, NormPosition::Post),
    (NormKind::Rms, NormPosition::Pre),
    (NormKind::Batch, NormPosition::Pre),
    (NormKind::BatchPerPosition, NormPosition::Pre),
    (NormKind::None, NormPosition::Pre),
];

/// The lesson's transformer: blocks (except in the placement experiment) and heads.
pub const SEQUENCE_BLOCKS: usize = 2;
pub const SEQUENCE_HEADS: usize = 4;

/// The longest training name of the length experiment, in letters.
pub const TRAIN_LETTERS: usize = 6;

/// The lesson's transformer with `blocks` blocks, `norm` at `position`, batches of 32.
pub fn sequence_model(norm: NormKind, position: NormPosition, blocks: usize, preset: Preset) -> ExperimentConfig {
    let (max_batches, test_subset) = preset.smoke_caps();
    ExperimentConfig {
        dataset: DatasetId::NameSequences,
        model: ModelChoices {
            architecture: Architecture::Transformer {
                dim: 64,
                heads: SEQUENCE_HEADS,
                blocks,
                context: 16,
                norm_position: position,
            },
            norms: vec![norm],
            ..ModelChoices::default()
        },
        optimizer: Optimizer::adam(),
        learning_rate: 1e-3,
        batch_size: 32,
        epochs: match preset {
            Preset::Smoke => 1,
            Preset::Quick => 3,
            Preset::Full => 10,
        },
        max_batches_per_epoch: max_batches,
        test_subset,
        ..ExperimentConfig::default()
    }
}

/// Lesson 11's "norms in a sequence model": one run of each of [`SEQUENCE_NORMS`].
pub fn sequence_norms(norm: NormKind, position: NormPosition, preset: Preset) -> ExperimentConfig {
    sequence_model(norm, position, SEQUENCE_BLOCKS, preset)
}

/// What the norms piece measures at the end of each epoch besides the eval-mode loss: the
/// held-out loss with the batch's statistics (BatchNorm's gap between the two).
pub fn sequence_norm_probes() -> ProbeSpec {
    ProbeSpec { test_loss_batch_stats: true, ..ProbeSpec::default() }
}

/// Lesson 11's "longer than anything in training": trained on names of at most
/// [`TRAIN_LETTERS`] letters, evaluated on every held-out name.
pub fn sequence_length(norm: NormKind, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        train_max_letters: Some(TRAIN_LETTERS),
        ..sequence_model(norm, NormPosition::Pre, SEQUENCE_BLOCKS, preset)
    }
}

/// The length experiment's norms.
pub const LENGTH_NORMS: [NormKind; 4] = [NormKind::Layer, NormKind::Rms, NormKind::Batch, NormKind::BatchPerPosition];

/// The held-out loss at each position, at the end of every epoch.
pub fn position_probes() -> ProbeSpec {
    ProbeSpec { position_losses: true, ..ProbeSpec::default() }
}

/// The batch-of-one experiment's norms: those that work within a token, and BatchNorm's two.
pub const BATCH_OF_ONE_NORMS: [NormKind; 4] =
    [NormKind::Layer, NormKind::Rms, NormKind::Batch, NormKind::BatchPerPosition];

/// One held-out name's losses alone and in a batch, at the end of every epoch.
pub fn batch_of_one_probes() -> ProbeSpec {
    ProbeSpec { batch_of_one: true, ..ProbeSpec::default() }
}

/// Lesson 11's pre- against post-LayerNorm (Xiong et al. 2020): a deeper model at a
/// learning rate where post-LN needs a warm-up.
pub const PLACEMENT_BLOCKS: usize = 6;
pub const PLACEMENT_LEARNING_RATE: f32 = 5e-3;
pub const PLACEMENT_WARMUP_STEPS: usize = 200;

/// The quick placement runs' epochs: two, not three, so that its three 6-block runs
/// finish within two minutes on the page's CPU engine (about 100 s here).
pub const PLACEMENT_QUICK_EPOCHS: usize = 2;

/// One run of the placement experiment: LayerNorm at `position`, with or without warm-up.
pub fn sequence_placement(position: NormPosition, warmup: bool, preset: Preset) -> ExperimentConfig {
    let model = sequence_model(NormKind::Layer, position, PLACEMENT_BLOCKS, preset);
    ExperimentConfig {
        learning_rate: PLACEMENT_LEARNING_RATE,
        warmup_steps: warmup.then_some(PLACEMENT_WARMUP_STEPS),
        epochs: if preset == Preset::Quick { PLACEMENT_QUICK_EPOCHS } else { model.epochs },
        ..model
    }
}

/// Each block's gradient norm before the first step (the global norm of every step comes
/// with the losses).
pub fn placement_probes() -> ProbeSpec {
    ProbeSpec { gradients_at_init: true, ..ProbeSpec::default() }
}
