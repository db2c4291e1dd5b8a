//! The WebGPU backend: every op is a WGSL compute dispatch recorded into one command
//! encoder; [`Backend::submit`] sends a whole training step as one queue submission.
//!
//! All direct `wgpu::` calls of the lab live in this folder.
//!
//! What is made once: pipelines (per device, shared by every backend on it), tensors (by `alloc`), uniform blocks
//! (deduplicated by content in one arena) and bind groups (cached by kernel, uniform and
//! tensors). A training step therefore only records dispatches.

mod activation;
mod attention;
mod bias;
mod clip;
pub mod context;
mod conv;
mod cross_entropy;
mod gather;
pub mod kernels;
mod matmul;
mod norm;
mod optim;
mod pool;
mod profile;
mod random;
mod readback;
mod tensor;

use std::collections::HashMap;

use bytemuck::Pod;

use super::{
    Activation, AdamHyper, AttentionShape, Backend, ConvShape, Epilogue, GradClip, MatmulShape, NormGeometry,
    NormGrads, NormMode, NormTensors, PoolShape, ReadFuture, SgdHyper, StepScalars, TensorId,
};
use crate::error::NormlabError;
pub use context::{AdapterDescription, GpuContext};
use kernels::{Kernel, Pipelines};
pub use profile::KernelTime;
use tensor::GpuTensor;

/// Threads per workgroup of the one-dimensional kernels.
const WORKGROUP_1D: u32 = 256;
/// Uniform blocks are placed at this alignment (the largest `min_uniform_buffer_offset_alignment`).
const UNIFORM_ALIGN: u64 = 256;
const UNIFORM_ARENA_BYTES: u64 = 1 << 20;

/// What a binding slot of a dispatch refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bind {
    Tensor(TensorId),
    /// The per-step uniform (learning rate and step number: optimizers, random ops).
    Step,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BindGroupKey {
    kernel: Kernel,
    uniform_offset: u64,
    bindings: Vec<(u32, Bind)>,
}

pub struct GpuBackend {
    ctx: GpuContext,
    pipelines: Pipelines,
    tensors: Vec<GpuTensor>,
    encoder: Option<wgpu::CommandEncoder>,
    uniform_arena: wgpu::Buffer,
    uniform_offsets: HashMap<Vec<u8>, u64>,
    uniform_used: u64,
    step_uniform: wgpu::Buffer,
    bind_groups: HashMap<BindGroupKey, wgpu::BindGroup>,
    /// One-element tensors bound where a kernel's layout wants a buffer that this
    /// particular dispatch never touches. WebGPU forbids binding one buffer writably twice
    /// in a dispatch, so each unused slot needs a buffer of its own.
    spare: [TensorId; 4],
    /// Queue submissions made so far (a training step should add exactly one).
    submissions: u64,
    /// Dispatches recorded so far.
    dispatches: u64,
    /// Partial sums and the clip coefficient of `clip_gradients`, made on first use.
    clip_scratch: Option<clip::ClipScratch>,
    /// Timestamps around each dispatch, when the benchmark asked for them.
    kernel_timer: Option<profile::KernelTimer>,
}

/// Frees the run's GPU memory as soon as the run is over. wgpu on the web does not destroy
/// a buffer when its handle is dropped; the memory would wait for the browser's garbage
/// collector, and run after run it piles up (the soak test counts live buffers). Work
/// already submitted still completes: WebGPU defers the release until then.
impl Drop for GpuBackend {
    fn drop(&mut self) {
        for tensor in self.tensors.iter().filter(|t| !t.is_view) {
            tensor.buffer.destroy();
        }
        self.uniform_arena.destroy();
        self.step_uniform.destroy();
    }
}

