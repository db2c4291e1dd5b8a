//! Every GPU kernel against the CPU reference, at the shapes the lessons' models use and
//! on shapes that are not multiples of the workgroup or tile sizes (256 threads; 64×64
//! matmul and convolution blocks with 16-deep K slices).
//!
//! Three callers: the native test suite (on lavapipe), the browser test (headless
//! Chromium, SwiftShader), and the page's device self-check, which runs it on a student's
//! own GPU. So this module uses only the backends' public API, async reads, a tiny inline
//! random generator, and no clock, threads or files.
//!
//! Each case records the same ops on a `CpuBackend` and a `GpuBackend`, with every output
//! tensor first filled with NaN on both, so an element a kernel never writes shows up as a
//! mismatch instead of passing by accident with a stale zero.

use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::{GpuBackend, GpuContext};
use crate::backend::{
    Activation, AdamHyper, AttentionShape, Backend, ClipNorm, ConvShape, Epilogue, FusedActivation, GradClip,
    MatmulShape, NormGrads, NormMode, NormTensors, PoolKind, PoolShape, RowMask, RunningStats, SgdHyper, StepScalars,
    TensorId, METRICS_PER_SLOT,
};
use crate::nn::{LpOrder, NormKind};

/// Most kernels: f32 on the GPU against f32 (f64 sums) on the CPU.
const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;
/// `tanh` and `exp` are implemented differently by GPU drivers and Rust's libm.
const RTOL_TRANSCENDENTAL: f32 = 2e-4;

/// Compares `got` with `want` element-wise: each must satisfy
/// `|got − want| ≤ atol + rtol·|want|`, and NaN never does. On failure the report names
/// the first few mismatches (index, got, want) and the largest absolute and relative
/// differences.
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

/// The absolute tolerance for outputs that are sums of `terms` products of typical size
/// `term_rms` (a weight gradient over a batch's pixels, a norm's dγ and dβ). The GPU adds
/// them in float32, tile by tile; the CPU in float64: the two differ by the rounding of
/// the GPU's partial sums, which grows with the sum's length, about
/// `terms · ε · term_rms` (Higham, *Accuracy and Stability of Numerical Algorithms*,
/// §4.2). The small shapes' sums of a few hundred terms stay within `ATOL`; a lesson's
/// 64 images of 28×28 pixels are 50 176 terms.
fn sum_atol(terms: usize, term_rms: f32) -> f32 {
    ATOL.max(terms as f32 * f32::EPSILON * term_rms)
}

/// The largest `|got − want|`; NaN on either side counts as infinite.
fn largest_difference(got: &[f32], want: &[f32]) -> f64 {
    got.iter().zip(want).fold(0.0, |worst, (&g, &w)| {
        let diff = (g as f64 - w as f64).abs();
        if diff.is_nan() {
            f64::INFINITY
        } else {
            worst.max(diff)
        }
    })
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

/// The kernel families, as the self-check reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Matmul,
    Conv,
    Pool,
    Bias,
    Activation,
    Gather,
    Loss,
    Attention,
    Norm,
    Sgd,
    Adam,
    Dropout,
    Noise,
    Clip,
    /// Uploads, zeroing and views: the buffers themselves rather than a shader's math.
    Memory,
}

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Matmul => "matrix product",
            Kernel::Conv => "convolution",
            Kernel::Pool => "pooling",
            Kernel::Bias => "bias gradient",
            Kernel::Activation => "activation",
            Kernel::Gather => "gather",
            Kernel::Loss => "cross-entropy loss",
            Kernel::Attention => "causal attention",
            Kernel::Norm => "normalization",
            Kernel::Sgd => "SGD",
            Kernel::Adam => "Adam",
            Kernel::Dropout => "dropout",
            Kernel::Noise => "channel noise",
            Kernel::Clip => "gradient clipping",
            Kernel::Memory => "uploads and views",
        }
    }
}

/// One case: a kernel on one shape and setting, every output compared.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseOutcome {
    pub kernel: Kernel,
    pub name: String,
    /// The largest |GPU − CPU| over every compared value.
    pub largest_difference: f64,
    /// The largest |GPU − CPU| / (atol + rtol·|CPU|): above 1 fails.
    pub tolerance_used: f64,
    /// What differed, when something did (the first few mismatches and the largest
    /// differences), or a broken invariant of the case.
    pub mismatch: Option<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.mismatch.is_none()
    }
}

