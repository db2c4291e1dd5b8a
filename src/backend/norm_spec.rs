//! What a normalization op is told: which elements share a statistic (the geometry,
//! fixed when the model is built), whether it uses and updates batch or running
//! statistics (the mode, decided once per forward), and the tensors it reads and writes.

use crate::backend::{Activation, TensorId};

/// Which elements of an `[N, C, S]` tensor (S = H·W, or 1 for a fully connected layer)
/// share one mean and variance. Every normalization in the lab is one of these:
///
/// | layer | `groups` | `reduce_over_batch` | `affine_per_element` | `subtract_mean` |
/// |---|---|---|---|---|
/// | BatchNorm1d/2d | C | true | false | true |
/// | GroupNorm(G) | G | false | false | true |
/// | InstanceNorm2d | C | false | false | true |
/// | LayerNorm over (C, H, W) | 1 | false | true | true |
/// | RMSNorm over (C, H, W) | 1 | false | true | false |
/// | Lp normalization (L1, L2, L∞) | C | true | false | true |
///
/// Every kind divides by `sqrt(spread² + eps)`; `spread` is the standard deviation except for
/// the L1 and L∞ variants of Lp normalization (Santurkar et al. 2018, §3.3), which use the
/// mean or the largest absolute deviation from the mean instead.
///
/// A statistic covers the channels of one group (C / groups of them) and all S positions,
/// and all N samples when `reduce_over_batch`, else one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormGeometry {
    /// Which normalization this is: the CPU reference implements each one plainly (so that
    /// it checks the GPU's one kernel family, which reads only the fields below).
    pub family: NormFamily,
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
    pub groups: usize,
    pub reduce_over_batch: bool,
    /// γ and β have one entry per (channel, position) instead of one per channel.
    pub affine_per_element: bool,
    /// False for RMSNorm, which scales by the root mean square without centring.
    pub subtract_mean: bool,
    /// What measures the spread the layer divides by.
    pub spread: Spread,
    pub eps: f32,
}

/// The normalizations the CPU reference writes out one by one (see [`NormGeometry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormFamily {
    /// BatchNorm, and with another [`Spread`] its Lp variants.
    Batch,
    Layer,
    Instance,
    Group,
    Rms,
}

/// The measure of spread `s` a normalization divides by: `x̂ = (x − μ) / sqrt(s² + eps)`.
/// Over the deviations `d = x − μ` of one statistic's `M` elements:
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spread {
    /// `s² = mean(d²)`, the biased variance: every standard normalization, and L2 normalization.
    #[default]
    StdDev,
    /// `s = mean(|d|)`: L1 normalization.
    MeanAbs,
    /// `s = max(|d|)`: L∞ normalization. Its gradient reaches only the elements at the
    /// maximum, shared evenly among ties (as `torch.amax`).
    MaxAbs,
}

/// How many values per statistic the backward pass keeps in `NormGrads::stat_grad`:
/// Σ g, Σ g·x̂, and for the L1/L∞ spreads s, Σ sign(d) over the elements that move s, and
/// how many elements move s (all of them for L1, the ties at the maximum for L∞).
pub const NORM_STAT_GRAD_WIDTH: usize = 5;

impl NormGeometry {
    pub fn elements(&self) -> usize {
        self.batch * self.channels * self.spatial
    }
    pub fn channels_per_group(&self) -> usize {
        self.channels / self.groups
    }
    /// How many separate (mean, rstd) pairs there are.
    pub fn stat_count(&self) -> usize {
        if self.reduce_over_batch {
            self.groups
        } else {
            self.batch * self.groups
        }
    }
    /// How many elements share each statistic.
    pub fn elements_per_stat(&self) -> usize {
        let samples = if self.reduce_over_batch { self.batch } else { 1 };
        samples * self.channels_per_group() * self.spatial
    }
    /// Which statistic element `(sample, channel, position)` of the `[N, C, S]` tensor is
    /// normalized with (an index below [`NormGeometry::stat_count`]); every position of a
    /// channel shares its channel's statistic.
    pub fn stat_of(&self, sample: usize, channel: usize) -> usize {
        let group = channel / self.channels_per_group();
        if self.reduce_over_batch {
            group
        } else {
            sample * self.groups + group
        }
    }

    /// Length of the backward pass's scratch, [`NormGrads::stat_grad`].
    pub fn stat_grad_len(&self) -> usize {
        NORM_STAT_GRAD_WIDTH * self.stat_count()
    }
    /// Length of γ and β.
    pub fn affine_len(&self) -> usize {
        if self.affine_per_element {
            self.channels * self.spatial
        } else {
            self.channels
        }
    }
}

/// How a normalization runs, decided once by its layer from the training phase and taken
/// by the backends as it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormMode {
    /// Normalize with the statistics of the batch in hand (training; a held-out pass "in
    /// training mode"; and every norm without running estimates, in every phase). False:
    /// with the running estimates (BatchNorm's eval mode), which `NormTensors::running`
    /// must then hold.
    pub batch_statistics: bool,
    /// What happens to the running estimates (only BatchNorm and its Lp variants have them).
    pub running: RunningUpdate,
}

