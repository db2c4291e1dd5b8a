//! CPU twins of the span norms of `shaders/norm.wgsl`: LayerNorm, RMSNorm, InstanceNorm
//! and GroupNorm, whose statistics lie within one sample. Layout `[N, C, S]`; sums in f64.
//!
//! LayerNorm, RMSNorm, InstanceNorm and GroupNorm each take their statistics over one
//! contiguous span of a sample: all its C·S values (LayerNorm, RMSNorm), one group's C/G·S
//! (GroupNorm) or one channel's S (InstanceNorm). Within a span, γ and β change every
//! `run` values: per element for LayerNorm and RMSNorm (run 1), per channel for the others
//! (run S). The helpers below do one span; each norm says how its tensor splits into spans.

use super::norm::NormCache;
use super::per_channel;

/// Mean and `1/sqrt(var + eps)` of one span (biased variance; RMSNorm passes
/// `centre = false`, giving `1/sqrt(mean(x²) + eps)` and a mean of 0).
fn moments(values: &[f32], centre: bool, eps: f32) -> (f32, f32) {
    let count = values.len() as f64;
    let mean = if centre { per_channel::interleaved_sum(values, values, |v, _| v as f64) / count } else { 0.0 };
    let var = per_channel::interleaved_sum(values, values, |v, _| (v as f64 - mean).powi(2)) / count;
    (mean as f32, (1.0 / (var + eps as f64).sqrt()) as f32)
}

/// `y = (x − mean)·rstd·γ + β` over one span, γ and β changing every `run` values.
fn span_forward(x: &[f32], y: &mut [f32], gamma: &[f32], beta: &[f32], run: usize, (mean, rstd): (f32, f32)) {
    if run == 1 {
        for (((out, &v), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
            *out = (v - mean) * rstd * g + b;
        }
        return;
    }
    for (((values, &g), &b), out) in x.chunks(run).zip(gamma).zip(beta).zip(y.chunks_mut(run)) {
        for (out, &v) in out.iter_mut().zip(values) {
            *out = (v - mean) * rstd * g + b;
        }
    }
}

/// Gradients over one span: `dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))` with `g = dy·γ`
/// and `x̂ = (x − mean)·rstd` (`centre = false` drops the `mean(g)` term, for RMSNorm);
/// adds `Σ dy·x̂` and `Σ dy` of each run to `dgamma` and `dbeta`.
#[allow(clippy::too_many_arguments)]
fn span_backward(
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    gamma: &[f32],
    run: usize,
    (mean, rstd): (f32, f32),
    centre: bool,
    dgamma: &mut [f64],
    dbeta: &mut [f64],
) {
    let x_hat = |v: f32| ((v - mean) * rstd) as f64;
    // Per run: Σ dy and Σ dy·x̂ (γ's and β's gradients); over the span, Σ g and Σ g·x̂.
    let (mut sum_g, mut sum_gx) = (0.0f64, 0.0f64);
    let mut add_run = |dy_sum: f64, dy_xhat: f64, gm: f32, dg: &mut f64, db: &mut f64| {
        *dg += dy_xhat;
        *db += dy_sum;
        sum_g += dy_sum * gm as f64;
        sum_gx += dy_xhat * gm as f64;
    };
    let params = gamma.iter().zip(dgamma.iter_mut().zip(dbeta.iter_mut()));
    if run == 1 {
        for ((&v, &d), (&gm, (dg, db))) in x.iter().zip(dy).zip(params) {
            add_run(d as f64, d as f64 * x_hat(v), gm, dg, db);
        }
    } else {
        for ((values, grads), (&gm, (dg, db))) in x.chunks(run).zip(dy.chunks(run)).zip(params) {
            let dy_sum = per_channel::interleaved_sum(grads, grads, |d, _| d as f64);
            let dy_xhat = per_channel::interleaved_sum(grads, values, |d, v| d as f64 * x_hat(v));
            add_run(dy_sum, dy_xhat, gm, dg, db);
        }
    }
    let count = x.len() as f64;
    let g_mean = if centre { sum_g / count } else { 0.0 };
    let gx_mean = sum_gx / count;
    let dx_of = |v: f32, d: f32, gm: f32| (rstd as f64 * (d as f64 * gm as f64 - g_mean - x_hat(v) * gx_mean)) as f32;
    if run == 1 {
        for (((out, &v), &d), &gm) in dx.iter_mut().zip(x).zip(dy).zip(gamma) {
            *out = dx_of(v, d, gm);
        }
    } else {
        for (((out, values), grads), &gm) in dx.chunks_mut(run).zip(x.chunks(run)).zip(dy.chunks(run)).zip(gamma) {
            for ((out, &v), &d) in out.iter_mut().zip(values).zip(grads) {
                *out = dx_of(v, d, gm);
            }
        }
    }
}

/// `nn.LayerNorm((C, H, W))`: each sample's C·S values share one mean and variance;
/// γ and β have one entry per (channel, position).
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    (n, c, s): (usize, usize, usize),
    eps: f32,
) {
    let features = c * s;
    for (sample, (row, out)) in x.chunks(features).zip(y.chunks_mut(features)).take(n).enumerate() {
        let stats = moments(row, true, eps);
        (cache.mean[sample], cache.rstd[sample]) = stats;
        span_forward(row, out, gamma, beta, 1, stats);
    }
}