impl GpuBackend {
    pub fn new(ctx: GpuContext) -> Self {
        let pipelines = ctx.pipelines();
        let uniform_arena = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("uniform arena"),
            size: UNIFORM_ARENA_BYTES,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let step_uniform = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("step scalars"),
            size: std::mem::size_of::<optim::StepUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut backend = GpuBackend {
            ctx,
            pipelines,
            tensors: Vec::new(),
            encoder: None,
            uniform_arena,
            uniform_offsets: HashMap::new(),
            uniform_used: 0,
            step_uniform,
            bind_groups: HashMap::new(),
            submissions: 0,
            dispatches: 0,
            clip_scratch: None,
            kernel_timer: None,
            spare: [TensorId(0); 4],
        };
        for (i, name) in ["spare 0", "spare 1", "spare 2", "spare 3"].into_iter().enumerate() {
            backend.spare[i] = backend.alloc(1, name).expect("a one-element buffer fits any device");
        }
        backend
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// Queue submissions so far; the benchmark and tests check one per training step.
    pub fn submission_count(&self) -> u64 {
        self.submissions
    }

    pub fn dispatch_count(&self) -> u64 {
        self.dispatches
    }

    /// From now on, time every dispatch on the GPU (the benchmark's per-kernel table).
    /// Fails where the device has no timestamp queries.
    pub fn start_kernel_timing(&mut self) -> Result<(), NormlabError> {
        self.flush_before_write();
        self.kernel_timer = Some(profile::KernelTimer::new(&self.ctx.device)?);
        Ok(())
    }

    /// How long each dispatch since the last call (or since timing started) ran on the
    /// GPU, in order. Waits for the work to finish.
    pub async fn kernel_times(&mut self) -> Result<Vec<KernelTime>, NormlabError> {
        let Some(mut timer) = self.kernel_timer.take() else {
            return Err(NormlabError::Gpu("kernel timing was not started".into()));
        };
        let device = self.ctx.device.clone();
        let (staging, kernels) = timer.take(&device, self.encoder());
        self.submit();
        self.kernel_timer = Some(timer);
        let ticks: Vec<u64> = readback::read_mapped(self.ctx.clone(), staging).await?;
        Ok(profile::kernel_times(&ticks, &kernels, self.ctx.queue.get_timestamp_period()))
    }

    /// The first error the device reported, if any (validation, out of memory, lost).
    pub fn take_fault(&self) -> Option<NormlabError> {
        self.ctx.take_fault()
    }

    fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        let device = &self.ctx.device;
        self.encoder
            .get_or_insert_with(|| device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None }))
    }

    /// The arena offset of a uniform block with these contents, writing it on first use.
    fn uniform_offset<P: Pod>(&mut self, params: &P) -> u64 {
        let bytes = bytemuck::bytes_of(params).to_vec();
        if let Some(&offset) = self.uniform_offsets.get(&bytes) {
            return offset;
        }
        let offset = self.uniform_used;
        // An arena overflow would mean a model with thousands of distinct layer shapes:
        // a bug in the caller, not a student's setting.
        assert!(offset + UNIFORM_ALIGN <= UNIFORM_ARENA_BYTES, "uniform arena full");
        self.flush_before_write();
        self.ctx.queue.write_buffer(&self.uniform_arena, offset, &bytes);
        self.uniform_used += UNIFORM_ALIGN;
        self.uniform_offsets.insert(bytes, offset);
        offset
    }

    /// `queue.write_buffer` lands before every command buffer of the next submission, so
    /// work recorded earlier must be submitted first to keep program order.
    fn flush_before_write(&mut self) {
        if self.encoder.is_some() {
            self.submit();
        }
    }

    /// Records one dispatch of `kernel` with `params` in binding 0 and the given tensors.
    fn dispatch<P: Pod>(&mut self, kernel: Kernel, params: &P, bindings: &[(u32, Bind)], workgroups: [u32; 3]) {
        let uniform_offset = self.uniform_offset(params);
        let key = BindGroupKey { kernel, uniform_offset, bindings: bindings.to_vec() };
        if !self.bind_groups.contains_key(&key) {
            let layout = self.pipelines.get(kernel).get_bind_group_layout(0);
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &self.uniform_arena,
                    offset: uniform_offset,
                    size: wgpu::BufferSize::new(std::mem::size_of::<P>() as u64),
                }),
            }];
            for &(binding, bind) in bindings {
                let resource = match bind {
                    Bind::Tensor(id) => self.tensors[id.0].binding(),
                    Bind::Step => self.step_uniform.as_entire_binding(),
                };
                entries.push(wgpu::BindGroupEntry { binding, resource });
            }
            let group = self.ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(kernel.entry_point()),
                layout: &layout,
                entries: &entries,
            });
            self.bind_groups.insert(key.clone(), group);
        }
        let pipeline = self.pipelines.get(kernel).clone();
        let group = self.bind_groups[&key].clone();
        let device = &self.ctx.device;
        let encoder = self
            .encoder
            .get_or_insert_with(|| device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None }));
        let timestamp_writes = self.kernel_timer.as_mut().and_then(|timer| timer.next(kernel));
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
        drop(pass);
        self.dispatches += 1;
    }

    /// A grid of 256-thread workgroups covering `len` elements; over 65 535 groups the
    /// grid folds into a second dimension (the kernels read `num_workgroups`).
    fn grid_1d(len: usize) -> [u32; 3] {
        let groups = (len as u32).div_ceil(WORKGROUP_1D).max(1);
        let max = 65_535;
        if groups <= max {
            [groups, 1, 1]
        } else {
            [max, groups.div_ceil(max), 1]
        }
    }
}

