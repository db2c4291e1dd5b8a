//! The pure-Rust backend: the reference every GPU kernel is tested against, and the
//! fallback when a browser has no WebGPU.
//!
//! Ops are queued as closures and run when a [`Backend::read_later`] future is awaited,
//! a few milliseconds at a time with a yield to the browser in between; natively they
//! simply run to completion. Large matrix products are split into row blocks so that no
//! single piece of work holds a browser tab for long.

pub mod activation;
pub mod attention;
pub mod bias;
pub mod clip;
pub mod conv;
pub mod cross_entropy;
pub mod gather;
pub mod masked_norm;
pub mod matmul;
pub mod norm;
mod norm_ops;
pub mod optim;
pub mod parallel;
pub mod per_channel;
pub mod pool;
pub mod random;
pub mod span_norm;
pub mod store;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::{
    Activation, AdamHyper, AttentionShape, Backend, ConvShape, Epilogue, GradClip, MatmulShape, NormGeometry,
    NormGrads, NormMode, NormTensors, PoolKind, PoolShape, ReadFuture, SgdHyper, StepScalars, TensorId,
    METRICS_PER_SLOT, VIEW_ALIGN,
};
use crate::error::NormlabError;
use crate::platform;
use store::{with_output, with_outputs, Store};

type Command = Box<dyn FnOnce(&mut Store)>;

/// How long queued work may run before the executor yields to the browser.
const SLICE_MILLIS: f64 = 12.0;
/// Matrix products are split into row blocks of about this many multiply-adds (a couple
/// of milliseconds in the browser), so that the thread gets its turn between them: Stop
/// and a hidden tab reach a worker, and the page's own thread, where it trains, can draw.
/// Smaller blocks cost time: each block packs the whole right-hand matrix again (at 2²¹
/// the MLP's first product packed its 784×256 weights for every 10 rows). Natively nothing
/// waits on the work: one block per op, which the op may spread over the backend's threads.
const MATMUL_BLOCK_MACS: usize = if cfg!(target_arch = "wasm32") { 1 << 24 } else { 1 << 40 };
/// Pooling is split into sample ranges of about this many input elements (likewise).
const POOL_BLOCK_ELEMENTS: usize = if cfg!(target_arch = "wasm32") { 1 << 20 } else { 1 << 40 };
/// The largest tensor this backend allocates (1 GiB of f32), so that an impossible
/// setting fails with a message instead of an out-of-memory abort.
const MAX_TENSOR_ELEMENTS: usize = 1 << 28;
/// All of one backend's tensors together. A browser tab's wasm memory ends at 4 GiB and
/// holds the data sets and the page as well; a model past this budget is refused before
/// its allocation could abort the page.
pub const DEFAULT_MEMORY_BUDGET: u64 = if cfg!(target_arch = "wasm32") { 2 << 30 } else { 16 << 30 };

#[derive(Default)]
struct CpuState {
    tensors: Store,
    pending: VecDeque<Command>,
    /// Natively, the threads an op may spread over (none: the calling thread alone).
    #[cfg(not(target_arch = "wasm32"))]
    pool: Option<std::sync::Arc<parallel::ThreadPool>>,
}

impl CpuState {
    /// Runs queued work until `done()` (a read's command has run), the queue is empty, or
    /// `budget_millis` have passed (None: no limit). Work recorded after the read waits
    /// for a later read, so a read returns when its own work is done.
    fn run_for(&mut self, budget_millis: Option<f64>, done: &dyn Fn() -> bool) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let pool = self.pool.clone();
            parallel::with_pool(pool.as_ref(), || self.run_queued(budget_millis, done))
        }
        #[cfg(target_arch = "wasm32")]
        self.run_queued(budget_millis, done)
    }

    fn run_queued(&mut self, budget_millis: Option<f64>, done: &dyn Fn() -> bool) {
        let start = platform::now_millis();
        while let Some(command) = self.pending.pop_front() {
            command(&mut self.tensors);
            if done() || budget_millis.is_some_and(|budget| platform::now_millis() - start > budget) {
                break;
            }
        }
    }
}

/// The CPU backend. Single-threaded, as in the browser, unless made natively
/// [`with_threads`](CpuBackend::with_threads).
pub struct CpuBackend {
    state: Rc<RefCell<CpuState>>,
    scalars: Option<StepScalars>,
    /// Bytes of tensors allocated so far, and the most allowed.
    allocated: u64,
    budget: u64,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::with_memory_budget(DEFAULT_MEMORY_BUDGET)
    }
}

