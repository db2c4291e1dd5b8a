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
pub mod kernel_check;
pub mod norm_spec;
pub mod ops;
pub mod random;
pub mod step;

use std::future::Future;
use std::pin::Pin;

use crate::error::NormlabError;

pub use norm_spec::*;
pub use ops::*;
pub use step::*;

/// A handle to a tensor owned by a backend. Cheap to copy; valid for the backend that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub(crate) usize);

/// Views start at multiples of this many elements: 256 bytes, the offset alignment WebGPU
/// guarantees for storage bindings.
pub const VIEW_ALIGN: usize = 64;

/// Floats per step in a metrics tensor: mean loss, correct count, gradient norm before
/// clipping, gradient norm after clipping.
pub const METRICS_PER_SLOT: usize = 4;

/// An asynchronous read of a tensor's contents, independent of the backend's borrow so
/// that more work can be recorded while the read is in flight.
pub type ReadFuture = Pin<Box<dyn Future<Output = Result<Vec<f32>, NormlabError>>>>;

/// The operations every backend provides. Arguments name tensors; sizes are explicit.
pub trait Backend {
    /// A short human description: "CPU" or the GPU adapter's name.
    fn describe(&self) -> String;

    /// A new zero-filled tensor of `len` elements. Fails with a clear message when it
    /// would exceed the device's limits.
    fn alloc(&mut self, len: usize, label: &str) -> Result<TensorId, NormlabError>;
    /// A tensor that is elements `offset..offset + len` of `base` and shares its memory: a
    /// write through either shows in the other, and an op on `base` covers it. `base` comes
    /// from `alloc` (not a view); `offset` is a multiple of [`VIEW_ALIGN`]; `len` ≥ 1 and the
    /// range lies inside `base`. (A model's parameters are views of a few arenas.)
    fn view(&mut self, base: TensorId, offset: usize, len: usize) -> TensorId;
    /// Overwrites a tensor's contents (ordered with the recorded work).
    fn upload(&mut self, tensor: TensorId, data: &[f32]);
    /// Sets every element to zero.
    fn zero(&mut self, tensor: TensorId);
    /// Sets the per-step scalars that optimizer ops read.
    fn begin_step(&mut self, scalars: StepScalars);

    /// `out[r, :] = src[indices[r], :]` for `rows` rows of `row_len` (indices stored as f32).
    fn gather_rows(&mut self, src: TensorId, indices: TensorId, out: TensorId, rows: usize, row_len: usize);
    /// A mini-batch in one op: `gather_rows` of the inputs and of the labels with the same
    /// indices; `widths` is (input values per row, labels per row): one class, or a target
    /// per position of a sequence; no more labels than inputs per row.
    #[allow(clippy::too_many_arguments)]
    fn gather_batch(
        &mut self,
        inputs: TensorId,
        labels: TensorId,
        indices: TensorId,
        batch_inputs: TensorId,
        batch_labels: TensorId,
        rows: usize,
        widths: (usize, usize),
    );
    /// `out = op(a)·op(b)` plus what the [`Epilogue`] adds (a bias, position embeddings, a
    /// residual), in the same pass. Overwrites `out`, which is none of the inputs.
    fn matmul(&mut self, a: TensorId, b: TensorId, out: TensorId, shape: MatmulShape, epilogue: Epilogue);
    /// Causal self-attention: writes `att` (the softmax of the masked, scaled scores) and
    /// `out = att · v` from `qkv` (see [`AttentionShape`]).
    fn attention_forward(&mut self, qkv: TensorId, att: TensorId, out: TensorId, shape: AttentionShape);
    /// Writes `dqkv` from `dout` and the forward pass's `att`; `dpre` (as long as `att`)
    /// ends holding the gradient of the scores.
    fn attention_backward(
        &mut self,
        qkv: TensorId,
        att: TensorId,
        dout: TensorId,
        dpre: TensorId,
        dqkv: TensorId,
        shape: AttentionShape,
    );
    /// y[n, co, oh, ow] = Σ x[n, ci, oh·s − p + kh, ow·s − p + kw] · w[co, ci, kh, kw]
    /// over ci, kh, kw, with x = 0 outside the image, plus `bias[co]` when given (added in
    /// the product's epilogue). Overwrites `y`.
    fn conv2d_forward(&mut self, x: TensorId, weight: TensorId, y: TensorId, shape: ConvShape, bias: Option<TensorId>);
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
    /// Softmax cross-entropy averaged over the rows whose label is not negative (a negative
    /// label is PyTorch's `ignore_index`: a padding position of a sequence). Writes the mean
    /// loss to `metrics[4·slot]` and the number of counted rows whose arg-max equals the
    /// label to `metrics[4·slot + 1]`; when `dlogits` is given, also the gradient of the
    /// mean loss (0 on ignored rows).
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
    /// A normalization in `mode`; with `tensors.activation`, also that activation of its
    /// output in the same pass.
    fn norm_forward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors);
    /// Gradients through a normalization whose forward ran in `mode` on the same tensors
    /// (and through its fused activation: `grads.dy` is then the activation's output gradient).
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
