//! Every GPU kernel against the CPU reference, on shapes that are not multiples of the
//! workgroup or tile sizes (256 threads; 64×64 matmul and convolution blocks with 16-deep K slices).
//!
//! Shared by the native test binary (`tests/engine`, on lavapipe) and the browser test
//! (headless Chromium, SwiftShader), so this file uses only normlab's public API, async
//! reads, a tiny inline random generator, and no clock, threads or files. Include it with
//! `#[path = "../common/gpu_cases.rs"] mod gpu_cases;` and call [`run_all`].
//!
//! Each case records the same ops on a `CpuBackend` and a `GpuBackend`, with every output
//! tensor first filled with NaN on both, so an element a kernel never writes shows up as a
//! mismatch instead of passing by accident with a stale zero.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::gpu::{GpuBackend, GpuContext};
use normlab::backend::{
    Activation, AdamHyper, Backend, ClipNorm, ConvShape, GradClip, MatmulShape, NormGrads, NormMode, NormTensors,
    PoolKind, PoolShape, RunningStats, SgdHyper, StepScalars, TensorId, METRICS_PER_SLOT,
};
use normlab::nn::{LpOrder, NormKind};

/// Most kernels: f32 on the GPU against f32 (f64 sums) on the CPU.
const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;
/// `tanh` and `exp` are implemented differently by GPU drivers and Rust's libm.
const RTOL_TRANSCENDENTAL: f32 = 2e-4;

/// Compares `got` with `want` element-wise: each must satisfy
/// `|got − want| ≤ atol + rtol·|want|`, and NaN never does. On failure the report names
/// the first few mismatches (index, got, want) and the largest absolute and relative
/// differences.
// Used by the native suite's fixture comparisons; the browser test does not need it.
#[allow(dead_code)]
pub fn check_close(name: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{name}: got {} values, want {}", got.len(), want.len()));
    }
    const SHOWN: usize = 5;
    let mut mismatches = 0;
    let mut first = Vec::new();
    // (difference, index); NaN counts as an infinite difference.
    let mut max_abs = (0.0f64, 0usize);
    let mut max_rel = (0.0f64, 0usize);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let diff = (g as f64 - w as f64).abs();
        let diff = if diff.is_nan() { f64::INFINITY } else { diff };
        let rel = if diff == 0.0 { 0.0 } else { diff / (w as f64).abs() };
        if diff > max_abs.0 {
            max_abs = (diff, i);
        }
        if rel > max_rel.0 {
            max_rel = (rel, i);
        }
        if diff > atol as f64 + rtol as f64 * (w as f64).abs() {
            mismatches += 1;
            if first.len() < SHOWN {
                first.push(format!("    [{i}] got {g:e}, want {w:e}"));
            }
        }
    }
    if mismatches == 0 {
        return Ok(());
    }
    let (a, r) = (max_abs.1, max_rel.1);
    Err(format!(
        "{name}: {mismatches} of {} values differ by more than {atol:e} + {rtol:e}·|want|\n{}\n  \
         largest absolute difference {:e} at [{a}] (got {:e}, want {:e})\n  \
         largest relative difference {:e} at [{r}] (got {:e}, want {:e})",
        got.len(),
        first.join("\n"),
        max_abs.0,
        got[a],
        want[a],
        max_rel.0,
        got[r],
        want[r],
    ))
}

/// How close a comparison came to its tolerance: the largest `|got − want| / (atol + rtol·|want|)`.
fn tolerance_used(got: &[f32], want: &[f32], rtol: f32, atol: f32) -> f64 {
    got.iter()
        .zip(want)
        .map(|(&g, &w)| {
            let diff = (g as f64 - w as f64).abs();
            if diff == 0.0 {
                0.0
            } else {
                diff / (atol as f64 + rtol as f64 * (w as f64).abs())
            }
        })
        .fold(0.0, |worst, v| if v.is_nan() { f64::INFINITY } else { worst.max(v) })
}

/// Runs every case; returns how many ran. All mismatches are collected before failing.
#[allow(dead_code)] // the native suite calls run_all_logged
pub async fn run_all(ctx: &GpuContext) -> Result<usize, String> {
    run_all_logged(ctx, &mut |_| {}).await
}

