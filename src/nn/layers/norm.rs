//! A normalization layer over `[N, C, S]` (S = H·W, or 1 after a linear layer): BatchNorm,
//! LayerNorm, InstanceNorm, GroupNorm, RMSNorm or an Lp variant, one kernel family behind
//! them all (see `backend::NormGeometry`).
//!
//! The training phase becomes one explicit [`NormMode`] here, once per forward pass: which
//! statistics normalize (the batch's, or BatchNorm's running estimates in eval mode) and
//! whether the running estimates are updated. The backends take it as it is. Which
//! elements share a statistic is fixed when the model is built; only the batch varies.
//!
//! A block's activation that directly follows the norm is part of this layer (the builder
//! decides): the backends apply it in the same pass as the norm, and take its derivative
//! in the norm's backward pass, so that `norm → activation` costs no dispatch of its own.

use super::Layer;
use crate::backend::{
    Activation, Backend, FusedActivation, NormGeometry, NormGrads, NormMode, NormTensors, RowMask, RunningStats,
    TensorId, NORM_STAT_GRAD_WIDTH,
};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;
use crate::nn::norm::NormKind;
use crate::nn::param::{Param, ParamRole};
use crate::nn::probe::{NormProbePoint, ProbePoints};
use crate::words;

/// How a norm's samples relate to a sequence model's token rows (see [`Norm::over_tokens`]).
#[derive(Clone, Copy)]
struct Sequences {
    rows_per_sample: usize,
    samples_per_example: usize,
    mask: Option<RowMask>,
}

impl Sequences {
    /// One row per sample and per example, no padding: the MLP's and the CNN's norms.
    const NONE: Sequences = Sequences { rows_per_sample: 1, samples_per_example: 1, mask: None };
}

pub struct Norm {
    pub kind: NormKind,
    pub channels: usize,
    pub spatial: usize,
    /// Which elements share a statistic, at the largest batch.
    geometry: NormGeometry,
    pub gamma: Param,
    pub beta: Param,
    /// Whether γ and β learn (otherwise they stay 1 and 0).
    pub affine: bool,
    /// BatchNorm's running estimates (None for the norms that work within a sample).
    pub running: Option<RunningStats>,
    /// Running-statistics momentum; None is PyTorch's cumulative average.
    pub momentum: Option<f32>,
    /// Per statistic of the last forward pass: its mean and 1/√(var + eps).
    mean: TensorId,
    rstd: TensorId,
    stat_grad: TensorId,
    y: TensorId,
    dx: TensorId,
    /// The activation that follows the norm in the same pass, and its output.
    activation: Option<FusedActivation>,
    /// The last forward's input, batch and mode, for the backward pass.
    x: Option<TensorId>,
    batch: usize,
    mode: NormMode,
    /// Rows of the model's batch per sample of this layer's `[N, C, S]` view: 1, or for
    /// BatchNorm per position the sequence length (one sample is a whole sequence).
    rows_per_sample: usize,
    /// Samples of this layer per example of the model's batch, for PyTorch's batch check
    /// (a sequence model's pooled BatchNorm sees every token as a sample).
    samples_per_example: usize,
    /// Which rows are padding, for BatchNorm over sequences.
    mask: Option<RowMask>,
}

impl Norm {
    /// The `kind` of normalization for the current shape, followed by `activation` when
    /// given; refused in words where the shape does not allow it (GroupNorm's groups must
    /// divide the channels; InstanceNorm needs positions).
    pub fn new(b: &mut Builder, kind: NormKind, activation: Option<Activation>) -> Result<Self, NormlabError> {
        if kind == NormKind::BatchPerPosition {
            return Err(NormlabError::InvalidConfig(words!(
                "BatchNorm per position needs sequences: it is a choice of the transformer (arch=transformer)",
                "逐位置的 BatchNorm 需要序列：它是 Transformer（arch=transformer）的选项"
            )));
        }
        let (c, h, w) = b.shape();
        Self::build(b, kind, activation, (b.max_batch(), c, h * w), Sequences::NONE)
    }

    /// The norm of a sequence model over its token rows `[N·T, d]` (the builder's batch is
    /// its rows), each of `seq_len` tokens: LayerNorm and RMSNorm per token, BatchNorm per
    /// feature over the real tokens, BatchNorm per position over the real tokens at each
    /// position (the rows viewed as `[N, T·d]`).
    pub fn over_tokens(b: &mut Builder, kind: NormKind, seq_len: usize) -> Result<Self, NormlabError> {
        let (d, _, _) = b.shape();
        // A row is a token in either view (see `RowMask`).
        let mask = kind.has_running_stats().then(|| RowMask { targets: b.row_targets(), features: d });
        let rows = b.max_batch();
        match kind {
            NormKind::BatchPerPosition => {
                let sequences = Sequences { rows_per_sample: seq_len, samples_per_example: 1, mask };
                Self::build(b, NormKind::BatchPerPosition, None, (rows / seq_len, seq_len * d, 1), sequences)
            }
            _ => {
                let tokens = Sequences { rows_per_sample: 1, samples_per_example: seq_len, mask };
                Self::build(b, kind, None, (rows, d, 1), tokens)
            }
        }
    }