/// Runs every case, telling `on_case` about each as it ends, and returns them all. A
/// mismatch is part of a case's outcome; an `Err` means the check could not go on (the
/// GPU reported an error or a tensor could not be allocated).
pub async fn check_every_kernel(
    ctx: &GpuContext,
    on_case: &mut dyn FnMut(&CaseOutcome),
) -> Result<Vec<CaseOutcome>, String> {
    let mut p = Pair::new(ctx, on_case);
    lesson_shapes(&mut p).await?;
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
    bias_grad(&mut p, 37, 29, 1).await?;
    bias_grad(&mut p, 5, 7, 33).await?;
    bias_grad(&mut p, 300, 3, 1).await?;
    for kind in [Activation::Relu, Activation::Tanh] {
        activation(&mut p, kind, 1031).await?;
    }
    gather(&mut p, 50, 37, 13).await?;
    gather(&mut p, 50, 37, 1).await?;
    cross_entropy(&mut p, 37, 10, Some(3), false).await?;
    cross_entropy(&mut p, 300, 7, None, false).await?;
    cross_entropy(&mut p, 1, 3, Some(0), false).await?;
    cross_entropy(&mut p, 300, 27, Some(2), true).await?;
    // Sequences' token rows: a position embedding and a residual in the product's epilogue.
    matmul_epilogue(&mut p, 7 * 11, 29, 24, 11).await?;
    matmul_epilogue(&mut p, 37, 13, 5, 1).await?;
    for (batch, seq_len, heads, head_dim) in [(3, 7, 2, 5), (5, 16, 4, 16), (1, 1, 1, 3)] {
        attention(&mut p, AttentionShape { batch, seq_len, heads, head_dim }).await?;
    }
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
        norm_at(&mut p, label, kind, shape, train, 1e3, Joined::default()).await?;
    }
    // The block's activation fused after the norm: one layer in the model, the same math.
    for activation in [Activation::Relu, Activation::Tanh] {
        let then = Joined { activation: Some(activation), ..Joined::default() };
        norm_joined(&mut p, "BatchNorm train", NormKind::Batch, (3, 6, 7), train, then).await?;
        norm_joined(&mut p, "BatchNorm fc, 300 rows", NormKind::Batch, (300, 5, 1), train, then).await?;
        let eval = NormMode::RUNNING_STATISTICS;
        norm_joined(&mut p, "BatchNorm eval", NormKind::Batch, (3, 6, 7), eval, then).await?;
        norm_joined(&mut p, "LayerNorm", NormKind::Layer, (3, 6, 7), train, then).await?;
        norm_joined(&mut p, "GroupNorm(2)", NormKind::Group { groups: 2 }, (3, 6, 7), train, then).await?;
    }
    let linf = NormKind::Lp { order: LpOrder::Linf };
    let relu = Joined { activation: Some(Activation::Relu), ..Joined::default() };
    norm_joined(&mut p, "Linf norm", linf, (3, 6, 7), train, relu).await?;
    // A transformer block's norms: over each token's features, a residual gradient added.
    let skip = Joined { residual: true, ..Joined::default() };
    norm_joined(&mut p, "LayerNorm over tokens", NormKind::Layer, (37, 24, 1), train, skip).await?;
    norm_joined(&mut p, "RMSNorm over tokens", NormKind::Rms, (37, 24, 1), train, skip).await?;
    norm_joined(&mut p, "BatchNorm eval", NormKind::Batch, (3, 6, 7), NormMode::RUNNING_STATISTICS, skip).await?;
    // BatchNorm over padded sequences: the real tokens' statistics, pooled over the tokens
    // (rows of 24 features) and per position (sequences of 4 positions × 6 features, the
    // last position never real).
    for (label, shape, features) in
        [("BatchNorm over real tokens", (37, 24, 1), 24), ("BatchNorm per position", (9, 24, 1), 6)]
    {
        for mode in [train, NormMode::training(None), NormMode::BATCH_STATISTICS, NormMode::RUNNING_STATISTICS] {
            let masked = Joined { residual: true, mask_features: Some(features), ..Joined::default() };
            norm_joined(&mut p, label, NormKind::Batch, shape, mode, masked).await?;
        }
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
    Ok(p.outcomes)
}

/// The products, convolutions, pooling, norms, attention and loss of one training step
/// of the lessons' models at batch 64: the MLP 784-256-256-10, the notes' CNN
/// (conv 1→32 and 32→64 at 28×28 and 14×14, max-pooled) and the transformer's blocks.
async fn lesson_shapes(p: &mut Pair<'_>) -> Result<(), String> {
    let batch = 64;
    // The MLP's first layer: forward x·Wᵀ, the weight gradient dyᵀ·x, the input gradient dy·W.
    for (m, k, n, trans_a, trans_b) in
        [(batch, 784, 256, false, true), (256, batch, 784, true, false), (batch, 256, 784, false, false)]
    {
        matmul(p, MatmulShape { m, k, n, trans_a, trans_b }).await?;
    }
    for (in_channels, out_channels, side) in [(1, 32, 28), (32, 64, 14)] {
        let shape =
            ConvShape { batch, in_channels, out_channels, height: side, width: side, kernel: 3, stride: 1, padding: 1 };
        conv(p, shape).await?;
        let pooled = PoolShape {
            kind: PoolKind::Max,
            batch,
            channels: out_channels,
            height: side,
            width: side,
            kernel: 2,
            stride: 2,
        };
        pool(p, pooled, false).await?;
    }
    let train = NormMode::training(Some(0.1));
    norm(p, "BatchNorm, the CNN's first block", NormKind::Batch, (batch, 32, 28 * 28), train).await?;
    norm(p, "BatchNorm, the MLP's hidden layer", NormKind::Batch, (batch, 256, 1), train).await?;
    norm(p, "LayerNorm, the transformer's tokens", NormKind::Layer, (32 * 16, 64, 1), train).await?;
    attention(p, AttentionShape { batch: 32, seq_len: 16, heads: 4, head_dim: 16 }).await?;
    cross_entropy(p, batch, 10, Some(0), false).await?;
    Ok(())
}

mod norm_optim;
mod ops;
mod pair;
mod random_clip;

use norm_optim::*;
use ops::*;
use pair::*;
use random_clip::*;