/// Like [`run_all`], and reports each case with the worst fraction of its tolerance used.
#[allow(dead_code)] // the browser test calls run_all
pub async fn run_all_logged(ctx: &GpuContext, log: &mut dyn FnMut(&str)) -> Result<usize, String> {
    let mut p = Pair::new(ctx, log);
    for (m, k, n) in [(37, 53, 29), (1, 1, 1), (70, 130, 65), (5, 17, 64)] {
        for (trans_a, trans_b) in [(false, false), (false, true), (true, false), (true, true)] {
            matmul(&mut p, MatmulShape { m, k, n, trans_a, trans_b }).await?;
        }
    }
    // (N, CI, CO, H, W, kernel, stride, padding): none a multiple of the 64×64×16 tiles.
    for (batch, in_channels, out_channels, height, width, kernel, stride, padding) in [
        (3, 2, 5, 11, 9, 3, 1, 1),
        (2, 3, 7, 9, 9, 3, 2, 0),
        (2, 3, 4, 10, 7, 5, 1, 2),
        (2, 5, 3, 6, 7, 1, 1, 0),
        // Two column blocks in every pass, 40 K slices in the forward pass, stride 2 with padding.
        (2, 67, 70, 9, 10, 3, 2, 1),
        // Stride larger than the kernel: some pixels feed no output and get dx = 0.
        (1, 2, 3, 8, 8, 2, 3, 0),
    ] {
        let shape = ConvShape { batch, in_channels, out_channels, height, width, kernel, stride, padding };
        conv(&mut p, shape).await?;
    }
    for kind in [PoolKind::Max, PoolKind::Avg] {
        // Odd sizes (floor mode drops the last row and column) and overlapping windows.
        for (height, width, kernel, stride) in [(7, 9, 2, 2), (9, 8, 3, 2)] {
            let shape = PoolShape { kind, batch: 3, channels: 5, height, width, kernel, stride };
            pool(&mut p, shape, false).await?;
        }
    }
    let ties = PoolShape { kind: PoolKind::Max, batch: 2, channels: 3, height: 9, width: 8, kernel: 3, stride: 2 };
    pool(&mut p, ties, true).await?;
    bias(&mut p, 37, 29, 1).await?;
    bias(&mut p, 5, 7, 33).await?;
    bias(&mut p, 300, 3, 1).await?;
    for kind in [Activation::Relu, Activation::Tanh] {
        activation(&mut p, kind, 1031).await?;
    }
    gather(&mut p, 50, 37, 13).await?;
    gather(&mut p, 50, 37, 1).await?;
    cross_entropy(&mut p, 37, 10, Some(3)).await?;
    cross_entropy(&mut p, 300, 7, None).await?;
    cross_entropy(&mut p, 1, 3, Some(0)).await?;
    let train = NormMode::training(Some(0.1));
    norm(&mut p, "BatchNorm train", NormKind::Batch, (3, 6, 7), train).await?;
    norm(&mut p, "BatchNorm train, cumulative average", NormKind::Batch, (3, 6, 7), NormMode::training(None)).await?;
    norm(&mut p, "BatchNorm eval", NormKind::Batch, (3, 6, 7), NormMode::RUNNING_STATISTICS).await?;
    norm(&mut p, "BatchNorm, batch statistics kept", NormKind::Batch, (3, 6, 7), NormMode::BATCH_STATISTICS).await?;
    norm(&mut p, "BatchNorm fc, 300 rows", NormKind::Batch, (300, 5, 1), train).await?;
    norm(&mut p, "GroupNorm(2)", NormKind::Group { groups: 2 }, (3, 6, 7), train).await?;
    norm(&mut p, "GroupNorm(1)", NormKind::Group { groups: 1 }, (3, 6, 7), train).await?;
    norm(&mut p, "InstanceNorm", NormKind::Instance, (3, 6, 7), train).await?;
    norm(&mut p, "LayerNorm", NormKind::Layer, (3, 6, 7), train).await?;
    norm(&mut p, "LayerNorm fc, 300 features", NormKind::Layer, (4, 300, 1), train).await?;
    // Inputs far from zero: the statistics must keep float32 accuracy (a shifted sum).
    for (label, kind, shape) in [
        ("LayerNorm fc, 300 features, inputs near 1e3", NormKind::Layer, (4, 300, 1)),
        ("LayerNorm, inputs near 1e3", NormKind::Layer, (3, 6, 7)),
        ("BatchNorm fc, 300 rows, inputs near 1e3", NormKind::Batch, (300, 5, 1)),
        ("GroupNorm(2), inputs near 1e3", NormKind::Group { groups: 2 }, (3, 6, 7)),
    ] {
        norm_at(&mut p, label, kind, shape, train, 1e3).await?;
    }
    norm(&mut p, "LayerNorm eval", NormKind::Layer, (3, 6, 7), NormMode::BATCH_STATISTICS).await?;
    norm(&mut p, "RMSNorm", NormKind::Rms, (3, 6, 7), train).await?;
    for order in LpOrder::ALL {
        let kind = NormKind::Lp { order };
        norm(&mut p, &format!("{} norm", order.name()), kind, (3, 6, 7), train).await?;
        norm(&mut p, &format!("{} norm fc, 300 rows", order.name()), kind, (300, 5, 1), train).await?;
        norm(&mut p, &format!("{} norm eval", order.name()), kind, (3, 6, 7), NormMode::RUNNING_STATISTICS).await?;
    }
    sgd(&mut p, 1031, SgdHyper { momentum: 0.9, weight_decay: 1e-2 }, true).await?;
    sgd(&mut p, 1031, SgdHyper { momentum: 0.0, weight_decay: 0.0 }, true).await?;
    adam(&mut p, 1031, AdamHyper { weight_decay: 1e-2, ..AdamHyper::default() }, true).await?;
    // Three steps recorded back to back: each must see its own step scalars.
    sgd(&mut p, 300, SgdHyper { momentum: 0.9, weight_decay: 0.0 }, false).await?;
    adam(&mut p, 300, AdamHyper::default(), false).await?;
    for drop in [0.1, 0.5, 0.9, 1.0] {
        dropout(&mut p, 70_001, drop, 3).await?;
    }
    dropout(&mut p, 1, 0.5, 4).await?;
    channel_noise(&mut p, (3, 37, 29), 0.5, 5).await?;
    channel_noise(&mut p, (300, 5, 1), 1.0, 6).await?;
    let odd = [1, 37, 1000, 70_001];
    clip(&mut p, "odd lengths", &odd, 1.0, GradClip::None).await?;
    clip(&mut p, "odd lengths, clipping", &odd, 1.0, GradClip::norm(1.0)).await?;
    for norm_type in [ClipNorm::L1, ClipNorm::Inf] {
        let clipping = GradClip::Norm { max_norm: 0.5, norm_type };
        clip(&mut p, "odd lengths, clipping", &odd, 1.0, clipping).await?;
        clip(&mut p, "odd lengths, under the limit", &odd, 1.0, GradClip::Norm { max_norm: 1e5, norm_type }).await?;
    }
    for clipping in
        [ClipNorm::L1, ClipNorm::L2, ClipNorm::Inf].map(|norm_type| GradClip::Norm { max_norm: 1.0, norm_type })
    {
        clip_with_nan(&mut p, &odd, clipping).await?;
    }
    clip_with_nan(&mut p, &odd, GradClip::Value { clip: 0.5 }).await?;
    // More tensors than the backend's first partial-sum scratch holds: it must grow.
    let many: Vec<usize> = (0..21).map(|i| 2 * i + 1).collect();
    clip(&mut p, "many tensors, clipping", &many, 1.0, GradClip::norm(0.5)).await?;
    clip(&mut p, "odd lengths, under the limit", &odd, 1.0, GradClip::norm(1000.0)).await?;
    clip(&mut p, "odd lengths", &odd, 1.0, GradClip::Value { clip: 0.5 }).await?;
    clip(&mut p, "no tensors", &[], 1.0, GradClip::norm(1.0)).await?;
    upload_and_zero_keep_program_order(&mut p, 1031).await?;
    views_share_their_base(&mut p).await?;
    p.finish()
}

