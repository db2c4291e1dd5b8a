//! The compute backends: one small trait, two implementations.
//!
//! `cpu` is the pure-Rust reference (and the browser fallback when WebGPU is missing);
//! `gpu` runs the same operations as WGSL compute shaders through wgpu. Every operation
//! here has exactly one CPU twin in `cpu/<op>.rs` and one shader in `shaders/<op>.wgsl`
//! with a host file `gpu/<op>.rs`, and a test compares the two.
//!
//! The trait is deliberately coarse: one method per kernel family. Tensors are flat `f32`
//! buffers owned by the backend and named by a [`TensorId`]; shapes live with the caller
//! (the layers in `nn`), which keeps the backends free of shape bookkeeping.
//!
//! Work is *recorded*, not executed, when an op is called: the GPU backend encodes into a
//! command encoder that [`Backend::submit`] sends as one queue submission; the CPU backend
//! queues closures that run when a read needs them, a few milliseconds at a time, so that
//! a browser tab never freezes. Results come back only through [`Backend::read_later`],
//! an asynchronous read that never blocks the page.

pub mod cpu;
pub mod gpu;

use std::future::Future;
use std::pin::Pin;

use crate::error::NormlabError;

/// A handle to a tensor owned by a backend. Cheap to copy; valid for the backend that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub(crate) usize);

/// An asynchronous read of a tensor's contents, independent of the backend's borrow so
/// that more work can be recorded while the read is in flight.
pub type ReadFuture = Pin<Box<dyn Future<Output = Result<Vec<f32>, NormlabError>>>>;

/// Element-wise nonlinearities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Tanh,
}

impl Activation {
    /// The code the shader's `kind` uniform uses.
    pub(crate) fn shader_code(self) -> u32 {
        match self {
            Activation::Relu => 0,
            Activation::Tanh => 1,
        }
    }
}

/// `out[m, n] = op(a)[m, k] · op(b)[k, n]`, where `op` transposes when asked.
///
/// A linear layer `y = x Wᵀ` (W stored `[out, in]` as in PyTorch) is `trans_b`;
/// its input gradient `dx = dy W` is plain; its weight gradient `dW = dyᵀ x` is `trans_a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatmulShape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// `a` is stored `[k, m]` and used transposed.
    pub trans_a: bool,
    /// `b` is stored `[n, k]` and used transposed.
    pub trans_b: bool,
}

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
///
/// A statistic covers the channels of one group (C / groups of them) and all S positions,
/// and all N samples when `reduce_over_batch`, else one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormGeometry {
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
    pub groups: usize,
    pub reduce_over_batch: bool,
    /// γ and β have one entry per (channel, position) instead of one per channel.
    pub affine_per_element: bool,
    /// False for RMSNorm, which scales by the root mean square without centring.
    pub subtract_mean: bool,
    pub eps: f32,
}

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
    /// Length of γ and β.
    pub fn affine_len(&self) -> usize {
        if self.affine_per_element {
            self.channels * self.spatial
        } else {
            self.channels
        }
    }
}

/// Whether a normalization uses the statistics of the batch in hand or its running estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NormMode {
    /// Batch statistics; when `momentum` is given, the running estimates are updated:
    /// `running = (1 − m)·running + m·batch`, with the unbiased variance (PyTorch).
    Train { momentum: Option<f32> },
    /// The running estimates stand in for the batch statistics (BatchNorm's eval mode).
    Eval,
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
}

#[derive(Clone, Copy, Debug)]
pub struct RunningStats {
    pub mean: TensorId,
    pub var: TensorId,
}

#[derive(Clone, Copy, Debug)]
pub struct NormGrads {
    pub dy: TensorId,
    pub dx: TensorId,
    pub dgamma: TensorId,
    pub dbeta: TensorId,
    /// Scratch of length `2 · stat_count`: Σ dy·γ and Σ dy·γ·x̂ per statistic.
    pub stat_grad: TensorId,
}

