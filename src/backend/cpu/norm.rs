//! CPU twin of `shaders/norm.wgsl`.
//!
//! The GPU has one kernel family parameterised by which elements share a statistic; here
//! BatchNorm (statistics across samples) and the span norms (statistics within a sample:
//! LayerNorm, RMSNorm, InstanceNorm, GroupNorm) are written separately, each in the plain
//! terms of its definition, so that the two implementations check each other.
//! Layout is `[N, C, S]` with S = H·W (S = 1 for a fully connected layer).
//! Sums are accumulated in f64: this is the reference the GPU is measured against.

use super::{parallel, per_channel};
use crate::backend::Spread;

pub use super::span_norm::*;
use crate::backend::RunningUpdate;

/// What the forward pass leaves for the backward pass: per statistic, the mean and
/// `rstd = 1 / sqrt(var + eps)`.
pub struct NormCache<'a> {
    pub mean: &'a mut [f32],
    pub rstd: &'a mut [f32],
}

/// Running estimates updated by BatchNorm in training.
pub struct Running<'a> {
    pub mean: &'a mut [f32],
    pub var: &'a mut [f32],
    /// `num_batches_tracked`, counted up by every training forward pass.
    pub batches_tracked: &'a mut f32,
    /// None: a cumulative average, `m = 1 / num_batches_tracked` (PyTorch's momentum=None).
    pub momentum: Option<f32>,
}

/// The running estimates a forward pass updates, if its mode says so.
pub(super) fn running_update(
    update: RunningUpdate,
    running: Option<&mut (Vec<f32>, Vec<f32>, f32)>,
) -> Option<Running<'_>> {
    let momentum = match update {
        RunningUpdate::Keep => return None,
        RunningUpdate::Momentum(m) => Some(m),
        RunningUpdate::Cumulative => None,
    };
    running.map(|(mean, var, batches_tracked)| Running { mean, var, batches_tracked, momentum })
}

/// `nn.BatchNorm1d` / `nn.BatchNorm2d` in training mode: per channel, the mean and *biased*
/// variance over (N, S) normalize; the running variance is updated with the *unbiased* one,
/// `running = (1 − m)·running + m·batch`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    running: Option<Running>,
    (n, c, s): (usize, usize, usize),
    eps: f32,
) {
    let count = n * s;
    let dims = (n, c, s);
    // Per channel, the mean and biased variance (each thread sums a share of the channels).
    let moments: Vec<(f64, f64)> = parallel::map_shares(c, 2 * n * s, |channels| {
        let sums = per_channel::sums(channels.clone(), dims, x, x, &vec![(); c], |_, v, _| v as f64);
        let mut means = vec![0.0f64; c];
        means[channels.clone()].iter_mut().zip(&sums).for_each(|(mean, sum)| *mean = sum / count as f64);
        let squares = per_channel::sums(channels.clone(), dims, x, x, &means, |&mean, v, _| (v as f64 - mean).powi(2));
        means[channels].iter().zip(squares).map(|(&mean, sq)| (mean, sq / count as f64)).collect::<Vec<_>>()
    })
    .concat();
    for (ch, &(mean, var)) in moments.iter().enumerate() {
        cache.mean[ch] = mean as f32;
        cache.rstd[ch] = (1.0 / (var + eps as f64).sqrt()) as f32;
    }
    apply_affine(x, y, gamma, beta, cache.mean, cache.rstd, dims);
    let batch_var: Vec<f64> = moments.iter().map(|m| m.1).collect();
    if let Some(running) = running {
        *running.batches_tracked += 1.0;
        let momentum = running.momentum.unwrap_or(1.0 / *running.batches_tracked);
        for (ch, &var) in batch_var.iter().enumerate() {
            let unbiased = var * count as f64 / (count as f64 - 1.0);
            running.mean[ch] = (1.0 - momentum) * running.mean[ch] + momentum * cache.mean[ch];
            running.var[ch] = (1.0 - momentum) * running.var[ch] + momentum * unbiased as f32;
        }
    }
}

