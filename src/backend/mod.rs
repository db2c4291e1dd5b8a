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
pub mod engine;
pub mod gpu;
pub mod random;

use std::future::Future;
use std::pin::Pin;

use crate::error::NormlabError;

/// A handle to a tensor owned by a backend. Cheap to copy; valid for the backend that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub(crate) usize);

/// Floats per step in a metrics tensor: mean loss, correct count, gradient norm before
/// clipping, gradient norm after clipping.
pub const METRICS_PER_SLOT: usize = 4;

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

/// A 2-D convolution with a square kernel on NCHW tensors (nn.Conv2d, dilation 1, groups 1).
///
/// `x` is `[batch, in_channels, height, width]`, the weight `[out_channels, in_channels,
/// kernel, kernel]` (PyTorch's layout) and `y` `[batch, out_channels, out_height,
/// out_width]`. The border is padded with `padding` zeros on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvShape {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

/// Output positions of a window of `kernel` sliding by `stride` over `size` (padding
/// included): ⌊(size − kernel) / stride⌋ + 1, or 0 when the window does not fit once.
fn windows(size: usize, kernel: usize, stride: usize) -> usize {
    if size < kernel {
        0
    } else {
        (size - kernel) / stride + 1
    }
}

impl ConvShape {
    /// ⌊(H + 2·padding − kernel) / stride⌋ + 1.
    pub fn out_height(&self) -> usize {
        windows(self.height + 2 * self.padding, self.kernel, self.stride)
    }
    /// ⌊(W + 2·padding − kernel) / stride⌋ + 1.
    pub fn out_width(&self) -> usize {
        windows(self.width + 2 * self.padding, self.kernel, self.stride)
    }
    /// Length of `x` (and `dx`).
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.height * self.width
    }
    /// Length of `y` (and `dy`).
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_height() * self.out_width()
    }
    /// Length of the weight (and its gradient): out_channels · in_channels · kernel².
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.in_channels * self.kernel * self.kernel
    }
}

/// Which statistic a pooling window keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolKind {
    /// nn.MaxPool2d: the largest value of the window.
    Max,
    /// nn.AvgPool2d: the mean of the window.
    Avg,
}

impl PoolKind {
    /// The code the shader's `kind` uniform uses.
    pub(crate) fn shader_code(self) -> u32 {
        match self {
            PoolKind::Max => 0,
            PoolKind::Avg => 1,
        }
    }
}

/// 2-D pooling of NCHW tensors with a square window, no padding and floor mode
/// (nn.MaxPool2d / nn.AvgPool2d defaults apart from the stride): rows and columns that no
/// whole window reaches are dropped, and their gradient is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolShape {
    pub kind: PoolKind,
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
}

impl PoolShape {
    /// ⌊(H − kernel) / stride⌋ + 1.
    pub fn out_height(&self) -> usize {
        windows(self.height, self.kernel, self.stride)
    }
    /// ⌊(W − kernel) / stride⌋ + 1.
    pub fn out_width(&self) -> usize {
        windows(self.width, self.kernel, self.stride)
    }
    /// Length of `x` (and `dx`).
    pub fn input_len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }
    /// Length of `y`, `dy` and `argmax`.
    pub fn output_len(&self) -> usize {
        self.batch * self.channels * self.out_height() * self.out_width()
    }
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
/// Set once per step with [`Backend::begin_step`]; every optimizer op of that step reads them, and
/// dropout and channel noise draw their random numbers for `step`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepScalars {
    pub learning_rate: f32,
    /// 1-based count of optimizer steps taken, including this one (Adam's bias correction).
    pub step: u32,
}

/// How gradients are clipped before the optimizer step (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GradClip {
    None,
    /// Rescale all gradients together so that their global norm (of `norm_type`) is at
    /// most `max_norm`.
    Norm {
        max_norm: f32,
        #[serde(default, skip_serializing_if = "ClipNorm::is_l2")]
        norm_type: ClipNorm,
    },
    /// Clamp every gradient element to `[−clip, clip]`.
    Value {
        clip: f32,
    },
}

impl GradClip {
    /// Norm clipping in the L2 norm, PyTorch's default `norm_type`.
    pub const fn norm(max_norm: f32) -> GradClip {
        GradClip::Norm { max_norm, norm_type: ClipNorm::L2 }
    }

    /// The norm the clipping measures: its own for norm clipping, L2 for the others (what
    /// the metrics report as "gradient norm").
    pub fn norm_type(self) -> ClipNorm {
        match self {
            GradClip::Norm { norm_type, .. } => norm_type,
            _ => ClipNorm::L2,
        }
    }
}

/// Which vector norm `clip_grad_norm_` measures over all gradients together (its
/// `norm_type`: 1, 2 or `inf`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipNorm {
    /// Σ |g|
    L1,
    /// sqrt(Σ g²)
    #[default]
    L2,
    /// max |g|
    Inf,
}

impl ClipNorm {
    fn is_l2(&self) -> bool {
        *self == ClipNorm::L2
    }

