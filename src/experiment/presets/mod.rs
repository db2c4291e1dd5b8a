//! The configurations of the lessons' experiments, from which [`super::catalog`] defines
//! each experiment's runs once for the page, the native runner (`normlab-run --preset …`)
//! and the tests, so that what a lesson says it measured is what its test measures.
//!
//! Each experiment has a quick preset (well under a minute on a laptop GPU), a full one at
//! the source notes' settings, and a smoke test of a few steps that only shows that the
//! piece runs (for slow devices, and for the end-to-end tests on a software GPU).

use serde::{Deserialize, Serialize};

pub use super::catalog::{named, EXPERIMENTS};
use super::config::LrDrop;
use super::{ExperimentConfig, ProbeSpec};
use crate::backend::Activation;
use crate::data::DatasetId;
use crate::nn::{Architecture, ModelChoices, NormKind, Optimizer};

mod sequences;
pub use sequences::*;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// A few steps on a slice of the data: shows the piece runs, teaches nothing.
    Smoke,
    #[default]
    Quick,
    Full,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Smoke, Preset::Quick, Preset::Full];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Smoke => "smoke",
            Preset::Quick => "quick",
            Preset::Full => "full",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The smoke test's cap on batches per epoch and test examples; None otherwise.
    pub(crate) fn smoke_caps(self) -> (Option<usize>, Option<usize>) {
        match self {
            Preset::Smoke => (Some(16), Some(200)),
            _ => (None, None),
        }
    }
}

/// Lesson 1's two bad initialisations: PyTorch's default scaled down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadInit {
    /// ×0.5: each tanh layer multiplies the signal's variance by about 1/12.
    TooSmall,
    /// ×5: each layer multiplies it by about 8, and every tanh saturates.
    TooLarge,
}

impl BadInit {
    pub fn scale(self) -> f32 {
        match self {
            BadInit::TooSmall => 0.5,
            BadInit::TooLarge => 5.0,
        }
    }
}

/// Lesson 1: an 8-layer tanh MLP of width 64 at a bad initialisation, with or without
/// BatchNorm before every tanh.
pub fn deep_mlp(init: BadInit, batch_norm: bool, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        model: ModelChoices {
            architecture: Architecture::Mlp { hidden: vec![64; 8] },
            norms: vec![if batch_norm { NormKind::Batch } else { NormKind::None }],
            activation: Activation::Tanh,
            init_scale: init.scale(),
            ..ModelChoices::default()
        },
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 0.01,
        batch_size: 64,
        epochs: match preset {
            Preset::Smoke | Preset::Quick => 1,
            Preset::Full => 3,
        },
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(24),
            Preset::Quick => Some(120),
            Preset::Full => None,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// What lesson 1 watches: activation histograms over tanh's range and gradient norms.
pub fn deep_mlp_probes() -> ProbeSpec {
    ProbeSpec { every_steps: 8, activation_histogram: Some((-1.0, 1.0, 40)), grad_norms: true, ..ProbeSpec::default() }
}

/// Lesson 3: the character-level MLP on first names (context 3, embedding 10, hidden 200
/// with BatchNorm and tanh, batch 32, plain SGD at 0.1 then 0.01 for the second half),
/// with the given running-statistics momentum.
pub fn names_model(momentum: f32, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        dataset: DatasetId::Names,
        model: ModelChoices {
            architecture: Architecture::CharMlp { embed: 10, hidden: vec![200] },
            norms: vec![NormKind::Batch],
            activation: Activation::Tanh,
            norm_momentum: Some(momentum),
            ..ModelChoices::default()
        },
        optimizer: Optimizer::Sgd { momentum: 0.0, weight_decay: 0.0 },
        learning_rate: 0.1,
        lr_drop: Some(LrDrop { at: 0.5, factor: 0.1 }),
        batch_size: 32,
        epochs: match preset {
            Preset::Smoke => 1,
            Preset::Quick => 3,
            Preset::Full => 20,
        },
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(64),
            _ => None,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// The two running-statistics momenta lesson 3 compares: PyTorch's default, and one so
/// slow that the running estimates lag far behind the batch statistics.
pub const NAMES_MOMENTA: [f32; 2] = [0.1, 0.001];

/// What lesson 3 watches: running vs batch statistics of a few hidden units, and the
/// held-out loss in eval mode and with batch statistics.
pub fn names_probes(preset: Preset) -> ProbeSpec {
    ProbeSpec {
        every_steps: match preset {
            Preset::Smoke => 16,
            Preset::Quick => 40,
            Preset::Full => 200,
        },
        norm_units: 4,
        evaluate: true,
        ..ProbeSpec::default()
    }
}

/// Lesson 4: the notes' CNN at Adam's learning rate 0.1, with or without BatchNorm.
pub fn high_lr(batch_norm: bool, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        model: ModelChoices {
            architecture: Architecture::notes_cnn(),
            norms: vec![if batch_norm { NormKind::Batch } else { NormKind::None }],
            ..ModelChoices::default()
        },
        optimizer: Optimizer::adam(),
        learning_rate: 0.1,
        batch_size: match preset {
            Preset::Smoke => 16,
            _ => 64,
        },
        epochs: match preset {
            Preset::Smoke => 1,
            Preset::Quick => 2,
            Preset::Full => 8,
        },
        train_subset: match preset {
            Preset::Smoke | Preset::Quick => Some(3000),
            Preset::Full => None,
        },
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(6),
            _ => None,
        },
        test_subset: match preset {
            Preset::Smoke => Some(100),
            _ => None,
        },
        ..ExperimentConfig::default()
    }
}