/// BatchNorm in eval mode: the running estimates replace the batch statistics.
/// Fills `cache` so the backward pass (a fixed affine map) can use it.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_eval(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    running_mean: &[f32],
    running_var: &[f32],
    (n, c, s): (usize, usize, usize),
    eps: f32,
) {
    for ch in 0..c {
        cache.mean[ch] = running_mean[ch];
        cache.rstd[ch] = 1.0 / (running_var[ch] + eps).sqrt();
    }
    apply_affine(x, y, gamma, beta, cache.mean, cache.rstd, (n, c, s));
}

/// `y = (x − mean)·rstd·γ + β` with one mean, rstd, γ and β per channel.
fn apply_affine(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dims: per_channel::Dims,
) {
    let per_channel: Vec<[f32; 4]> = (0..dims.1).map(|ch| [mean[ch], rstd[ch], gamma[ch], beta[ch]]).collect();
    per_channel::map(y, dims, x, x, &per_channel, |&[mean, rstd, gamma, beta], v, _| (v - mean) * rstd * gamma + beta);
}

/// Gradients of BatchNorm. In training the statistics depend on x, giving
/// `dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))` with `g = dy·γ` (means over the channel's
/// N·S elements); in eval they are constants and `dx = g · rstd`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    training: bool,
    (n, c, s): (usize, usize, usize),
) {
    let count = (n * s) as f64;
    let dims = (n, c, s);
    let stats: Vec<[f32; 2]> = mean.iter().zip(rstd).take(c).map(|(&mean, &rstd)| [mean, rstd]).collect();
    let x_hat = |v: f32, &[mean, rstd]: &[f32; 2]| ((v - mean) * rstd) as f64;
    // Per channel, Σ dy and Σ dy·x̂ (each thread sums a share of the channels).
    let sums: Vec<(f64, f64)> = parallel::map_shares(c, 2 * n * s, |channels| {
        let sum_dy = per_channel::sums(channels.clone(), dims, dy, dy, &stats, |_, g, _| g as f64);
        let sum_dy_xhat = per_channel::sums(channels, dims, dy, x, &stats, |st, g, v| g as f64 * x_hat(v, st));
        sum_dy.into_iter().zip(sum_dy_xhat).collect::<Vec<_>>()
    })
    .concat();
    for (ch, &(sum_dy, sum_dy_xhat)) in sums.iter().enumerate() {
        dgamma[ch] = sum_dy_xhat as f32;
        dbeta[ch] = sum_dy as f32;
    }
    // Per channel: the statistics, γ, rstd, γ·mean(dy) and γ·mean(dy·x̂).
    let terms: Vec<([f32; 2], [f64; 4])> = (0..c)
        .map(|ch| {
            let (gamma, rstd) = (gamma[ch] as f64, rstd[ch] as f64);
            (stats[ch], [gamma, rstd, gamma * sums[ch].0 / count, gamma * sums[ch].1 / count])
        })
        .collect();
    per_channel::map(dx, dims, dy, x, &terms, |(st, [gamma, rstd, g_mean, gx_mean]), dy, v| {
        let g = dy as f64 * gamma;
        if training {
            (rstd * (g - g_mean - x_hat(v, st) * gx_mean)) as f32
        } else {
            (g * rstd) as f32
        }
    });
}

/// The spread of one channel's deviations `d` for the L1 and L∞ variants of Lp normalization:
/// the mean of `|d|`, or its maximum.
fn lp_spread(deviations: &[f64], spread: Spread) -> f64 {
    let abs = deviations.iter().map(|d| d.abs());
    match spread {
        Spread::MeanAbs => abs.sum::<f64>() / deviations.len() as f64,
        Spread::MaxAbs => abs.fold(0.0, f64::max),
        Spread::StdDev => unreachable!("L2 normalization is BatchNorm: batch_norm_train"),
    }
}