fn t(id: TensorId) -> Bind {
    Bind::Tensor(id)
}

impl Backend for GpuBackend {
    fn describe(&self) -> String {
        self.ctx.adapter.to_string()
    }

    fn alloc(&mut self, len: usize, label: &str) -> Result<TensorId, NormlabError> {
        let bytes = (len.max(1) * 4) as u64;
        let limit = self.ctx.limits.max_storage_buffer_binding_size.min(self.ctx.limits.max_buffer_size);
        if bytes > limit {
            let what = crate::words!("tensor '{label}'", "张量 '{label}'");
            return Err(NormlabError::TooLarge { what, requested: bytes, limit });
        }
        let buffer = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.tensors.push(GpuTensor { buffer, offset: 0, size: bytes, is_view: false });
        Ok(TensorId(self.tensors.len() - 1))
    }

    fn view(&mut self, base: TensorId, offset: usize, len: usize) -> TensorId {
        let base = &self.tensors[base.0];
        let (offset, size) = ((offset * 4) as u64, (len * 4) as u64);
        let alignment = self.ctx.limits.min_storage_buffer_offset_alignment as u64;
        assert!(!base.is_view && len >= 1 && offset.is_multiple_of(alignment), "view at byte {offset} of {size}");
        assert!(offset + size <= base.size, "a view past the end of its base");
        let view = GpuTensor { buffer: base.buffer.clone(), offset, size, is_view: true };
        self.tensors.push(view);
        TensorId(self.tensors.len() - 1)
    }

    fn upload(&mut self, tensor: TensorId, data: &[f32]) {
        self.flush_before_write();
        let tensor = &self.tensors[tensor.0];
        self.ctx.queue.write_buffer(&tensor.buffer, tensor.offset, bytemuck::cast_slice(data));
    }

    fn zero(&mut self, tensor: TensorId) {
        let (buffer, offset, size) = {
            let t = &self.tensors[tensor.0];
            (t.buffer.clone(), t.offset, t.size)
        };
        self.encoder().clear_buffer(&buffer, offset, Some(size));
    }

    fn begin_step(&mut self, scalars: StepScalars) {
        self.flush_before_write();
        let uniform = optim::StepUniform::new(scalars);
        self.ctx.queue.write_buffer(&self.step_uniform, 0, bytemuck::bytes_of(&uniform));
    }

    fn gather_rows(&mut self, src: TensorId, indices: TensorId, out: TensorId, rows: usize, row_len: usize) {
        gather::rows(self, src, indices, out, rows, row_len);
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
        let sources = (inputs, labels, indices);
        gather::batch(self, sources, (batch_inputs, batch_labels), rows, (row_len, labels_per_row));
    }

    fn matmul(&mut self, a: TensorId, b: TensorId, out: TensorId, shape: MatmulShape, epilogue: Epilogue) {
        matmul::dispatch(self, (a, b), out, shape, epilogue);
    }

    fn attention_forward(&mut self, qkv: TensorId, att: TensorId, out: TensorId, shape: AttentionShape) {
        attention::forward(self, qkv, att, out, shape);
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
        attention::backward(self, qkv, att, dout, dpre, dqkv, shape);
    }

    fn conv2d_forward(&mut self, x: TensorId, weight: TensorId, y: TensorId, shape: ConvShape, bias: Option<TensorId>) {
        conv::forward(self, x, weight, y, shape, bias);
    }

    fn conv2d_backward_input(&mut self, dy: TensorId, weight: TensorId, dx: TensorId, shape: ConvShape) {
        conv::backward_input(self, dy, weight, dx, shape);
    }

