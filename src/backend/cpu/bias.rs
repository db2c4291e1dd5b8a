//! CPU twin of `shaders/bias.wgsl`: a per-channel bias on `[N, C, S]` (S = 1 after a
//! linear layer, H·W after a convolution).

/// `y[n, c, s] += bias[c]`.
pub fn bias_add(y: &mut [f32], bias: &[f32], (batch, channels, spatial): (usize, usize, usize)) {
    for (i, v) in y[..batch * channels * spatial].iter_mut().enumerate() {
        *v += bias[(i / spatial) % channels];
    }
}

/// `dbias[c] = Σ_{n, s} dy[n, c, s]`.
pub fn bias_grad(dy: &[f32], dbias: &mut [f32], (batch, channels, spatial): (usize, usize, usize)) {
    for (c, out) in dbias[..channels].iter_mut().enumerate() {
        let mut sum = 0.0f64;
        for n in 0..batch {
            let start = (n * channels + c) * spatial;
            sum += dy[start..start + spatial].iter().map(|&v| v as f64).sum::<f64>();
        }
        *out = sum as f32;
    }
}