/// Lp normalization in training (Santurkar et al. 2018, §3.3): BatchNorm's layout (per
/// channel over N and S) with the standard deviation replaced by the mean absolute deviation
/// (L1) or the largest one (L∞): `x̂ = d / sqrt(s² + eps)`, `d = x − μ`. The running variance
/// tracks `s²` itself, so eval mode is [`batch_norm_eval`].
#[allow(clippy::too_many_arguments)]
pub fn lp_norm_train(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    running: Option<Running>,
    (n, c, s): (usize, usize, usize),
    eps: f32,
    spread: Spread,
) {
    let mut batch_spread_sq = vec![0.0f64; c];
    for ch in 0..c {
        let values: Vec<usize> = (0..n).flat_map(|i| (0..s).map(move |p| (i * c + ch) * s + p)).collect();
        let mean = values.iter().map(|&i| x[i] as f64).sum::<f64>() / values.len() as f64;
        cache.mean[ch] = mean as f32;
        // Deviations as the GPU forms them: in f32, from the f32 mean.
        let deviations: Vec<f64> = values.iter().map(|&i| (x[i] - cache.mean[ch]) as f64).collect();
        let spread_sq = lp_spread(&deviations, spread).powi(2);
        cache.rstd[ch] = (1.0 / (spread_sq + eps as f64).sqrt()) as f32;
        batch_spread_sq[ch] = spread_sq;
        for (&i, &d) in values.iter().zip(&deviations) {
            y[i] = (d * cache.rstd[ch] as f64) as f32 * gamma[ch] + beta[ch];
        }
    }
    if let Some(running) = running {
        *running.batches_tracked += 1.0;
        let momentum = running.momentum.unwrap_or(1.0 / *running.batches_tracked);
        for (ch, &spread_sq) in batch_spread_sq.iter().enumerate() {
            running.mean[ch] = (1.0 - momentum) * running.mean[ch] + momentum * cache.mean[ch];
            running.var[ch] = (1.0 - momentum) * running.var[ch] + momentum * spread_sq as f32;
        }
    }
}

/// Gradients of [`lp_norm_train`]. With `rstd = (s² + eps)^(−1/2)`, a change of one deviation
/// moves the output both directly and through `s`:
/// `dx = rstd · (g − mean(g) − Σ(g·x̂) · (u − mean(u)))`, `u_i = rstd · s · ∂s/∂d_i`, where
/// `∂s/∂d_i = sign(d_i)/M` for L1, and for L∞ `sign(d_i)/ties` at the elements whose `|d|`
/// is the maximum (0 elsewhere).
#[allow(clippy::too_many_arguments)]
pub fn lp_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    (n, c, s): (usize, usize, usize),
    spread: Spread,
) {
    for ch in 0..c {
        let values: Vec<usize> = (0..n).flat_map(|i| (0..s).map(move |p| (i * c + ch) * s + p)).collect();
        let count = values.len() as f64;
        let r = rstd[ch] as f64;
        let deviations: Vec<f64> = values.iter().map(|&i| (x[i] - mean[ch]) as f64).collect();
        let x_hat: Vec<f64> = deviations.iter().map(|d| d * r).collect();
        let s_value = lp_spread(&deviations, spread);
        let moves = |d: f64| spread == Spread::MeanAbs || d.abs() == s_value;
        let movers = deviations.iter().filter(|&&d| moves(d)).count().max(1) as f64;
        // sign(0) = 0, as WGSL's sign(): a channel with no spread passes no gradient through s.
        let sign = |d: f64| if d == 0.0 { 0.0 } else { d.signum() };
        let u: Vec<f64> =
            deviations.iter().map(|&d| if moves(d) { r * s_value * sign(d) / movers } else { 0.0 }).collect();
        let u_mean = u.iter().sum::<f64>() / count;
        let dy_of = |k: usize| dy[values[k]] as f64;
        let sum_dy: f64 = (0..values.len()).map(dy_of).sum();
        let sum_dy_xhat: f64 = (0..values.len()).map(|k| dy_of(k) * x_hat[k]).sum();
        dgamma[ch] = sum_dy_xhat as f32;
        dbeta[ch] = sum_dy as f32;
        let gm = gamma[ch] as f64;
        let (g_mean, g_xhat_sum) = (gm * sum_dy / count, gm * sum_dy_xhat);
        for (k, &i) in values.iter().enumerate() {
            dx[i] = (r * (gm * dy_of(k) - g_mean - g_xhat_sum * (u[k] - u_mean))) as f32;
        }
    }
}