    fn conv2d_backward_weight(&mut self, dy: TensorId, x: TensorId, dweight: TensorId, shape: ConvShape) {
        conv::backward_weight(self, dy, x, dweight, shape);
    }

    fn pool_forward(&mut self, x: TensorId, y: TensorId, argmax: TensorId, shape: PoolShape) {
        pool::forward(self, x, y, argmax, shape);
    }

    fn pool_backward(&mut self, dy: TensorId, argmax: TensorId, dx: TensorId, shape: PoolShape) {
        pool::backward(self, dy, argmax, dx, shape);
    }

    fn bias_grad(&mut self, dy: TensorId, dbias: TensorId, shape: (usize, usize, usize)) {
        let params = bias::BiasParams::new(shape);
        self.dispatch(Kernel::BiasGrad, &params, &[(3, t(dy)), (4, t(dbias))], [shape.1 as u32, 1, 1]);
    }

    fn activation_forward(&mut self, kind: Activation, x: TensorId, y: TensorId, len: usize) {
        let params = activation::ActivationParams::new(kind, len);
        self.dispatch(Kernel::ActivationForward, &params, &[(1, t(x)), (2, t(y))], Self::grid_1d(len));
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
        let params = activation::ActivationParams::new(kind, len);
        self.dispatch(
            Kernel::ActivationBackward,
            &params,
            &[(1, t(x)), (3, t(dy)), (4, t(dx)), (5, t(y))],
            Self::grid_1d(len),
        );
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
        cross_entropy::dispatch(self, (logits, labels, dlogits), (metrics, slot), rows, classes);
    }

    fn norm_forward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors) {
        norm::forward(self, geometry, mode, tensors);
    }

    fn norm_backward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors, grads: &NormGrads) {
        norm::backward(self, geometry, mode, tensors, grads);
    }

    fn sgd_step(&mut self, param: TensorId, grad: TensorId, velocity: TensorId, len: usize, hyper: SgdHyper) {
        let params = optim::OptimParams::sgd(len, hyper);
        self.dispatch(
            Kernel::SgdStep,
            &params,
            &[(1, Bind::Step), (2, t(param)), (3, t(grad)), (4, t(velocity))],
            Self::grid_1d(len),
        );
    }

    fn adam_step(&mut self, param: TensorId, grad: TensorId, m: TensorId, v: TensorId, len: usize, hyper: AdamHyper) {
        let params = optim::OptimParams::adam(len, hyper);
        self.dispatch(
            Kernel::AdamStep,
            &params,
            &[(1, Bind::Step), (2, t(param)), (3, t(grad)), (4, t(m)), (5, t(v))],
            Self::grid_1d(len),
        );
    }

    fn dropout_forward(&mut self, x: TensorId, y: TensorId, mask: TensorId, len: usize, p: f32, stream: u32) {
        random::dropout_forward(self, x, y, mask, len, p, stream);
    }

    fn dropout_backward(&mut self, dy: TensorId, mask: TensorId, dx: TensorId, len: usize) {
        random::dropout_backward(self, dy, mask, dx, len);
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
        random::channel_noise_forward(self, x, y, noise, shape, strength, stream);
    }

    fn channel_noise_backward(&mut self, dy: TensorId, noise: TensorId, dx: TensorId, shape: (usize, usize, usize)) {
        random::channel_noise_backward(self, dy, noise, dx, shape);
    }

    fn clip_gradients(&mut self, grads: &[(TensorId, usize)], clip: GradClip, metrics: TensorId, slot: usize) {
        clip::clip_gradients(self, grads, clip, metrics, slot);
    }

    fn submit(&mut self) {
        if let Some(encoder) = self.encoder.take() {
            self.ctx.queue.submit(Some(encoder.finish()));
            self.submissions += 1;
        }
    }

    fn read_later(&mut self, tensor: TensorId) -> ReadFuture {
        let (source, offset, size) = {
            let t = &self.tensors[tensor.0];
            (t.buffer.clone(), t.offset, t.size)
        };
        let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.encoder().copy_buffer_to_buffer(&source, offset, &staging, 0, size);
        self.submit();
        Box::pin(readback::read_mapped::<f32>(self.ctx.clone(), staging))
    }
}