/// A tiny deterministic generator (64-bit LCG, Knuth's constants); the same numbers on
/// every platform.
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f32) as usize).min(n - 1)
    }
    fn vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.range(lo, hi)).collect()
    }
}

#[derive(Clone, Copy)]
enum Side {
    Cpu,
    Gpu,
}

/// One tensor on both backends.
#[derive(Clone, Copy)]
struct Both {
    cpu: TensorId,
    gpu: TensorId,
    len: usize,
}

impl Both {
    fn on(self, side: Side) -> TensorId {
        match side {
            Side::Cpu => self.cpu,
            Side::Gpu => self.gpu,
        }
    }
}

struct Pair<'a> {
    cpu: CpuBackend,
    gpu: GpuBackend,
    rng: Lcg,
    cases: usize,
    failures: Vec<String>,
    /// Worst fraction of the tolerance used in the current case.
    case_worst: f64,
    log: &'a mut dyn FnMut(&str),
}

impl<'a> Pair<'a> {
    fn new(ctx: &GpuContext, log: &'a mut dyn FnMut(&str)) -> Self {
        Pair {
            cpu: CpuBackend::new(),
            gpu: GpuBackend::new(ctx.clone()),
            rng: Lcg(0x5eed_0f6e_0ca5_e5e5),
            cases: 0,
            failures: Vec::new(),
            case_worst: 0.0,
            log,
        }
    }

    fn input(&mut self, data: &[f32], label: &str) -> Result<Both, String> {
        let both = Both {
            cpu: self.cpu.alloc(data.len(), label).map_err(|e| e.to_string())?,
            gpu: self.gpu.alloc(data.len(), label).map_err(|e| e.to_string())?,
            len: data.len(),
        };
        self.cpu.upload(both.cpu, data);
        self.gpu.upload(both.gpu, data);
        Ok(both)
    }

    fn random(&mut self, len: usize, lo: f32, hi: f32, label: &str) -> Result<Both, String> {
        let data = self.rng.vec(len, lo, hi);
        self.input(&data, label)
    }

    /// A view of `len` elements of `base` from `offset`, on both backends.
    fn view(&mut self, base: Both, offset: usize, len: usize) -> Both {
        Both { cpu: self.cpu.view(base.cpu, offset, len), gpu: self.gpu.view(base.gpu, offset, len), len }
    }

    /// An output: NaN until the op under test writes it.
    fn output(&mut self, len: usize, label: &str) -> Result<Both, String> {
        self.input(&vec![f32::NAN; len], label)
    }

    /// Records the same work on both backends.
    fn both(&mut self, f: impl Fn(&mut dyn Backend, Side)) {
        f(&mut self.cpu, Side::Cpu);
        f(&mut self.gpu, Side::Gpu);
    }

    async fn read(&mut self, t: Both) -> Result<(Vec<f32>, Vec<f32>), String> {
        self.gpu.submit();
        let gpu = self.gpu.read_later(t.gpu);
        let cpu = self.cpu.read_later(t.cpu);
        let mut cpu = cpu.await.map_err(|e| format!("CPU read-back: {e}"))?;
        let mut gpu = gpu.await.map_err(|e| format!("GPU read-back: {e}"))?;
        cpu.truncate(t.len);
        gpu.truncate(t.len);
        Ok((cpu, gpu))
    }

    /// Compares a tensor's GPU contents with its CPU contents; a mismatch is recorded.
    async fn compare(&mut self, what: &str, t: Both, rtol: f32, atol: f32) -> Result<(), String> {
        let (cpu, gpu) = self.read(t).await?;
        self.case_worst = self.case_worst.max(tolerance_used(&gpu, &cpu, rtol, atol));
        if let Err(report) = check_close(&format!("GPU vs CPU: {what}"), &gpu, &cpu, rtol, atol) {
            self.failures.push(report);
        }
        Ok(())
    }