#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    (n, c, s): (usize, usize, usize),
) {
    let features = c * s;
    let mut dgamma_sum = vec![0.0f64; features];
    let mut dbeta_sum = vec![0.0f64; features];
    for sample in 0..n {
        let span = sample * features..(sample + 1) * features;
        let stats = (mean[sample], rstd[sample]);
        let (x, dy, dx) = (&x[span.clone()], &dy[span.clone()], &mut dx[span]);
        span_backward(x, dy, dx, gamma, 1, stats, true, &mut dgamma_sum, &mut dbeta_sum);
    }
    store(dgamma, &dgamma_sum);
    store(dbeta, &dbeta_sum);
}

/// `nn.RMSNorm((C, H, W))`: like LayerNorm without centring, `y = x / sqrt(mean(x²) + eps) · γ`.
/// PyTorch's RMSNorm has no β; the lab passes zeros.
#[allow(clippy::too_many_arguments)]
pub fn rms_norm_forward(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    (n, c, s): (usize, usize, usize),
    eps: f32,
) {
    let features = c * s;
    for (sample, (row, out)) in x.chunks(features).zip(y.chunks_mut(features)).take(n).enumerate() {
        let stats = moments(row, false, eps);
        (cache.mean[sample], cache.rstd[sample]) = stats;
        span_forward(row, out, gamma, beta, 1, stats);
    }
}

#[allow(clippy::too_many_arguments)]
pub fn rms_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    (n, c, s): (usize, usize, usize),
) {
    let features = c * s;
    let mut dgamma_sum = vec![0.0f64; features];
    let mut dbeta_sum = vec![0.0f64; features];
    for (sample, &r) in rstd.iter().enumerate().take(n) {
        let span = sample * features..(sample + 1) * features;
        let (x, dy, dx) = (&x[span.clone()], &dy[span.clone()], &mut dx[span]);
        span_backward(x, dy, dx, gamma, 1, (0.0, r), false, &mut dgamma_sum, &mut dbeta_sum);
    }
    store(dgamma, &dgamma_sum);
    store(dbeta, &dbeta_sum);
}

/// `nn.InstanceNorm2d(C, affine)`: each (sample, channel) normalizes over its own S
/// positions; γ and β per channel. No running statistics (PyTorch's default).
#[allow(clippy::too_many_arguments)]
pub fn instance_norm_forward(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    (n, c, s): (usize, usize, usize),
    eps: f32,
) {
    let planes = x.chunks(s).zip(y.chunks_mut(s)).take(n * c);
    for (stat, (plane, out)) in planes.enumerate() {
        let stats = moments(plane, true, eps);
        (cache.mean[stat], cache.rstd[stat]) = stats;
        let ch = stat % c;
        span_forward(plane, out, &gamma[ch..=ch], &beta[ch..=ch], s, stats);
    }
}

#[allow(clippy::too_many_arguments)]
pub fn instance_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    (n, c, s): (usize, usize, usize),
) {
    let mut dgamma_sum = vec![0.0f64; c];
    let mut dbeta_sum = vec![0.0f64; c];
    for stat in 0..n * c {
        let (ch, plane) = (stat % c, stat * s..(stat + 1) * s);
        let (x, dy, dx) = (&x[plane.clone()], &dy[plane.clone()], &mut dx[plane]);
        let (dg, db) = (&mut dgamma_sum[ch..=ch], &mut dbeta_sum[ch..=ch]);
        span_backward(x, dy, dx, &gamma[ch..=ch], s, (mean[stat], rstd[stat]), true, dg, db);
    }
    store(dgamma, &dgamma_sum);
    store(dbeta, &dbeta_sum);
}

/// `nn.GroupNorm(G, C)`: each sample's channels are split into G groups of C/G; a group's
/// (C/G)·S values share one mean and variance; γ and β per channel.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_forward(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    (n, c, s): (usize, usize, usize),
    groups: usize,
    eps: f32,
) {
    let per_group = c / groups;
    let spans = x.chunks(per_group * s).zip(y.chunks_mut(per_group * s)).take(n * groups);
    for (stat, (span, out)) in spans.enumerate() {
        let stats = moments(span, true, eps);
        (cache.mean[stat], cache.rstd[stat]) = stats;
        let channels = (stat % groups) * per_group..(stat % groups + 1) * per_group;
        span_forward(span, out, &gamma[channels.clone()], &beta[channels], s, stats);
    }
}

#[allow(clippy::too_many_arguments)]
pub fn group_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    (n, c, s): (usize, usize, usize),
    groups: usize,
) {
    let per_group = c / groups;
    let mut dgamma_sum = vec![0.0f64; c];
    let mut dbeta_sum = vec![0.0f64; c];
    for stat in 0..n * groups {
        let span = stat * per_group * s..(stat + 1) * per_group * s;
        let channels = (stat % groups) * per_group..(stat % groups + 1) * per_group;
        let (x, dy, dx) = (&x[span.clone()], &dy[span.clone()], &mut dx[span]);
        let (dg, db) = (&mut dgamma_sum[channels.clone()], &mut dbeta_sum[channels.clone()]);
        span_backward(x, dy, dx, &gamma[channels], s, (mean[stat], rstd[stat]), true, dg, db);
    }
    store(dgamma, &dgamma_sum);
    store(dbeta, &dbeta_sum);
}

fn store(out: &mut [f32], sums: &[f64]) {
    for (o, v) in out.iter_mut().zip(sums) {
        *o = *v as f32;
    }
}
