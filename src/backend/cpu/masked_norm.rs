//! CPU twin of BatchNorm over the real tokens of padded sequences (`RowMask`, the masked
//! paths of `shaders/norm.wgsl`), written plainly per channel: the statistics come from
//! the real elements only, every element is normalized with them.
//!
//! As a function of its input this is `y = γ·(x − μ_real)/sqrt(σ²_real + eps) + β` over
//! every element, so its gradient is: for a real element BatchNorm's own form
//! `rstd·(g − Σ g/M − x̂·Σ g·x̂/M)`, the sums over every element (each output depends on
//! the statistic) and M the real elements' count; for a padding element, which moves no
//! statistic, `rstd·g`; and dγ, dβ sum over every element.

use super::norm::NormCache;
use crate::backend::RunningUpdate;

/// BatchNorm's running estimates and `num_batches_tracked`, which a masked pass reads even
/// when it does not update them (a channel without a real element normalizes with them).
pub struct Estimates<'a> {
    pub mean: &'a mut [f32],
    pub var: &'a mut [f32],
    pub batches_tracked: &'a mut f32,
}

/// Per channel of `[N, C, S]`: the flat indices of its elements, and whether each counts.
fn channel_elements(
    (n, c, s): (usize, usize, usize),
    channel: usize,
    real: &dyn Fn(usize, usize) -> bool,
) -> Vec<(usize, bool)> {
    (0..n).flat_map(|i| (0..s).map(move |p| ((i * c + channel) * s + p, real(i, channel)))).collect()
}

/// BatchNorm in training over the real elements: their mean and biased variance
/// normalize every element; the running estimates move with their unbiased variance. A
/// channel without a real element normalizes with the running estimates and keeps them.
#[allow(clippy::too_many_arguments)]
pub fn masked_batch_norm_train(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    running: Estimates,
    update: RunningUpdate,
    dims: (usize, usize, usize),
    eps: f32,
    real: &dyn Fn(usize, usize) -> bool,
) {
    let momentum = match update {
        RunningUpdate::Keep => None,
        RunningUpdate::Momentum(m) => Some(m),
        RunningUpdate::Cumulative => Some(1.0 / (*running.batches_tracked + 1.0)),
    };
    if momentum.is_some() {
        *running.batches_tracked += 1.0;
    }
    for ch in 0..dims.1 {
        let elements = channel_elements(dims, ch, real);
        let values: Vec<f64> = elements.iter().filter(|e| e.1).map(|&(i, _)| x[i] as f64).collect();
        let count = values.len();
        if count == 0 {
            cache.mean[ch] = running.mean[ch];
            cache.rstd[ch] = 1.0 / (running.var[ch] + eps).sqrt();
        } else {
            let mean = values.iter().sum::<f64>() / count as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count as f64;
            cache.mean[ch] = mean as f32;
            cache.rstd[ch] = (1.0 / (var + eps as f64).sqrt()) as f32;
            if let Some(m) = momentum {
                let unbiased = var * count as f64 / (count.max(2) - 1) as f64;
                running.mean[ch] = (1.0 - m) * running.mean[ch] + m * cache.mean[ch];
                running.var[ch] = (1.0 - m) * running.var[ch] + m * unbiased as f32;
            }
        }
        for (i, _) in elements {
            y[i] = (x[i] - cache.mean[ch]) * cache.rstd[ch] * gamma[ch] + beta[ch];
        }
    }
}

/// Gradients of [`masked_batch_norm_train`] (see the module's note).
#[allow(clippy::too_many_arguments)]
pub fn masked_batch_norm_backward(
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    dims: (usize, usize, usize),
    real: &dyn Fn(usize, usize) -> bool,
) {
    for ch in 0..dims.1 {
        let elements = channel_elements(dims, ch, real);
        let (r, gm) = (rstd[ch] as f64, gamma[ch] as f64);
        let x_hat = |i: usize| (x[i] - mean[ch]) as f64 * r;
        let sum_dy: f64 = elements.iter().map(|&(i, _)| dy[i] as f64).sum();
        let sum_dy_xhat: f64 = elements.iter().map(|&(i, _)| dy[i] as f64 * x_hat(i)).sum();
        let count = elements.iter().filter(|e| e.1).count();
        dgamma[ch] = sum_dy_xhat as f32;
        dbeta[ch] = sum_dy as f32;
        let m = count.max(1) as f64;
        for (i, counts) in elements {
            let g = dy[i] as f64 * gm;
            dx[i] = if counts { r * (g - gm * sum_dy / m - x_hat(i) * gm * sum_dy_xhat / m) } else { r * g } as f32;
        }
    }
}
