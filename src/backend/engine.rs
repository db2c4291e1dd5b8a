//! The one door to an engine. The page, the runner, the benchmark and the tests open the
//! engine they want here and get it ready to use: the CPU, or a GPU device opened once,
//! whose pipelines are compiled once and shared by every run on it. A run then takes a
//! fresh [`AnyBackend`] from the engine; nothing outside `backend/` names a backend's
//! internals.

use super::cpu::CpuBackend;
pub use super::gpu::{AdapterDescription, KernelTime};
use super::gpu::{GpuBackend, GpuContext};
use super::{
    Activation, AdamHyper, AttentionShape, Backend, ConvShape, Epilogue, GradClip, MatmulShape, NormGeometry,
    NormGrads, NormMode, NormTensors, PoolShape, ReadFuture, SgdHyper, StepScalars, TensorId,
};
use crate::error::NormlabError;

/// An engine to train on.
#[derive(Clone)]
pub enum Engine {
    /// The pure-Rust CPU backend; natively its ops may spread over `threads` threads (the
    /// browser has one).
    Cpu { threads: usize },
    /// A GPU device (WebGPU in the browser, Vulkan natively).
    Gpu(Box<GpuContext>),
}

/// Which engine, without its device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    Cpu,
    Gpu,
}

impl Engine {
    /// The CPU engine on one thread, as in the browser.
    pub fn cpu() -> Engine {
        Engine::Cpu { threads: 1 }
    }