/// What a forward pass does to a norm's running estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunningUpdate {
    /// Leave them as they are (eval mode, a held-out pass, a norm that has none).
    Keep,
    /// `running = (1 − m)·running + m·batch`, with the unbiased variance (for the L1/L∞
    /// spreads, `running_var` tracks s² as measured, with no correction), as PyTorch does.
    Momentum(f32),
    /// PyTorch's `momentum=None`: the factor is `1 / num_batches_tracked`, a cumulative
    /// average of every batch's statistics.
    Cumulative,
}

impl NormMode {
    /// Batch statistics, the running estimates left alone.
    pub const BATCH_STATISTICS: NormMode = NormMode { batch_statistics: true, running: RunningUpdate::Keep };
    /// The running estimates stand in for the batch statistics (BatchNorm's eval mode).
    pub const RUNNING_STATISTICS: NormMode = NormMode { batch_statistics: false, running: RunningUpdate::Keep };

    /// Training: batch statistics, and the running estimates updated with `momentum`
    /// (None: PyTorch's cumulative average).
    pub fn training(momentum: Option<f32>) -> NormMode {
        let running = momentum.map_or(RunningUpdate::Cumulative, RunningUpdate::Momentum);
        NormMode { batch_statistics: true, running }
    }

    /// Whether the running estimates change.
    pub fn updates_running(&self) -> bool {
        self.running != RunningUpdate::Keep
    }
}

/// The tensors one normalization layer works on.
#[derive(Clone, Copy, Debug)]
pub struct NormTensors {
    pub x: TensorId,
    pub y: TensorId,
    pub gamma: TensorId,
    pub beta: TensorId,
    /// Per statistic, written by the forward pass and read by the backward pass.
    pub mean: TensorId,
    pub rstd: TensorId,
    /// Per channel; only BatchNorm has them.
    pub running: Option<RunningStats>,
    /// An activation that follows the norm, computed in the same pass (a block's
    /// `norm → activation` without a dispatch between them).
    pub activation: Option<FusedActivation>,
    /// Which rows are real tokens rather than padding, for BatchNorm over sequences.
    pub mask: Option<RowMask>,
}

/// BatchNorm over the real tokens of padded sequences: only the elements of real rows
/// enter a statistic (and the running estimates), every element is normalized with it.
///
/// Element `(n, c)` of the `[N, C, S]` view belongs to row `n·(C / features) + c / features`
/// of `targets`, which is real where its target is ≥ 0 (padding is −1, the loss's ignore
/// index): with `[N·T, d]` rows and `features = d` a row is a token; with one sample per
/// sequence (`[N, T·d]`, BatchNorm per position) it is `n·T + t`.
///
/// A statistic without a real element (a position no sequence of the batch reaches)
/// normalizes with the running estimates and leaves them as they are; one real element
/// updates the running variance with the biased variance (0) rather than dividing by 0.
/// Only BatchNorm with the standard deviation takes a mask.
#[derive(Clone, Copy, Debug)]
pub struct RowMask {
    pub targets: TensorId,
    pub features: usize,
}

impl RowMask {
    /// Whether element `(sample, channel)` of the `[N, C, S]` view is a real token's, read
    /// from the batch's `targets`.
    pub fn counts(&self, targets: &[f32], channels: usize, sample: usize, channel: usize) -> bool {
        let row = sample * (channels / self.features) + channel / self.features;
        targets[row] >= 0.0
    }
}

/// `out = kind(y)` after a normalization. `y`, the norm's own output, is still written (the
/// probes read it); the backward pass takes the gradient of `out` and applies the
/// activation's derivative (from `out`: ReLU's `out > 0` is `y > 0`, tanh's `1 − out²`)
/// before the norm's own.
#[derive(Clone, Copy, Debug)]
pub struct FusedActivation {
    pub kind: Activation,
    pub out: TensorId,
}

#[derive(Clone, Copy, Debug)]
pub struct RunningStats {
    pub mean: TensorId,
    pub var: TensorId,
    /// One element: how many training batches have updated the estimates
    /// (`num_batches_tracked`), which the cumulative average divides by.
    pub batches_tracked: TensorId,
}

#[derive(Clone, Copy, Debug)]
pub struct NormGrads {
    pub dy: TensorId,
    pub dx: TensorId,
    pub dgamma: TensorId,
    pub dbeta: TensorId,
    /// Scratch of length [`NormGeometry::stat_grad_len`], see [`NORM_STAT_GRAD_WIDTH`].
    pub stat_grad: TensorId,
    /// Added to `dx` as it is written: the gradient arriving along a residual connection
    /// that skips this norm (a pre-norm transformer block's input gets both).
    pub residual: Option<TensorId>,
}