    /// Ends a case: a device error (validation, lost device) fails it.
    fn done(&mut self, name: &str) -> Result<(), String> {
        if let Some(fault) = self.gpu.take_fault() {
            return Err(format!("{name}: the GPU reported {fault}"));
        }
        self.cases += 1;
        (self.log)(&format!("{name}: worst {:.3} of tolerance", self.case_worst));
        self.case_worst = 0.0;
        Ok(())
    }

    fn finish(self) -> Result<usize, String> {
        if self.failures.is_empty() {
            Ok(self.cases)
        } else {
            Err(format!("{} mismatches in {} cases:\n{}", self.failures.len(), self.cases, self.failures.join("\n")))
        }
    }
}

async fn matmul(p: &mut Pair<'_>, shape: MatmulShape) -> Result<(), String> {
    let name =
        format!("matmul m={} k={} n={} trans_a={} trans_b={}", shape.m, shape.k, shape.n, shape.trans_a, shape.trans_b);
    let a = p.random(shape.m * shape.k, -1.0, 1.0, "a")?;
    let b = p.random(shape.k * shape.n, -1.0, 1.0, "b")?;
    let out = p.output(shape.m * shape.n, "out")?;
    p.both(|be, s| be.matmul(a.on(s), b.on(s), out.on(s), shape));
    p.compare(&name, out, RTOL, ATOL).await?;
    p.done(&name)
}

async fn conv(p: &mut Pair<'_>, shape: ConvShape) -> Result<(), String> {
    let ConvShape { batch, in_channels, out_channels, height, width, kernel, stride, padding } = shape;
    let name =
        format!("conv2d N={batch} CI={in_channels} CO={out_channels} {height}×{width} k{kernel} s{stride} p{padding}");
    let x = p.random(shape.input_len(), -1.0, 1.0, "x")?;
    let weight = p.random(shape.weight_len(), -0.5, 0.5, "weight")?;
    let dy = p.random(shape.output_len(), -1.0, 1.0, "dy")?;
    let y = p.output(shape.output_len(), "y")?;
    let dx = p.output(shape.input_len(), "dx")?;
    let dweight = p.output(shape.weight_len(), "dweight")?;
    p.both(|be, s| {
        be.conv2d_forward(x.on(s), weight.on(s), y.on(s), shape);
        be.conv2d_backward_input(dy.on(s), weight.on(s), dx.on(s), shape);
        be.conv2d_backward_weight(dy.on(s), x.on(s), dweight.on(s), shape);
    });
    p.compare(&format!("{name}: y"), y, RTOL, ATOL).await?;
    p.compare(&format!("{name}: dx"), dx, RTOL, ATOL).await?;
    p.compare(&format!("{name}: dweight"), dweight, RTOL, ATOL).await?;
    p.done(&name)
}

/// `with_ties`: inputs on a coarse grid, so that most windows hold equal maxima and the
/// first one must win on both backends.
async fn pool(p: &mut Pair<'_>, shape: PoolShape, with_ties: bool) -> Result<(), String> {
    let PoolShape { kind, batch, channels, height, width, kernel, stride } = shape;
    let name = format!("pool {kind:?} N={batch} C={channels} {height}×{width} k{kernel} s{stride}, ties {with_ties}");
    let mut x = p.rng.vec(shape.input_len(), -2.0, 2.0);
    if with_ties {
        x.iter_mut().for_each(|v| *v = v.round());
    }
    let x = p.input(&x, "x")?;
    let dy = p.random(shape.output_len(), -1.0, 1.0, "dy")?;
    let y = p.output(shape.output_len(), "y")?;
    let argmax = p.output(shape.output_len(), "argmax")?;
    let dx = p.output(shape.input_len(), "dx")?;
    p.both(|be, s| {
        be.pool_forward(x.on(s), y.on(s), argmax.on(s), shape);
        be.pool_backward(dy.on(s), argmax.on(s), dx.on(s), shape);
    });
    match kind {
        // A maximum is a copy, and its position an exact small integer.
        PoolKind::Max => {
            p.compare(&format!("{name}: y"), y, 0.0, 0.0).await?;
            p.compare(&format!("{name}: argmax"), argmax, 0.0, 0.0).await?;
        }
        PoolKind::Avg => {
            p.compare(&format!("{name}: y"), y, RTOL, ATOL).await?;
            let (_, untouched) = p.read(argmax).await?;
            if let Some(i) = untouched.iter().position(|v| !v.is_nan()) {
                p.failures.push(format!("{name}: average pooling wrote argmax[{i}]"));
            }
        }
    }
    p.compare(&format!("{name}: dx"), dx, RTOL, ATOL).await?;
    p.done(&name)
}

async fn bias(p: &mut Pair<'_>, rows: usize, cols: usize, spatial: usize) -> Result<(), String> {
    let name = format!("bias_add / bias_grad {rows}×{cols}×{spatial}");
    let len = rows * cols * spatial;
    let y = p.random(len, -1.0, 1.0, "y")?;
    let bias = p.random(cols, -1.0, 1.0, "bias")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let dbias = p.output(cols, "dbias")?;
    p.both(|be, s| {
        be.bias_add(y.on(s), bias.on(s), (rows, cols, spatial));
        be.bias_grad(dy.on(s), dbias.on(s), (rows, cols, spatial));
    });
    p.compare(&format!("{name}: y"), y, RTOL, ATOL).await?;
    p.compare(&format!("{name}: dbias"), dbias, RTOL, ATOL).await?;
    p.done(&name)
}