impl CpuBackend {
    pub fn new() -> Self {
        Self::default()
    }

    /// A backend whose tensors together may take at most `bytes`.
    pub fn with_memory_budget(bytes: u64) -> Self {
        CpuBackend { state: Rc::default(), scalars: None, allocated: 0, budget: bytes }
    }

    /// Natively: a backend whose ops spread over `threads` threads of their own. Results
    /// are deterministic for a given thread count (each thread sums a fixed share).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_threads(threads: usize) -> Result<Self, NormlabError> {
        let backend = Self::default();
        if threads > 1 {
            backend.state.borrow_mut().pool = Some(std::sync::Arc::new(parallel::ThreadPool::new(threads)));
        }
        Ok(backend)
    }

    /// The threads an op may use.
    pub fn threads(&self) -> usize {
        #[cfg(not(target_arch = "wasm32"))]
        return self.state.borrow().pool.as_ref().map_or(1, |p| p.threads());
        #[cfg(target_arch = "wasm32")]
        1
    }

    fn record(&mut self, command: impl FnOnce(&mut Store) + 'static) {
        self.state.borrow_mut().pending.push_back(Box::new(command));
    }

    fn scalars(&self) -> StepScalars {
        self.scalars.expect("an optimizer or random op was recorded before begin_step")
    }
}

impl Backend for CpuBackend {
    fn describe(&self) -> String {
        match self.threads() {
            1 => "CPU (pure Rust, one thread)".to_string(),
            n => format!("CPU (pure Rust, {n} threads)"),
        }
    }

    fn alloc(&mut self, len: usize, label: &str) -> Result<TensorId, NormlabError> {
        if len > MAX_TENSOR_ELEMENTS {
            return Err(NormlabError::TooLarge {
                what: crate::words!("tensor '{label}'", "张量 '{label}'"),
                requested: len as u64 * 4,
                limit: MAX_TENSOR_ELEMENTS as u64 * 4,
            });
        }
        let bytes = len as u64 * 4;
        if self.allocated + bytes > self.budget {
            return Err(NormlabError::TooLarge {
                what: crate::words!(
                    "the model's tensors together (up to '{label}')",
                    "模型的全部张量（直到 '{label}'）"
                ),
                requested: self.allocated + bytes,
                limit: self.budget,
            });
        }
        self.allocated += bytes;
        // The memory itself is taken when the queued work first runs, so a model refused
        // part-way through building (a later tensor past the budget) never takes any.
        let id = self.state.borrow_mut().tensors.add_owned();
        self.record(move |t| t.fill(id, vec![0.0; len]));
        Ok(TensorId(id))
    }

    fn view(&mut self, base: TensorId, offset: usize, len: usize) -> TensorId {
        assert!(offset.is_multiple_of(VIEW_ALIGN) && len >= 1, "view at {offset} of {len}");
        TensorId(self.state.borrow_mut().tensors.add_view(base.0, offset, len))
    }

    fn upload(&mut self, tensor: TensorId, data: &[f32]) {
        let data = data.to_vec();
        self.record(move |t| t[tensor.0][..data.len()].copy_from_slice(&data));
    }

    fn zero(&mut self, tensor: TensorId) {
        self.record(move |t| t[tensor.0].fill(0.0));
    }

    fn begin_step(&mut self, scalars: StepScalars) {
        self.scalars = Some(scalars);
    }

    fn gather_rows(&mut self, src: TensorId, indices: TensorId, out: TensorId, rows: usize, row_len: usize) {
        self.record(move |t| {
            with_output(t, out.0, |t, o| gather::gather_rows(&t[src.0], &t[indices.0], o, rows, row_len))
        });
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
        self.gather_rows(inputs, indices, batch_inputs, rows, row_len);
        self.gather_rows(labels, indices, batch_labels, rows, labels_per_row);
    }

    fn matmul(&mut self, a: TensorId, b: TensorId, out: TensorId, shape: MatmulShape, epilogue: Epilogue) {
        let macs_per_row = (shape.k * shape.n).max(1);
        let block = (MATMUL_BLOCK_MACS / macs_per_row).clamp(1, shape.m.max(1));
        let mut start = 0;
        while start < shape.m {
            let rows = start..(start + block).min(shape.m);
            start = rows.end;
            self.record(move |t| with_output(t, out.0, |t, o| matmul::matmul_rows(&t[a.0], &t[b.0], o, shape, rows)));
        }
        // The same sums as the GPU's epilogue, one after the product. A bias of R rows
        // repeats every R rows: [m/R, R·n] rows of one channel per (row mod R, column).
        if let Some(bias) = epilogue.bias {
            let period = epilogue.bias_rows.max(1);
            let shape = (shape.m / period, period * shape.n, 1);
            self.record(move |t| with_output(t, out.0, |t, o| bias::bias_add(o, &t[bias.0], shape)));
        }
        if let Some(residual) = epilogue.residual {
            let len = shape.m * shape.n;
            self.record(move |t| {
                with_output(t, out.0, |t, o| o[..len].iter_mut().zip(&t[residual.0]).for_each(|(o, r)| *o += r))
            });
        }
    }

