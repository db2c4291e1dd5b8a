//! CPU twin of `shaders/bias.wgsl`: a per-channel bias on `[N, C, S]` (S = 1 after a
//! linear layer, H·W after a convolution).

use super::parallel;

/// `y[n, c, s] += bias[c]`.
pub fn bias_add(y: &mut [f32], bias: &[f32], (batch, channels, spatial): (usize, usize, usize)) {
    // Row r of the [N·C, S] view belongs to channel r mod C.
    let spatial = spatial.max(1);
    parallel::for_each_share_mut(&mut y[..batch * channels * spatial], spatial, spatial, |first, rows| {
        for (i, values) in rows.chunks_exact_mut(spatial).enumerate() {
            let b = bias[(first + i) % channels];
            values.iter_mut().for_each(|v| *v += b);
        }
    });
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