    /// Natively: the CPU engine whose ops spread over `threads` threads (results are the
    /// same on every run with the same count, and differ slightly between counts).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn cpu_threads(threads: usize) -> Engine {
        Engine::Cpu { threads: threads.max(1) }
    }

    /// Opens the GPU: WebGPU in the browser, Vulkan natively. A missing adapter or a
    /// refused device is an error in words.
    pub async fn gpu() -> Result<Engine, NormlabError> {
        Ok(Engine::Gpu(Box::new(GpuContext::new().await?)))
    }

    /// The GPU with timestamp queries where the adapter has them (the benchmark's kernel
    /// times).
    pub async fn gpu_for_profiling() -> Result<Engine, NormlabError> {
        Ok(Engine::Gpu(Box::new(GpuContext::for_profiling().await?)))
    }

    /// The engine a command line names: `cpu` (on `threads` threads) or `gpu`.
    pub async fn open(name: &str, threads: usize) -> Result<Engine, NormlabError> {
        match name {
            "cpu" => Ok(Engine::Cpu { threads: threads.max(1) }),
            "gpu" => Engine::gpu().await,
            other => Err(NormlabError::InvalidConfig(crate::words!(
                "unknown engine {other:?} (cpu or gpu)",
                "未知的引擎 {other:?}（cpu 或 gpu）"
            ))),
        }
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Engine::Cpu { .. } => EngineKind::Cpu,
            Engine::Gpu(_) => EngineKind::Gpu,
        }
    }

    /// The GPU adapter, where this is one.
    pub fn adapter(&self) -> Option<&AdapterDescription> {
        match self {
            Engine::Gpu(ctx) => Some(&ctx.adapter),
            Engine::Cpu { .. } => None,
        }
    }

    /// A short human description: "CPU (pure Rust, one thread)" or the GPU adapter's name.
    pub fn describe(&self) -> String {
        match self {
            Engine::Cpu { threads: 1 } => "CPU (pure Rust, one thread)".into(),
            Engine::Cpu { threads } => format!("CPU (pure Rust, {threads} threads)"),
            Engine::Gpu(ctx) => ctx.adapter.to_string(),
        }
    }

    /// A fresh backend for one run. On the GPU it shares the device and its compiled
    /// pipelines; its tensors are its own and are freed when it is dropped.
    pub fn backend(&self) -> AnyBackend {
        match self {
            Engine::Cpu { threads } => AnyBackend::Cpu(cpu_backend(*threads)),
            Engine::Gpu(ctx) => AnyBackend::Gpu(Box::new(GpuBackend::new((**ctx).clone()))),
        }
    }

    /// A CPU backend whose tensors together may take at most `bytes` (tests of the
    /// memory budget); the GPU's limits are its adapter's.
    pub fn backend_with_memory_budget(&self, bytes: u64) -> AnyBackend {
        match self {
            Engine::Cpu { .. } => AnyBackend::Cpu(CpuBackend::with_memory_budget(bytes)),
            Engine::Gpu(_) => self.backend(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn cpu_backend(threads: usize) -> CpuBackend {
    CpuBackend::with_threads(threads).unwrap_or_default()
}

#[cfg(target_arch = "wasm32")]
fn cpu_backend(_threads: usize) -> CpuBackend {
    CpuBackend::new()
}

/// A backend of either engine, for code that runs on whichever it was given.
pub enum AnyBackend {
    Cpu(CpuBackend),
    Gpu(Box<GpuBackend>),
}

impl AnyBackend {
    /// Queue submissions and dispatches recorded so far (the GPU counts them; a training
    /// step should be one submission).
    pub fn counters(&self) -> Option<(u64, u64)> {
        match self {
            AnyBackend::Gpu(g) => Some((g.submission_count(), g.dispatch_count())),
            AnyBackend::Cpu(_) => None,
        }
    }

    /// From now on, time every dispatch on the GPU (the benchmark's per-kernel table).
    /// Fails on the CPU and where the device has no timestamp queries.
    pub fn start_kernel_timing(&mut self) -> Result<(), NormlabError> {
        match self {
            AnyBackend::Gpu(g) => g.start_kernel_timing(),
            AnyBackend::Cpu(_) => Err(NormlabError::Gpu("kernel times are measured on a GPU".into())),
        }
    }

    /// How long each dispatch since timing started ran on the GPU, in order.
    pub async fn kernel_times(&mut self) -> Result<Vec<KernelTime>, NormlabError> {
        match self {
            AnyBackend::Gpu(g) => g.kernel_times().await,
            AnyBackend::Cpu(_) => Err(NormlabError::Gpu("kernel times are measured on a GPU".into())),
        }
    }
}

/// Every op goes to the backend inside.
macro_rules! delegate {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            AnyBackend::Cpu($b) => $call,
            AnyBackend::Gpu($b) => $call,
        }
    };
}

impl Backend for AnyBackend {
    fn describe(&self) -> String {
        delegate!(self, b => b.describe())
    }
    fn alloc(&mut self, len: usize, label: &str) -> Result<TensorId, NormlabError> {
        delegate!(self, b => b.alloc(len, label))
    }
    fn view(&mut self, base: TensorId, offset: usize, len: usize) -> TensorId {
        delegate!(self, b => b.view(base, offset, len))
    }
    fn upload(&mut self, tensor: TensorId, data: &[f32]) {
        delegate!(self, b => b.upload(tensor, data))
    }
    fn zero(&mut self, tensor: TensorId) {
        delegate!(self, b => b.zero(tensor))
    }
    fn begin_step(&mut self, scalars: StepScalars) {
        delegate!(self, b => b.begin_step(scalars))
    }
    fn gather_rows(&mut self, src: TensorId, indices: TensorId, out: TensorId, rows: usize, row_len: usize) {
        delegate!(self, b => b.gather_rows(src, indices, out, rows, row_len))
    }
    fn gather_batch(
        &mut self,
        inputs: TensorId,
        labels: TensorId,
        indices: TensorId,
        batch_inputs: TensorId,
        batch_labels: TensorId,
        rows: usize,
        (row_len, labels_per_row): (usize, usize),
    ) {
        delegate!(self, b => b.gather_batch(inputs, labels, indices, batch_inputs, batch_labels, rows, (row_len, labels_per_row)))
    }
    fn matmul(&mut self, a: TensorId, b_: TensorId, out: TensorId, shape: MatmulShape, epilogue: Epilogue) {
        delegate!(self, b => b.matmul(a, b_, out, shape, epilogue))
    }
    fn attention_forward(&mut self, qkv: TensorId, att: TensorId, out: TensorId, shape: AttentionShape) {
        delegate!(self, b => b.attention_forward(qkv, att, out, shape))
    }
    fn attention_backward(
        &mut self,
        qkv: TensorId,
        att: TensorId,
        dout: TensorId,
        dpre: TensorId,
        dqkv: TensorId,
        shape: AttentionShape,
    ) {
        delegate!(self, b => b.attention_backward(qkv, att, dout, dpre, dqkv, shape))
    }
    fn conv2d_forward(&mut self, x: TensorId, weight: TensorId, y: TensorId, shape: ConvShape, bias: Option<TensorId>) {
        delegate!(self, b => b.conv2d_forward(x, weight, y, shape, bias))
    }
    fn conv2d_backward_input(&mut self, dy: TensorId, weight: TensorId, dx: TensorId, shape: ConvShape) {
        delegate!(self, b => b.conv2d_backward_input(dy, weight, dx, shape))
    }
    fn conv2d_backward_weight(&mut self, dy: TensorId, x: TensorId, dweight: TensorId, shape: ConvShape) {
        delegate!(self, b => b.conv2d_backward_weight(dy, x, dweight, shape))
    }
    fn pool_forward(&mut self, x: TensorId, y: TensorId, argmax: TensorId, shape: PoolShape) {
        delegate!(self, b => b.pool_forward(x, y, argmax, shape))
    }
    fn pool_backward(&mut self, dy: TensorId, argmax: TensorId, dx: TensorId, shape: PoolShape) {
        delegate!(self, b => b.pool_backward(dy, argmax, dx, shape))
    }
    fn bias_grad(&mut self, dy: TensorId, dbias: TensorId, shape: (usize, usize, usize)) {
        delegate!(self, b => b.bias_grad(dy, dbias, shape))
    }
    fn activation_forward(&mut self, kind: Activation, x: TensorId, y: TensorId, len: usize) {
        delegate!(self, b => b.activation_forward(kind, x, y, len))
    }
    fn activation_backward(
        &mut self,
        kind: Activation,
        x: TensorId,
        y: TensorId,
        dy: TensorId,
        dx: TensorId,
        len: usize,
    ) {
        delegate!(self, b => b.activation_backward(kind, x, y, dy, dx, len))
    }
    fn cross_entropy(
        &mut self,
        logits: TensorId,
        labels: TensorId,
        dlogits: Option<TensorId>,
        metrics: TensorId,
        slot: usize,
        rows: usize,
        classes: usize,
    ) {
        delegate!(self, b => b.cross_entropy(logits, labels, dlogits, metrics, slot, rows, classes))
    }
    fn norm_forward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors) {
        delegate!(self, b => b.norm_forward(geometry, mode, tensors))
    }
    fn norm_backward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors, grads: &NormGrads) {
        delegate!(self, b => b.norm_backward(geometry, mode, tensors, grads))
    }
    fn sgd_step(&mut self, param: TensorId, grad: TensorId, velocity: TensorId, len: usize, hyper: SgdHyper) {
        delegate!(self, b => b.sgd_step(param, grad, velocity, len, hyper))
    }
    fn adam_step(&mut self, param: TensorId, grad: TensorId, m: TensorId, v: TensorId, len: usize, hyper: AdamHyper) {
        delegate!(self, b => b.adam_step(param, grad, m, v, len, hyper))
    }
    fn dropout_forward(&mut self, x: TensorId, y: TensorId, mask: TensorId, len: usize, p: f32, stream: u32) {
        delegate!(self, b => b.dropout_forward(x, y, mask, len, p, stream))
    }
    fn dropout_backward(&mut self, dy: TensorId, mask: TensorId, dx: TensorId, len: usize) {
        delegate!(self, b => b.dropout_backward(dy, mask, dx, len))
    }
    fn channel_noise_forward(
        &mut self,
        x: TensorId,
        y: TensorId,
        noise: TensorId,
        shape: (usize, usize, usize),
        strength: f32,
        stream: u32,
    ) {
        delegate!(self, b => b.channel_noise_forward(x, y, noise, shape, strength, stream))
    }
    fn channel_noise_backward(&mut self, dy: TensorId, noise: TensorId, dx: TensorId, shape: (usize, usize, usize)) {
        delegate!(self, b => b.channel_noise_backward(dy, noise, dx, shape))
    }
    fn clip_gradients(&mut self, grads: &[(TensorId, usize)], clip: GradClip, metrics: TensorId, slot: usize) {
        delegate!(self, b => b.clip_gradients(grads, clip, metrics, slot))
    }
    fn submit(&mut self) {
        delegate!(self, b => b.submit())
    }
    fn read_later(&mut self, tensor: TensorId) -> ReadFuture {
        delegate!(self, b => b.read_later(tensor))
    }
}