    /// The subscript written after ‖g‖: "₁", "" (L2 is the plain norm) or "∞".
    pub fn subscript(self) -> &'static str {
        match self {
            ClipNorm::L1 => "₁",
            ClipNorm::L2 => "",
            ClipNorm::Inf => "∞",
        }
    }
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
    /// y[n, co, oh, ow] = Σ x[n, ci, oh·s − p + kh, ow·s − p + kw] · w[co, ci, kh, kw]
    /// over ci, kh, kw, with x = 0 outside the image (bias is added separately with
    /// `bias_add` on `(N, CO, OH·OW)`). Overwrites `y`.
    fn conv2d_forward(&mut self, x: TensorId, weight: TensorId, y: TensorId, shape: ConvShape);
    /// dx[n, ci, ih, iw] = Σ dy[n, co, oh, ow] · w[co, ci, kh, kw] over the (co, kh, kw)
    /// with ih = oh·s − p + kh and iw = ow·s − p + kw. Overwrites `dx`.
    fn conv2d_backward_input(&mut self, dy: TensorId, weight: TensorId, dx: TensorId, shape: ConvShape);
    /// dw[co, ci, kh, kw] = Σ dy[n, co, oh, ow] · x[n, ci, oh·s − p + kh, ow·s − p + kw]
    /// over n, oh, ow. Overwrites `dweight`.
    fn conv2d_backward_weight(&mut self, dy: TensorId, x: TensorId, dweight: TensorId, shape: ConvShape);
    /// Max: y = window max, and argmax[o] = where in its (n, c) plane of `x` the (first, in
    /// row-major order) maximum is, ih·W + iw, stored as f32 (PyTorch's `return_indices`;
    /// exact while one plane has fewer than 2²⁴ pixels, where a flat index into the whole
    /// batch would not be). Avg: y = window mean, argmax untouched.
    fn pool_forward(&mut self, x: TensorId, y: TensorId, argmax: TensorId, shape: PoolShape);
    /// Max: dx[i] = Σ dy[o] over the windows o whose argmax is i; Avg: dx[i] = Σ dy[o]/k²
    /// over the windows o that contain i. Overwrites `dx` (0 where no window reaches).
    fn pool_backward(&mut self, dy: TensorId, argmax: TensorId, dx: TensorId, shape: PoolShape);
    /// `y[n, c, s] += bias[c]` in place, for `shape = (N, C, S)`.
    fn bias_add(&mut self, y: TensorId, bias: TensorId, shape: (usize, usize, usize));
    /// `dbias[c] = Σ_{n, s} dy[n, c, s]`.
    fn bias_grad(&mut self, dy: TensorId, dbias: TensorId, shape: (usize, usize, usize));
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
    /// Softmax cross-entropy averaged over `rows`. Writes the mean loss to `metrics[4·slot]`
    /// and the number of rows whose arg-max equals the label to `metrics[4·slot + 1]`;
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
    /// Inverted dropout (nn.Dropout in training): mask[i] = 1/(1−p) if kept, 0 if dropped; y = x·mask.
    /// Element i is dropped iff uniform(stream, step, i) < p, where `step` is the StepScalars.step set by begin_step
    /// and uniform is the lab's counter-based hash (identical on both backends, so masks match exactly).
    fn dropout_forward(&mut self, x: TensorId, y: TensorId, mask: TensorId, len: usize, p: f32, stream: u32);
    /// dx = dy · mask
    fn dropout_backward(&mut self, dy: TensorId, mask: TensorId, dx: TensorId, len: usize);
    /// "Noisy BatchNorm" (Santurkar et al. 2018, §2.1): after a normalization, a random per-channel scale and shift
    /// that change every step: scale_c = 1 + strength·u1, shift_c = strength·(2·u2 − 1), with
    /// u1 = uniform(stream, step, 2c), u2 = uniform(stream, step, 2c+1). Writes noise[2c] = scale_c,
    /// noise[2c+1] = shift_c; y = x·scale_c + shift_c on [N, C, S].
    fn channel_noise_forward(
        &mut self,
        x: TensorId,
        y: TensorId,
        noise: TensorId,
        shape: (usize, usize, usize),
        strength: f32,
        stream: u32,
    );
    /// dx = dy · scale_c
    fn channel_noise_backward(&mut self, dy: TensorId, noise: TensorId, dx: TensorId, shape: (usize, usize, usize));
    /// Computes the global norm of all listed gradients (tensor, length) together (of the clip's `norm_type`, L2
    /// unless norm clipping asks for another), writes it to metrics[4·slot + 2], clips (Norm: every gradient
    /// ×= min(1, max_norm / (norm + 1e-6)) exactly as clip_grad_norm_, so a NaN norm makes every gradient NaN;
    /// Value: clamp every element to [−clip, clip], NaN staying NaN; None: nothing), and writes the global norm
    /// after clipping to metrics[4·slot + 3].
    /// All on the device: no read-back. (metrics slots are METRICS_PER_SLOT = 4 floats: loss, correct, norm before,
    /// norm after.) The gradients must be distinct tensors, none of them `metrics`.
    fn clip_gradients(&mut self, grads: &[(TensorId, usize)], clip: GradClip, metrics: TensorId, slot: usize);

    /// Sends the recorded work on its way (one queue submission on the GPU).
    fn submit(&mut self);
    /// Reads a tensor once all work recorded so far has run. The returned future does not
    /// borrow the backend: record more work, then await it.
    fn read_later(&mut self, tensor: TensorId) -> ReadFuture;
}