/// The normalizations lesson 5 compares. GroupNorm uses 8 groups, which divide every
/// layer's width in both of its networks.
pub const SWEEP_NORMS: [NormKind; 4] =
    [NormKind::Batch, NormKind::Group { groups: 8 }, NormKind::Layer, NormKind::None];

/// The batch sizes lesson 5 sweeps.
pub fn sweep_batch_sizes(preset: Preset) -> Vec<usize> {
    match preset {
        Preset::Smoke => vec![2, 32],
        Preset::Quick => vec![2, 8, 32, 128],
        Preset::Full => vec![2, 4, 8, 16, 32, 64, 128, 256],
    }
}

/// Lessons 5 and 8's quick network: the notes' CNN at half its width (conv 1→16 and
/// 16→32, hidden 64), a quarter of its multiply-adds. It keeps what the lessons compare: a
/// convolutional BatchNorm pools over positions and a linear one does not, and GroupNorm's
/// 8 groups hold 2 or 4 channels (at 8 channels they would be InstanceNorm). An MLP, which
/// the quick sweep used before, learns erratically without normalization at batch size 2,
/// and that blurred BatchNorm's own collapse there.
fn half_width_cnn() -> Architecture {
    Architecture::Cnn { channels: vec![16, 32], hidden: vec![64] }
}

/// Lesson 5: one run of the batch-size sweep, SGD with momentum at lr 0.01. Full: the
/// notes' CNN, 2 epochs; quick: the half-width CNN on 4 000 images for one epoch (a whole
/// sweep takes about half a minute on one native thread); smoke: an MLP on a few batches.
pub fn batch_sweep(norm: NormKind, batch_size: usize, preset: Preset) -> ExperimentConfig {
    let model = |architecture| ModelChoices { architecture, norms: vec![norm], ..ModelChoices::default() };
    let base = ExperimentConfig {
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 0.01,
        batch_size,
        ..ExperimentConfig::default()
    };
    let (max_batches, test_subset) = preset.smoke_caps();
    match preset {
        Preset::Smoke => ExperimentConfig {
            model: model(Architecture::Mlp { hidden: vec![256, 256] }),
            train_subset: Some(4000),
            epochs: 1,
            max_batches_per_epoch: max_batches,
            test_subset,
            ..base
        },
        Preset::Quick => {
            ExperimentConfig { model: model(half_width_cnn()), train_subset: Some(4000), epochs: 1, ..base }
        }
        Preset::Full => ExperimentConfig { model: model(Architecture::notes_cnn()), epochs: 2, ..base },
    }
}

