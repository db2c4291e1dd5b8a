//! What a model shows to the probes that look inside it while it trains (lessons 1, 3, 7
//! and 9): each layer adds its own tensors (see `Layer::probe`).

use crate::backend::{RunningStats, TensorId};

/// Where a model keeps what a probe reads, each list in layer order.
#[derive(Clone, Debug, Default)]
pub struct ProbePoints {
    /// Each activation layer's output and its values per sample (`[batch, features]`).
    pub activations: Vec<(TensorId, usize)>,
    /// The gradient of each weight (embedding table, linear and conv weights) and its length.
    pub weight_grads: Vec<(TensorId, usize)>,
    /// The gradient of each linear and conv layer's bias, where it has one.
    pub bias_grads: Vec<Option<(TensorId, usize)>>,
    pub norms: Vec<NormProbePoint>,
}

/// One normalization layer's statistics.
#[derive(Clone, Copy, Debug)]
pub struct NormProbePoint {
    pub channels: usize,
    pub spatial: usize,
    /// The layer's output `[batch, channels, spatial]` (with γ = 1, β = 0 it is x̂).
    pub y: TensorId,
    /// Per statistic of the last forward pass: the mean and `1/sqrt(var + eps)`.
    pub mean: TensorId,
    pub rstd: TensorId,
    pub eps: f32,
    pub running: Option<RunningStats>,
    /// True when there is one statistic per channel (BatchNorm and its Lp variants), so
    /// that the first entries of `mean` and `rstd` are channels 0, 1, ….
    pub per_channel_stats: bool,
}