async fn activation(p: &mut Pair<'_>, kind: Activation, len: usize) -> Result<(), String> {
    let name = format!("activation {kind:?} len={len}");
    let mut x = p.rng.vec(len, -3.0, 3.0);
    // Exact zeros, where ReLU's gradient is defined as 0.
    for i in (0..len).step_by(97) {
        x[i] = 0.0;
    }
    let x = p.input(&x, "x")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let y = p.output(len, "y")?;
    let dx = p.output(len, "dx")?;
    p.both(|be, s| {
        be.activation_forward(kind, x.on(s), y.on(s), len);
        be.activation_backward(kind, x.on(s), y.on(s), dy.on(s), dx.on(s), len);
    });
    let rtol = if kind == Activation::Tanh { RTOL_TRANSCENDENTAL } else { RTOL };
    p.compare(&format!("{name}: y"), y, rtol, ATOL).await?;
    p.compare(&format!("{name}: dx"), dx, rtol, ATOL).await?;
    p.done(&name)
}

async fn gather(p: &mut Pair<'_>, src_rows: usize, rows: usize, row_len: usize) -> Result<(), String> {
    let name = format!("gather_rows {rows} of {src_rows} rows × {row_len}");
    let src = p.random(src_rows * row_len, -1.0, 1.0, "src")?;
    let indices: Vec<f32> = (0..rows).map(|_| p.rng.below(src_rows) as f32).collect();
    let indices = p.input(&indices, "indices")?;
    let out = p.output(rows * row_len, "out")?;
    p.both(|be, s| be.gather_rows(src.on(s), indices.on(s), out.on(s), rows, row_len));
    // A copy: exact.
    p.compare(&name, out, 0.0, 0.0).await?;
    p.done(&name)
}

/// `grad_slot`: Some(slot) computes the gradient too; None writes metrics slot 1 only.
async fn cross_entropy(p: &mut Pair<'_>, rows: usize, classes: usize, grad_slot: Option<usize>) -> Result<(), String> {
    let slot = grad_slot.unwrap_or(1);
    let name = format!("cross_entropy {rows}×{classes}, slot {slot}, gradient {}", grad_slot.is_some());
    let mut logits = p.rng.vec(rows * classes, -4.0, 4.0);
    // Logits near 80 overflow a naive exp-sum; a wide row stresses the log-sum-exp.
    if rows > 2 {
        for c in 0..classes {
            logits[classes + c] += 80.0;
            logits[2 * classes + c] *= 20.0;
        }
    }
    let labels: Vec<f32> = (0..rows).map(|_| p.rng.below(classes) as f32).collect();
    let logits = p.input(&logits, "logits")?;
    let labels = p.input(&labels, "labels")?;
    let metrics = p.output(METRICS_PER_SLOT * (slot + 2), "metrics")?;
    let dlogits = p.output(rows * classes, "dlogits")?;
    let with_grad = grad_slot.is_some();
    p.both(|be, s| {
        let grad = if with_grad { Some(dlogits.on(s)) } else { None };
        be.cross_entropy(logits.on(s), labels.on(s), grad, metrics.on(s), slot, rows, classes);
    });
    let (cpu, gpu) = p.read(metrics).await?;
    let base = METRICS_PER_SLOT * slot;
    let written = base..base + 2;
    let (gpu_loss, cpu_loss) = (&gpu[base..base + 1], &cpu[base..base + 1]);
    p.case_worst = p.case_worst.max(tolerance_used(gpu_loss, cpu_loss, RTOL_TRANSCENDENTAL, ATOL));
    if let Err(report) =
        check_close(&format!("GPU vs CPU: {name}: loss"), gpu_loss, cpu_loss, RTOL_TRANSCENDENTAL, ATOL)
    {
        p.failures.push(report);
    }
    if gpu[base + 1] != cpu[base + 1] {
        p.failures.push(format!("{name}: correct count GPU {} vs CPU {}", gpu[base + 1], cpu[base + 1]));
    }
    if let Some(i) = (0..gpu.len()).find(|i| !written.contains(i) && !gpu[*i].is_nan()) {
        p.failures.push(format!("{name}: metrics[{i}] outside slot {slot} was overwritten with {}", gpu[i]));
    }
    if with_grad {
        p.compare(&format!("{name}: dlogits"), dlogits, RTOL_TRANSCENDENTAL, ATOL).await?;
    } else {
        let (_, untouched) = p.read(dlogits).await?;
        if let Some(i) = untouched.iter().position(|v| !v.is_nan()) {
            p.failures.push(format!("{name}: dlogits[{i}] written without a gradient request"));
        }
    }
    p.done(&name)
}

async fn norm(
    p: &mut Pair<'_>,
    label: &str,
    kind: NormKind,
    shape: (usize, usize, usize),
    mode: NormMode,
) -> Result<(), String> {
    norm_at(p, label, kind, shape, mode, 0.0).await
}