/// Hyper-parameters of `optim.SGD` that stay fixed during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdHyper {
    pub momentum: f32,
    pub weight_decay: f32,
}

/// Hyper-parameters of `optim.Adam` that stay fixed during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamHyper {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Default for AdamHyper {
    fn default() -> Self {
        AdamHyper { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// The values an optimizer step needs that change from step to step.
/// Set once per step with [`Backend::begin_step`]; every optimizer op of that step reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepScalars {
    pub learning_rate: f32,
    /// 1-based count of optimizer steps taken, including this one (Adam's bias correction).
    pub step: u32,
}

/// The operations every backend provides. Arguments name tensors; sizes are explicit.
pub trait Backend {
    /// A short human description: "CPU" or the GPU adapter's name.
    fn describe(&self) -> String;

    /// A new zero-filled tensor of `len` elements. Fails with a clear message when it
    /// would exceed the device's limits.
    fn alloc(&mut self, len: usize, label: &str) -> Result<TensorId, NormlabError>;
    /// Overwrites a tensor's contents (ordered with the recorded work).
    fn upload(&mut self, tensor: TensorId, data: &[f32]);
    /// Sets every element to zero.
    fn zero(&mut self, tensor: TensorId);
    /// Sets the per-step scalars that optimizer ops read.
    fn begin_step(&mut self, scalars: StepScalars);

    /// `out[r, :] = src[indices[r], :]` for `rows` rows of `row_len` (indices stored as f32).
    fn gather_rows(&mut self, src: TensorId, indices: TensorId, out: TensorId, rows: usize, row_len: usize);
    fn matmul(&mut self, a: TensorId, b: TensorId, out: TensorId, shape: MatmulShape);
    /// `y[r, c] += bias[c]` in place.
    fn bias_add(&mut self, y: TensorId, bias: TensorId, rows: usize, cols: usize);
    /// `dbias[c] = Σ_r dy[r, c]`.
    fn bias_grad(&mut self, dy: TensorId, dbias: TensorId, rows: usize, cols: usize);
    fn activation_forward(&mut self, kind: Activation, x: TensorId, y: TensorId, len: usize);
    /// Uses the forward input `x` (ReLU) or output `y` (tanh).
    fn activation_backward(
        &mut self,
        kind: Activation,
        x: TensorId,
        y: TensorId,
        dy: TensorId,
        dx: TensorId,
        len: usize,
    );
    /// Softmax cross-entropy averaged over `rows`. Writes the mean loss to `metrics[2·slot]`
    /// and the number of rows whose arg-max equals the label to `metrics[2·slot + 1]`;
    /// when `dlogits` is given, also the gradient of the mean loss.
    #[allow(clippy::too_many_arguments)]
    fn cross_entropy(
        &mut self,
        logits: TensorId,
        labels: TensorId,
        dlogits: Option<TensorId>,
        metrics: TensorId,
        slot: usize,
        rows: usize,
        classes: usize,
    );
    fn norm_forward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors);
    /// Gradients through a normalization whose forward ran in `mode` on the same tensors.
    fn norm_backward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors, grads: &NormGrads);
    /// `optim.SGD` (dampening 0, no Nesterov): `v = μ·v + (g + λ·p)`, `p -= lr·v`.
    fn sgd_step(&mut self, param: TensorId, grad: TensorId, velocity: TensorId, len: usize, hyper: SgdHyper);
    /// `optim.Adam` with bias correction, L2 weight decay added to the gradient.
    #[allow(clippy::too_many_arguments)]
    fn adam_step(&mut self, param: TensorId, grad: TensorId, m: TensorId, v: TensorId, len: usize, hyper: AdamHyper);

    /// Sends the recorded work on its way (one queue submission on the GPU).
    fn submit(&mut self);
    /// Reads a tensor once all work recorded so far has run. The returned future does not
    /// borrow the backend: record more work, then await it.
    fn read_later(&mut self, tensor: TensorId) -> ReadFuture;
}