    fn attention_forward(&mut self, qkv: TensorId, att: TensorId, out: TensorId, shape: AttentionShape) {
        self.record(move |t| {
            with_outputs(t, [att.0, out.0], |t, [att, out]| attention::attention_forward(&t[qkv.0], att, out, shape))
        });
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
        self.record(move |t| {
            with_outputs(t, [dpre.0, dqkv.0], |t, [dpre, dqkv]| {
                attention::attention_backward(&t[qkv.0], &t[att.0], &t[dout.0], dpre, dqkv, shape)
            })
        });
    }

    fn conv2d_forward(&mut self, x: TensorId, weight: TensorId, y: TensorId, shape: ConvShape, bias: Option<TensorId>) {
        for samples in conv::sample_blocks(shape, MATMUL_BLOCK_MACS) {
            self.record(move |t| {
                with_output(t, y.0, |t, o| conv::conv2d_forward(&t[x.0], &t[weight.0], o, shape, samples))
            });
        }
        if let Some(bias) = bias {
            let shape = (shape.batch, shape.out_channels, shape.out_height() * shape.out_width());
            self.record(move |t| with_output(t, y.0, |t, o| bias::bias_add(o, &t[bias.0], shape)));
        }
    }

    fn conv2d_backward_input(&mut self, dy: TensorId, weight: TensorId, dx: TensorId, shape: ConvShape) {
        for samples in conv::sample_blocks(shape, MATMUL_BLOCK_MACS) {
            self.record(move |t| {
                with_output(t, dx.0, |t, o| conv::conv2d_backward_input(&t[dy.0], &t[weight.0], o, shape, samples))
            });
        }
    }

    fn conv2d_backward_weight(&mut self, dy: TensorId, x: TensorId, dweight: TensorId, shape: ConvShape) {
        // The blocks run in order; the first clears dweight and each adds its samples' share.
        for samples in conv::sample_blocks(shape, MATMUL_BLOCK_MACS) {
            self.record(move |t| {
                with_output(t, dweight.0, |t, o| conv::conv2d_backward_weight(&t[dy.0], &t[x.0], o, shape, samples))
            });
        }
    }

    fn pool_forward(&mut self, x: TensorId, y: TensorId, argmax: TensorId, shape: PoolShape) {
        for samples in pool::sample_blocks(shape, POOL_BLOCK_ELEMENTS) {
            self.record(move |t| match shape.kind {
                PoolKind::Max => with_outputs(t, [y.0, argmax.0], |t, [y, argmax]| {
                    pool::pool_forward(&t[x.0], y, Some(argmax), shape, samples)
                }),
                PoolKind::Avg => with_output(t, y.0, |t, y| pool::pool_forward(&t[x.0], y, None, shape, samples)),
            });
        }
    }

    fn pool_backward(&mut self, dy: TensorId, argmax: TensorId, dx: TensorId, shape: PoolShape) {
        for samples in pool::sample_blocks(shape, POOL_BLOCK_ELEMENTS) {
            self.record(move |t| {
                with_output(t, dx.0, |t, o| pool::pool_backward(&t[dy.0], &t[argmax.0], o, shape, samples))
            });
        }
    }

    fn bias_grad(&mut self, dy: TensorId, dbias: TensorId, shape: (usize, usize, usize)) {
        self.record(move |t| with_output(t, dbias.0, |t, o| bias::bias_grad(&t[dy.0], o, shape)));
    }