/// A norm's forward and backward on inputs spread over [offset − 2, offset + 2.5].
async fn norm_at(
    p: &mut Pair<'_>,
    label: &str,
    kind: NormKind,
    (n, c, s): (usize, usize, usize),
    mode: NormMode,
    offset: f32,
) -> Result<(), String> {
    let name = format!("norm {label} [N={n}, C={c}, S={s}] {mode:?}");
    let training = mode.batch_statistics;
    let g = kind
        .geometry(n, c, s, training)
        .map_err(|e| format!("{name}: {e}"))?
        .ok_or_else(|| format!("{name}: no geometry"))?;
    let elements = g.elements();
    let stats = g.stat_count();
    let affine = g.affine_len();
    let x = p.random(elements, offset - 2.0, offset + 2.5, "x")?;
    let running = if kind.has_running_stats() {
        let mean = p.random(c, -0.5, 0.5, "running_mean")?;
        let var = p.random(c, 0.5, 1.5, "running_var")?;
        let batches_tracked = p.input(&[3.0], "num_batches_tracked")?;
        Some((mean, var, batches_tracked))
    } else {
        None
    };
    let gamma = p.random(affine, 0.5, 1.5, "gamma")?;
    let beta = p.random(affine, -0.5, 0.5, "beta")?;
    let y = p.output(elements, "y")?;
    let mean = p.output(stats, "mean")?;
    let rstd = p.output(stats, "rstd")?;
    let dy = p.random(elements, -1.0, 1.0, "dy")?;
    let dx = p.output(elements, "dx")?;
    let dgamma = p.output(affine, "dgamma")?;
    let dbeta = p.output(affine, "dbeta")?;
    let stat_grad = p.output(g.stat_grad_len(), "stat_grad")?;
    p.both(|be, side| {
        let tensors = NormTensors {
            x: x.on(side),
            y: y.on(side),
            gamma: gamma.on(side),
            beta: beta.on(side),
            mean: mean.on(side),
            rstd: rstd.on(side),
            running: running.map(|(m, v, n)| RunningStats {
                mean: m.on(side),
                var: v.on(side),
                batches_tracked: n.on(side),
            }),
        };
        let grads = NormGrads {
            dy: dy.on(side),
            dx: dx.on(side),
            dgamma: dgamma.on(side),
            dbeta: dbeta.on(side),
            stat_grad: stat_grad.on(side),
        };
        be.norm_forward(&g, mode, &tensors);
        be.norm_backward(&g, mode, &tensors, &grads);
    });
    for (what, t) in [("y", y), ("mean", mean), ("rstd", rstd), ("dx", dx), ("dgamma", dgamma), ("dbeta", dbeta)] {
        p.compare(&format!("{name}: {what}"), t, RTOL, ATOL).await?;
    }
    if let Some((m, v, _)) = running {
        p.compare(&format!("{name}: running_mean"), m, RTOL, ATOL).await?;
        p.compare(&format!("{name}: running_var"), v, RTOL, ATOL).await?;
    }
    p.done(&name)
}

async fn sgd(p: &mut Pair<'_>, len: usize, hyper: SgdHyper, read_each_step: bool) -> Result<(), String> {
    let name = format!("sgd_step len={len} {hyper:?}, read each step {read_each_step}");
    let param = p.random(len, -1.0, 1.0, "param")?;
    let velocity = p.input(&vec![0.0; len], "velocity")?;
    for step in 1..=3u32 {
        let grad = p.random(len, -1.0, 1.0, "grad")?;
        // A different rate each step, so that a stale step uniform shows.
        let learning_rate = 0.1 / step as f32;
        p.both(|be, s| {
            be.begin_step(StepScalars { learning_rate, step });
            be.sgd_step(param.on(s), grad.on(s), velocity.on(s), len, hyper);
        });
        if read_each_step || step == 3 {
            p.compare(&format!("{name} step {step}: param"), param, RTOL, ATOL).await?;
            p.compare(&format!("{name} step {step}: velocity"), velocity, RTOL, ATOL).await?;
        }
    }
    p.done(&name)
}

async fn adam(p: &mut Pair<'_>, len: usize, hyper: AdamHyper, read_each_step: bool) -> Result<(), String> {
    let name = format!("adam_step len={len} {hyper:?}, read each step {read_each_step}");
    let param = p.random(len, -1.0, 1.0, "param")?;
    let m = p.input(&vec![0.0; len], "m")?;
    let v = p.input(&vec![0.0; len], "v")?;
    for step in 1..=3u32 {
        let grad = p.random(len, -1.0, 1.0, "grad")?;
        p.both(|be, s| {
            be.begin_step(StepScalars { learning_rate: 1e-2, step });
            be.adam_step(param.on(s), grad.on(s), m.on(s), v.on(s), len, hyper);
        });
        if read_each_step || step == 3 {
            p.compare(&format!("{name} step {step}: param"), param, RTOL, ATOL).await?;
            p.compare(&format!("{name} step {step}: m"), m, RTOL, ATOL).await?;
            p.compare(&format!("{name} step {step}: v"), v, RTOL, ATOL).await?;
        }
    }
    p.done(&name)
}
/// Dropout at two steps recorded back to back: the masks come from integer hashing and
/// must be bit-identical to the CPU's, and each step must draw with its own step number.
async fn dropout(p: &mut Pair<'_>, len: usize, drop: f32, stream: u32) -> Result<(), String> {
    let name = format!("dropout len={len} p={drop} stream={stream}");
    let x = p.random(len, -3.0, 3.0, "x")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let mut steps = Vec::new();
    for step in [1u32, 2] {
        let (y, mask, dx) = (p.output(len, "y")?, p.output(len, "mask")?, p.output(len, "dx")?);
        p.both(|be, _| be.begin_step(StepScalars { learning_rate: 0.1, step }));
        let submissions = p.gpu.submission_count();
        p.both(|be, s| {
            be.dropout_forward(x.on(s), y.on(s), mask.on(s), len, drop, stream);
            be.dropout_backward(dy.on(s), mask.on(s), dx.on(s), len);
        });
        if step > 1 && p.gpu.submission_count() != submissions {
            p.failures.push(format!("{name}: recording step {step} submitted work (a step must submit once)"));
        }
        steps.push((step, y, mask, dx));
    }
    for (step, y, mask, dx) in steps {
        p.compare(&format!("{name} step {step}: mask (bit-identical)"), mask, 0.0, 0.0).await?;
        p.compare(&format!("{name} step {step}: y"), y, RTOL, ATOL).await?;
        p.compare(&format!("{name} step {step}: dx"), dx, RTOL, ATOL).await?;
    }
    p.done(&name)
}