/// The four regimes lesson 6 compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regularizer {
    None,
    Dropout,
    BatchNorm,
    Both,
}

impl Regularizer {
    pub const ALL: [Regularizer; 4] =
        [Regularizer::None, Regularizer::Dropout, Regularizer::BatchNorm, Regularizer::Both];
}

/// Lesson 6: an MLP on 1 000 training images, so that it overfits, with no
/// regularizer, Dropout (p = 0.5 after each hidden layer), BatchNorm, or both.
pub fn regularizers(regularizer: Regularizer, preset: Preset) -> ExperimentConfig {
    let batch_norm = matches!(regularizer, Regularizer::BatchNorm | Regularizer::Both);
    let dropout = matches!(regularizer, Regularizer::Dropout | Regularizer::Both);
    ExperimentConfig {
        model: ModelChoices {
            architecture: Architecture::Mlp { hidden: vec![256, 256] },
            norms: vec![if batch_norm { NormKind::Batch } else { NormKind::None }],
            dropout: if dropout { 0.5 } else { 0.0 },
            ..ModelChoices::default()
        },
        train_subset: Some(1000),
        optimizer: Optimizer::adam(),
        learning_rate: 1e-3,
        batch_size: 64,
        epochs: match preset {
            Preset::Smoke => 2,
            Preset::Quick => 12,
            Preset::Full => 30,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// What lesson 6 watches: the training split's accuracy in eval mode, every epoch.
pub fn regularizer_probes() -> ProbeSpec {
    ProbeSpec { every_steps: usize::MAX, train_accuracy_in_eval: true, ..ProbeSpec::default() }
}

/// Lesson 7's network: a 4-hidden-layer ReLU MLP with He initialisation (PyTorch's
/// default scaled by √6, so that the plain network trains from the first step too),
/// plain SGD at lr 0.1, with BatchNorm (`norm`), noisy BatchNorm (`noise` > 0), an Lp
/// variant, or none.
pub fn why_batchnorm(norm: NormKind, noise: f32, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        model: ModelChoices {
            architecture: Architecture::Mlp { hidden: vec![128; 4] },
            norms: vec![norm],
            norm_noise: noise,
            init_scale: HE_SCALE,
            ..ModelChoices::default()
        },
        optimizer: Optimizer::Sgd { momentum: 0.0, weight_decay: 0.0 },
        learning_rate: 0.1,
        batch_size: 64,
        epochs: match preset {
            Preset::Smoke | Preset::Quick => 1,
            Preset::Full => 4,
        },
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(24),
            Preset::Quick => Some(100),
            Preset::Full => None,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// PyTorch's default uniform bound 1/√fan_in times √6 is He (Kaiming) uniform for ReLU.
const HE_SCALE: f32 = 2.449_489_7;

/// Lesson 7's default noisy-BatchNorm strength: each step, every channel is scaled by a
/// random factor in [1, 1.5) and shifted by a random amount in [−0.5, 0.5).
pub const NOISY_BN_STRENGTH: f32 = 0.5;

/// Lesson 7's measurements along the gradient: steps of ½ to 4 learning rates.
pub fn landscape_probes(preset: Preset) -> ProbeSpec {
    ProbeSpec {
        every_steps: match preset {
            Preset::Smoke => 8,
            Preset::Quick => 8,
            Preset::Full => 40,
        },
        landscape: Some(vec![0.5, 1.0, 2.0, 4.0]),
        ..ProbeSpec::default()
    }
}

/// Lesson 7's internal-covariate-shift measurement.
pub fn shift_probes(preset: Preset) -> ProbeSpec {
    ProbeSpec { covariate_shift: true, landscape: None, ..landscape_probes(preset) }
}

/// The normalizations lesson 8's table compares.
pub const FAMILY: [NormKind; 6] = [
    NormKind::Batch,
    NormKind::Layer,
    NormKind::Instance,
    NormKind::Group { groups: 8 },
    NormKind::Rms,
    NormKind::None,
];

/// The batch sizes of lesson 8's table: one where only the batch-independent norms train
/// well, and a common one.
pub const FAMILY_BATCH_SIZES: [usize; 2] = [2, 128];

/// Lesson 8: a CNN with one of the family at batch size 2 or 128, SGD with momentum at
/// lr 0.01. Quick: the half-width CNN for one epoch on 3 000 images (the twelve runs take
/// under 20 s on one native thread); full: the notes' CNN for 2 epochs on all the data;
/// smoke: the notes' CNN on a few batches. InstanceNorm, which needs positions to normalize
/// over, sits on the two conv blocks only (as `nn.InstanceNorm2d` would); the others on
/// every block.
pub fn family(norm: NormKind, batch_size: usize, preset: Preset) -> ExperimentConfig {
    let norms = match norm {
        NormKind::Instance => vec![norm, norm, NormKind::None],
        _ => vec![norm],
    };
    ExperimentConfig {
        model: ModelChoices {
            architecture: match preset {
                Preset::Quick => half_width_cnn(),
                Preset::Smoke | Preset::Full => Architecture::notes_cnn(),
            },
            norms,
            ..ModelChoices::default()
        },
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 0.01,
        batch_size,
        epochs: match preset {
            Preset::Full => 2,
            _ => 1,
        },
        train_subset: match preset {
            Preset::Smoke => Some(400),
            Preset::Quick => Some(3000),
            Preset::Full => None,
        },
        max_batches_per_epoch: preset.smoke_caps().0,
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// Lesson 9 (placement): the MLP with BatchNorm before or after its ReLUs.
pub fn placement(after: bool, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        model: ModelChoices {
            placement: if after { crate::nn::Placement::After } else { crate::nn::Placement::Before },
            ..ModelChoices::default()
        },
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 0.01,
        epochs: match preset {
            Preset::Full => 5,
            _ => 1,
        },
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(24),
            _ => None,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// Lesson 9 (the redundant bias): the MLP with BatchNorm, its linear layers with or
/// without bias, plain SGD so that a zero gradient means a bias that never moves.
pub fn redundant_bias(bias: bool, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        model: ModelChoices { bias, ..ModelChoices::default() },
        optimizer: Optimizer::Sgd { momentum: 0.0, weight_decay: 0.0 },
        learning_rate: 0.1,
        epochs: 1,
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(24),
            Preset::Quick => Some(100),
            Preset::Full => None,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// What lesson 9's bias piece watches: every bias gradient's norm.
pub fn bias_probes() -> ProbeSpec {
    ProbeSpec { every_steps: 8, grad_norms: true, ..ProbeSpec::default() }
}

/// Lesson 9 (clipping): the MLP without normalization at SGD lr 0.3 (momentum 0.9),
/// which diverges within the first epoch, without clipping or clipped by global norm or
/// by value.
pub fn clipping(clip: crate::backend::GradClip, preset: Preset) -> ExperimentConfig {
    ExperimentConfig {
        model: ModelChoices { norms: vec![NormKind::None], ..ModelChoices::default() },
        clip,
        optimizer: Optimizer::sgd_momentum(),
        learning_rate: 0.3,
        epochs: match preset {
            Preset::Full => 3,
            _ => 1,
        },
        max_batches_per_epoch: match preset {
            Preset::Smoke => Some(100),
            _ => None,
        },
        test_subset: preset.smoke_caps().1,
        ..ExperimentConfig::default()
    }
}

/// The clipping rules lesson 9 compares.
pub const CLIPS: [crate::backend::GradClip; 3] = [
    crate::backend::GradClip::None,
    crate::backend::GradClip::norm(1.0),
    crate::backend::GradClip::Value { clip: 0.05 },
];