    fn activation_forward(&mut self, kind: Activation, x: TensorId, y: TensorId, len: usize) {
        self.record(move |t| {
            with_output(t, y.0, |t, o| activation::activation_forward(kind, &t[x.0][..len], &mut o[..len]))
        });
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
        self.record(move |t| {
            with_output(t, dx.0, |t, o| {
                activation::activation_backward(kind, &t[x.0][..len], &t[y.0][..len], &t[dy.0][..len], &mut o[..len])
            })
        });
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
        self.record(move |t| {
            let mut grad = dlogits.map(|d| t.take(d.0));
            let (loss, correct) =
                cross_entropy::cross_entropy(&t[logits.0], &t[labels.0], grad.as_deref_mut(), rows, classes);
            if let (Some(d), Some(g)) = (dlogits, grad) {
                t.put(d.0, g);
            }
            t[metrics.0][METRICS_PER_SLOT * slot] = loss;
            t[metrics.0][METRICS_PER_SLOT * slot + 1] = correct;
        });
    }

    fn norm_forward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors) {
        self.record_norm_forward(geometry, mode, tensors);
    }

    fn norm_backward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors, grads: &NormGrads) {
        self.record_norm_backward(geometry, mode, tensors, grads);
    }

    fn sgd_step(&mut self, param: TensorId, grad: TensorId, velocity: TensorId, len: usize, hyper: SgdHyper) {
        let scalars = self.scalars();
        self.record(move |t| {
            with_outputs(t, [param.0, velocity.0], |t, [p, v]| {
                optim::sgd_step(&mut p[..len], &t[grad.0][..len], &mut v[..len], hyper, scalars)
            })
        });
    }

    fn adam_step(&mut self, param: TensorId, grad: TensorId, m: TensorId, v: TensorId, len: usize, hyper: AdamHyper) {
        let scalars = self.scalars();
        self.record(move |t| {
            with_outputs(t, [param.0, m.0, v.0], |t, [p, m, v]| {
                optim::adam_step(&mut p[..len], &t[grad.0][..len], &mut m[..len], &mut v[..len], hyper, scalars)
            })
        });
    }

    fn dropout_forward(&mut self, x: TensorId, y: TensorId, mask: TensorId, len: usize, p: f32, stream: u32) {
        let step = self.scalars().step;
        self.record(move |t| {
            with_outputs(t, [y.0, mask.0], |t, [y, mask]| {
                random::dropout_forward(&t[x.0][..len], &mut y[..len], &mut mask[..len], p, stream, step)
            })
        });
    }

    fn dropout_backward(&mut self, dy: TensorId, mask: TensorId, dx: TensorId, len: usize) {
        self.record(move |t| {
            with_output(t, dx.0, |t, o| random::dropout_backward(&t[dy.0][..len], &t[mask.0][..len], &mut o[..len]))
        });
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
        let step = self.scalars().step;
        self.record(move |t| {
            with_outputs(t, [y.0, noise.0], |t, [y, noise]| {
                random::channel_noise_forward(&t[x.0], y, noise, shape, strength, stream, step)
            })
        });
    }

    fn channel_noise_backward(&mut self, dy: TensorId, noise: TensorId, dx: TensorId, shape: (usize, usize, usize)) {
        self.record(move |t| {
            with_output(t, dx.0, |t, o| random::channel_noise_backward(&t[dy.0], &t[noise.0], o, shape))
        });
    }

    fn clip_gradients(&mut self, grads: &[(TensorId, usize)], clip: GradClip, metrics: TensorId, slot: usize) {
        let grads = grads.to_vec();
        self.record(move |t| {
            let mut taken: Vec<Vec<f32>> = grads.iter().map(|&(id, _)| t.take(id.0)).collect();
            let mut views: Vec<&mut [f32]> = taken.iter_mut().zip(&grads).map(|(g, &(_, len))| &mut g[..len]).collect();
            let (before, after) = clip::clip_gradients(&mut views, clip);
            for (g, &(id, _)) in taken.into_iter().zip(&grads) {
                t.put(id.0, g);
            }
            t[metrics.0][METRICS_PER_SLOT * slot + 2] = before;
            t[metrics.0][METRICS_PER_SLOT * slot + 3] = after;
        });
    }

    fn submit(&mut self) {}

    fn read_later(&mut self, tensor: TensorId) -> ReadFuture {
        let slot: Rc<RefCell<Option<Vec<f32>>>> = Rc::default();
        let filled = slot.clone();
        self.record(move |t| *filled.borrow_mut() = Some(t[tensor.0].to_vec()));
        let state = self.state.clone();
        Box::pin(async move {
            loop {
                if let Some(data) = slot.borrow_mut().take() {
                    return Ok(data);
                }
                let budget = if platform::IS_BROWSER { Some(SLICE_MILLIS) } else { None };
                state.borrow_mut().run_for(budget, &|| slot.borrow().is_some());
                if slot.borrow().is_none() {
                    platform::yield_now().await;
                }
            }
        })
    }
}