async fn channel_noise(
    p: &mut Pair<'_>,
    (n, c, s): (usize, usize, usize),
    strength: f32,
    stream: u32,
) -> Result<(), String> {
    let name = format!("channel noise [N={n}, C={c}, S={s}] strength={strength} stream={stream}");
    let len = n * c * s;
    let x = p.random(len, -3.0, 3.0, "x")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let (y, noise, dx) = (p.output(len, "y")?, p.output(2 * c, "noise")?, p.output(len, "dx")?);
    p.both(|be, side| {
        be.begin_step(StepScalars { learning_rate: 0.1, step: 7 });
        be.channel_noise_forward(x.on(side), y.on(side), noise.on(side), (n, c, s), strength, stream);
        be.channel_noise_backward(dy.on(side), noise.on(side), dx.on(side), (n, c, s));
    });
    // The uniforms are bit-identical; `1 + strength·u` may be fused into one multiply-add
    // on the GPU, so the noise itself gets the usual tolerance.
    p.compare(&format!("{name}: noise"), noise, RTOL, ATOL).await?;
    p.compare(&format!("{name}: y"), y, RTOL, ATOL).await?;
    p.compare(&format!("{name}: dx"), dx, RTOL, ATOL).await?;
    p.done(&name)
}

/// `clip_gradients` on gradients of the given lengths with values in ±`scale`, into metrics
/// slot 1 of 3. Recorded twice (the second time on re-uploaded gradients), and the second
/// recording must not submit: clipping stays inside one training step's submission.
async fn clip(p: &mut Pair<'_>, label: &str, lens: &[usize], scale: f32, clip: GradClip) -> Result<(), String> {
    const SLOT: usize = 1;
    let name = format!("clip_gradients {label} {clip:?}, {} tensors", lens.len());
    let data: Vec<Vec<f32>> = lens.iter().map(|&len| p.rng.vec(len, -scale, scale)).collect();
    let mut grads = Vec::new();
    for d in &data {
        grads.push(p.input(d, "grad")?);
    }
    let metrics = p.output(3 * METRICS_PER_SLOT, "metrics")?;
    for round in 0..2 {
        if round == 1 {
            p.both(|be, s| {
                for (g, d) in grads.iter().zip(&data) {
                    be.upload(g.on(s), d);
                }
            });
        }
        let submissions = p.gpu.submission_count();
        p.both(|be, s| {
            let list: Vec<(TensorId, usize)> = grads.iter().map(|g| (g.on(s), g.len)).collect();
            be.clip_gradients(&list, clip, metrics.on(s), SLOT);
        });
        if round == 1 && p.gpu.submission_count() != submissions {
            p.failures.push(format!("{name}: clip_gradients submitted work the second time"));
        }
        for (i, &g) in grads.iter().enumerate() {
            p.compare(&format!("{name} round {round}: grad {i} (len {})", g.len), g, RTOL, ATOL).await?;
        }
        let (cpu, gpu) = p.read(metrics).await?;
        let written = [METRICS_PER_SLOT * SLOT + 2, METRICS_PER_SLOT * SLOT + 3];
        if let Some(i) = (0..gpu.len()).find(|i| !written.contains(i) && !gpu[*i].is_nan()) {
            p.failures.push(format!("{name}: metrics[{i}] outside the norms of slot {SLOT} became {}", gpu[i]));
        }
        let (gpu_norms, cpu_norms) = (&gpu[written[0]..=written[1]], &cpu[written[0]..=written[1]]);
        p.case_worst = p.case_worst.max(tolerance_used(gpu_norms, cpu_norms, RTOL, ATOL));
        if let Err(report) =
            check_close(&format!("GPU vs CPU: {name}: norms before, after"), gpu_norms, cpu_norms, RTOL, ATOL)
        {
            p.failures.push(report);
        }
    }
    p.done(&name)
}

