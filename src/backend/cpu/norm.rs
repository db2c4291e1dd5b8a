//! CPU twin of `shaders/norm.wgsl`.
//!
//! The GPU has one kernel family parameterised by which elements share a statistic; here
//! each kind is written out plainly, as a textbook would, so that the two check each other.
//! Layout is `[N, C, S]` with S = H·W (S = 1 for a fully connected layer).
//! Sums are accumulated in f64: this is the reference the GPU is measured against.

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
}

/// `nn.BatchNorm1d` / `nn.BatchNorm2d` in training mode: per channel, the mean and *biased*
/// variance over (N, S) normalize; the running variance is updated with the *unbiased* one,
/// `running = (1 − momentum)·running + momentum·batch`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    running: Option<(Running, f32)>,
    (n, c, s): (usize, usize, usize),
    eps: f32,
) {
    let count = n * s;
    let mut batch_var = vec![0.0f64; c];
    for ch in 0..c {
        let values = || (0..n).flat_map(move |i| (0..s).map(move |p| (i * c + ch) * s + p));
        let mean = values().map(|i| x[i] as f64).sum::<f64>() / count as f64;
        let var = values().map(|i| (x[i] as f64 - mean).powi(2)).sum::<f64>() / count as f64;
        cache.mean[ch] = mean as f32;
        cache.rstd[ch] = (1.0 / (var + eps as f64).sqrt()) as f32;
        batch_var[ch] = var;
        for i in values() {
            let x_hat = (x[i] - cache.mean[ch]) * cache.rstd[ch];
            y[i] = x_hat * gamma[ch] + beta[ch];
        }
    }
    if let Some((running, momentum)) = running {
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
    for i in 0..n * c * s {
        let ch = (i / s) % c;
        y[i] = (x[i] - cache.mean[ch]) * cache.rstd[ch] * gamma[ch] + beta[ch];
    }
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
    for ch in 0..c {
        let values = || (0..n).flat_map(move |i| (0..s).map(move |p| (i * c + ch) * s + p));
        let x_hat = |i: usize| ((x[i] - mean[ch]) * rstd[ch]) as f64;
        let sum_dy: f64 = values().map(|i| dy[i] as f64).sum();
        let sum_dy_xhat: f64 = values().map(|i| dy[i] as f64 * x_hat(i)).sum();
        dgamma[ch] = sum_dy_xhat as f32;
        dbeta[ch] = sum_dy as f32;
        let g_mean = gamma[ch] as f64 * sum_dy / count;
        let gx_mean = gamma[ch] as f64 * sum_dy_xhat / count;
        for i in values() {
            let g = dy[i] as f64 * gamma[ch] as f64;
            dx[i] = if training {
                (rstd[ch] as f64 * (g - g_mean - x_hat(i) * gx_mean)) as f32
            } else {
                (g * rstd[ch] as f64) as f32
            };
        }
    }
}

/// `nn.GroupNorm(G, C)` on one sample at a time, which also covers `nn.InstanceNorm2d`
/// (G = C), `nn.LayerNorm` over (C, H, W) (G = 1, affine per element) and `nn.RMSNorm`
/// (G = 1, no centring: `x / sqrt(mean(x²) + eps)`). Statistics never mix samples.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_forward(
    x: &[f32],
    y: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    cache: NormCache,
    (n, c, s): (usize, usize, usize),
    groups: usize,
    affine_per_element: bool,
    subtract_mean: bool,
    eps: f32,
) {
    let per_group = c / groups;
    for sample in 0..n {
        for g in 0..groups {
            let stat = sample * groups + g;
            let start = (sample * c + g * per_group) * s;
            let span = &x[start..start + per_group * s];
            let count = span.len() as f64;
            let mean = if subtract_mean { span.iter().map(|&v| v as f64).sum::<f64>() / count } else { 0.0 };
            let var = span.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / count;
            cache.mean[stat] = mean as f32;
            cache.rstd[stat] = (1.0 / (var + eps as f64).sqrt()) as f32;
            for (offset, &v) in span.iter().enumerate() {
                let ch = g * per_group + offset / s;
                let a = if affine_per_element { ch * s + offset % s } else { ch };
                y[start + offset] = (v - cache.mean[stat]) * cache.rstd[stat] * gamma[a] + beta[a];
            }
        }
    }
}

/// Gradients of [`group_norm_forward`].
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
    affine_per_element: bool,
    subtract_mean: bool,
) {
    let per_group = c / groups;
    let mut dgamma_acc = vec![0.0f64; dgamma.len()];
    let mut dbeta_acc = vec![0.0f64; dbeta.len()];
    for sample in 0..n {
        for g in 0..groups {
            let stat = sample * groups + g;
            let start = (sample * c + g * per_group) * s;
            let len = per_group * s;
            let affine_index = |offset: usize| {
                let ch = g * per_group + offset / s;
                if affine_per_element {
                    ch * s + offset % s
                } else {
                    ch
                }
            };
            let x_hat = |offset: usize| ((x[start + offset] - mean[stat]) * rstd[stat]) as f64;
            let mut sum_g = 0.0f64;
            let mut sum_g_xhat = 0.0f64;
            for offset in 0..len {
                let a = affine_index(offset);
                let d = dy[start + offset] as f64;
                dgamma_acc[a] += d * x_hat(offset);
                dbeta_acc[a] += d;
                let gv = d * gamma[a] as f64;
                sum_g += gv;
                sum_g_xhat += gv * x_hat(offset);
            }
            let count = len as f64;
            let g_mean = if subtract_mean { sum_g / count } else { 0.0 };
            for offset in 0..len {
                let gv = dy[start + offset] as f64 * gamma[affine_index(offset)] as f64;
                dx[start + offset] = (rstd[stat] as f64 * (gv - g_mean - x_hat(offset) * sum_g_xhat / count)) as f32;
            }
        }
    }
    for (out, v) in dgamma.iter_mut().zip(dgamma_acc) {
        *out = v as f32;
    }
    for (out, v) in dbeta.iter_mut().zip(dbeta_acc) {
        *out = v as f32;
    }
}