    /// The layer over `[samples, c, spatial]` at the largest batch.
    fn build(
        b: &mut Builder,
        kind: NormKind,
        activation: Option<Activation>,
        (samples, c, spatial): (usize, usize, usize),
        sequences: Sequences,
    ) -> Result<Self, NormlabError> {
        let geometry = kind.geometry(samples, c, spatial, false)?.expect("a norm kind other than None");
        let i = b.index();
        let affine_len = geometry.affine_len();
        let stats = samples * c;
        let running = if kind.has_running_stats() {
            let mean = b.alloc(c, &format!("layer{i}.running_mean"))?;
            let var = b.alloc(c, &format!("layer{i}.running_var"))?;
            b.upload(var, &vec![1.0; c]);
            let batches_tracked = b.alloc(1, &format!("layer{i}.num_batches_tracked"))?;
            Some(RunningStats { mean, var, batches_tracked })
        } else {
            None
        };
        let (affine, momentum) = (b.choices().affine, b.choices().norm_momentum);
        // Without `affine`, γ = 1 and β = 0 stay fixed: outside the arenas the optimizer steps.
        let (gamma, beta) = if affine {
            (b.param(&vec![1.0; affine_len], ParamRole::Gamma), b.param(&vec![0.0; affine_len], ParamRole::Beta))
        } else {
            (
                b.fixed_param(&vec![1.0; affine_len], ParamRole::Gamma, &format!("layer{i}.weight"))?,
                b.fixed_param(&vec![0.0; affine_len], ParamRole::Beta, &format!("layer{i}.bias"))?,
            )
        };
        let mean = b.alloc(stats, &format!("layer{i}.mean"))?;
        let rstd = b.alloc(stats, &format!("layer{i}.rstd"))?;
        let stat_grad = b.alloc(NORM_STAT_GRAD_WIDTH * stats, &format!("layer{i}.stat_grad"))?;
        let elements = samples * c * spatial;
        let y = b.alloc(elements, &format!("layer{i}.y"))?;
        let dx = b.alloc(elements, &format!("layer{i}.dx"))?;
        let activation = match activation {
            Some(kind) => Some(FusedActivation { kind, out: b.alloc(elements, &format!("layer{i}.activation"))? }),
            None => None,
        };
        Ok(Norm {
            kind,
            channels: c,
            spatial,
            geometry,
            gamma,
            beta,
            affine,
            running,
            momentum,
            mean,
            rstd,
            stat_grad,
            y,
            dx,
            activation,
            x: None,
            batch: 0,
            mode: NormMode::BATCH_STATISTICS,
            rows_per_sample: sequences.rows_per_sample,
            samples_per_example: sequences.samples_per_example,
            mask: sequences.mask,
        })
    }

    /// PyTorch's refusal of BatchNorm on one value per channel, for a training batch of
    /// `examples` (sequences, for a sequence model).
    pub fn check_training_batch(&self, examples: usize) -> Result<(), NormlabError> {
        self.kind.check_batch(examples * self.samples_per_example, self.spatial)
    }

    /// What the phase means for this layer: BatchNorm trains on batch statistics and
    /// updates its running estimates, normalizes with them in eval mode, and in a held-out
    /// pass "in training mode" uses the batch's statistics without touching them; the
    /// norms that work within a sample use their own statistics in every phase.
    fn mode(&self, phase: Phase) -> NormMode {
        match (self.running.is_some(), phase) {
            (true, Phase::Train) => NormMode::training(self.momentum),
            (true, Phase::Eval) => NormMode::RUNNING_STATISTICS,
            (true, Phase::BatchStats) | (false, _) => NormMode::BATCH_STATISTICS,
        }
    }

    /// The backward pass, with `residual` added to the input gradient (the gradient along a
    /// residual connection that skips this norm).
    pub fn backward_plus(&mut self, backend: &mut dyn Backend, dy: TensorId, residual: Option<TensorId>) -> TensorId {
        let x = self.x.expect("forward before backward");
        let geometry = NormGeometry { batch: self.batch, ..self.geometry };
        let (dgamma, dbeta, stat_grad) = (self.gamma.grad, self.beta.grad, self.stat_grad);
        let grads = NormGrads { dy, dx: self.dx, dgamma, dbeta, stat_grad, residual };
        backend.norm_backward(&geometry, self.mode, &self.tensors(x), &grads);
        self.dx
    }

    fn tensors(&self, x: TensorId) -> NormTensors {
        NormTensors {
            x,
            y: self.y,
            gamma: self.gamma.value,
            beta: self.beta.value,
            mean: self.mean,
            rstd: self.rstd,
            running: self.running,
            activation: self.activation,
            mask: self.mask,
        }
    }
}

impl Layer for Norm {
    fn describe(&self) -> String {
        let norm = format!("{}({})", self.kind.name(), self.channels);
        match self.activation {
            Some(a) => format!("{norm} → {:?}", a.kind),
            None => norm,
        }
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, rows: usize, phase: Phase) -> TensorId {
        let batch = rows / self.rows_per_sample;
        let geometry = NormGeometry { batch, ..self.geometry };
        let mode = self.mode(phase);
        backend.norm_forward(&geometry, mode, &self.tensors(x));
        (self.x, self.batch, self.mode) = (Some(x), batch, mode);
        self.activation.map_or(self.y, |a| a.out)
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, _batch: usize) -> TensorId {
        self.backward_plus(backend, dy, None)
    }

    fn params(&self) -> Vec<Param> {
        if self.affine {
            vec![self.gamma, self.beta]
        } else {
            Vec::new()
        }
    }

    fn probe(&self, points: &mut ProbePoints) {
        points.norms.push(NormProbePoint {
            channels: self.channels,
            spatial: self.spatial,
            y: self.y,
            mean: self.mean,
            rstd: self.rstd,
            eps: self.kind.eps(),
            running: self.running,
            per_channel_stats: self.kind.has_running_stats(),
        });
        if let Some(a) = self.activation {
            points.activations.push((a.out, self.channels * self.spatial));
        }
    }

    fn as_norm(&self) -> Option<&Norm> {
        Some(self)
    }
}