/// One NaN in one gradient: norm clipping makes every gradient NaN on both backends (as
/// PyTorch's `clip_grad_norm_`), and the norms NaN; value clipping keeps that one NaN and
/// clamps the rest as the CPU does.
async fn clip_with_nan(p: &mut Pair<'_>, lens: &[usize], clip: GradClip) -> Result<(), String> {
    const SLOT: usize = 0;
    let name = format!("clip_gradients with one NaN {clip:?}");
    let mut data: Vec<Vec<f32>> = lens.iter().map(|&len| p.rng.vec(len, -2.0, 2.0)).collect();
    let (tensor, index) = (data.len() / 2, data[data.len() / 2].len() / 2);
    data[tensor][index] = f32::NAN;
    let mut grads = Vec::new();
    for d in &data {
        grads.push(p.input(d, "grad")?);
    }
    let metrics = p.output(METRICS_PER_SLOT, "metrics")?;
    p.both(|be, s| {
        let list: Vec<(TensorId, usize)> = grads.iter().map(|g| (g.on(s), g.len)).collect();
        be.clip_gradients(&list, clip, metrics.on(s), SLOT);
    });
    let nan_only = |i: usize, j: usize| matches!(clip, GradClip::Norm { .. }) || (i, j) == (tensor, index);
    for (i, &g) in grads.iter().enumerate() {
        let (cpu, gpu) = p.read(g).await?;
        for (side, values) in [("CPU", &cpu), ("GPU", &gpu)] {
            if let Some(j) = (0..values.len()).find(|&j| values[j].is_nan() != nan_only(i, j)) {
                p.failures.push(format!(
                    "{name}: {side} grad {i}[{j}] = {} (NaN expected: {})",
                    values[j],
                    nan_only(i, j)
                ));
            }
        }
        let finite = |v: &[f32]| v.iter().map(|x| if x.is_nan() { 0.0 } else { *x }).collect::<Vec<_>>();
        if let Err(report) =
            check_close(&format!("GPU vs CPU: {name}: grad {i}"), &finite(&gpu), &finite(&cpu), RTOL, ATOL)
        {
            p.failures.push(report);
        }
    }
    let (cpu, gpu) = p.read(metrics).await?;
    for (side, m) in [("CPU", &cpu), ("GPU", &gpu)] {
        if !m[METRICS_PER_SLOT * SLOT + 2].is_nan() {
            p.failures.push(format!("{name}: {side} norm before is {}, not NaN", m[METRICS_PER_SLOT * SLOT + 2]));
        }
    }
    p.done(&name)
}

/// Views name ranges of their base: an op reads and writes only its view's range, an
/// upload and `zero` of a view touch nothing else, and an op over the base (Adam over a
/// parameter arena) covers every view, exactly as on the CPU.
async fn views_share_their_base(p: &mut Pair<'_>) -> Result<(), String> {
    let name = "views of one tensor".to_string();
    // b starts at the same random values on both backends: what no view touches must stay.
    let (a, b) = (p.random(320, -2.0, 2.0, "arena a")?, p.random(320, -2.0, 2.0, "arena b")?);
    let (a1, a2) = (p.view(a, 64, 100), p.view(a, 192, 70));
    let (b1, b2) = (p.view(b, 0, 100), p.view(b, 256, 64));
    let fresh = p.rng.vec(70, -1.0, 1.0);
    p.both(|be, s| {
        be.activation_forward(Activation::Tanh, a1.on(s), b1.on(s), 100);
        be.upload(a2.on(s), &fresh);
        be.zero(b2.on(s));
    });
    p.compare(&format!("{name}: the base written through views"), b, RTOL_TRANSCENDENTAL, ATOL).await?;
    p.compare(&format!("{name}: a view read back"), a2, 0.0, 0.0).await?;
    let (grad, m, v) = (p.random(320, -1.0, 1.0, "grad")?, p.input(&[0.0; 320], "m")?, p.input(&[0.0; 320], "v")?);
    p.both(|be, s| {
        be.begin_step(StepScalars { learning_rate: 1e-2, step: 1 });
        be.adam_step(a.on(s), grad.on(s), m.on(s), v.on(s), 320, AdamHyper::default());
    });
    p.compare(&format!("{name}: Adam over the whole base"), a, RTOL, ATOL).await?;
    p.done(&name)
}

/// Uploads and `zero` land between the ops recorded before and after them, even though
/// the GPU queues writes ahead of recorded work unless the backend submits first.
async fn upload_and_zero_keep_program_order(p: &mut Pair<'_>, len: usize) -> Result<(), String> {
    let name = format!("upload and zero between recorded ops, len={len}");
    let x = p.random(len, -3.0, 3.0, "x")?;
    let (y1, y2, y3) = (p.output(len, "y1")?, p.output(len, "y2")?, p.output(len, "y3")?);
    let second = p.rng.vec(len, -3.0, 3.0);
    p.both(|be, s| {
        be.activation_forward(Activation::Tanh, x.on(s), y1.on(s), len);
        be.upload(x.on(s), &second);
        be.activation_forward(Activation::Tanh, x.on(s), y2.on(s), len);
        be.zero(x.on(s));
        be.activation_forward(Activation::Tanh, x.on(s), y3.on(s), len);
    });
    for (what, t) in [("before the upload", y1), ("after the upload", y2), ("after zero", y3)] {
        p.compare(&format!("{name}: {what}"), t, RTOL_TRANSCENDENTAL, ATOL).await?;
    }
    let (cpu, _) = p.read(y1).await?;
    let (_, gpu_after) = p.read(y2).await?;
    if cpu == gpu_after {
        p.failures.push(format!("{name}: the upload did not change the input"));
    }
    p.done(&name)
}
