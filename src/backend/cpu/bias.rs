//! CPU twin of `shaders/bias.wgsl`: a per-channel bias on `[N, C, S]` (S = 1 after a
//! linear layer, H·W after a convolution).

use super::{parallel, per_channel};

/// `y[n, c, s] += bias[c]`.
pub fn bias_add(y: &mut [f32], bias: &[f32], (n, c, s): (usize, usize, usize)) {
    let sample_len = c * s;
    if sample_len == 0 {
        return;
    }
    parallel::for_each_share_mut(&mut y[..n * sample_len], sample_len, sample_len, |_, samples| {
        for sample in samples.chunks_exact_mut(sample_len) {
            if s == 1 {
                sample.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
            } else {
                for (row, &b) in sample.chunks_exact_mut(s).zip(bias) {
                    row.iter_mut().for_each(|v| *v += b);
                }
            }
        }
    });
}

/// `dbias[c] = Σ_{n, s} dy[n, c, s]`.
pub fn bias_grad(dy: &[f32], dbias: &mut [f32], dims: (usize, usize, usize)) {
    let sums = per_channel::sums_of_all(dims, dy, dy, &vec![(); dims.1], |_, g, _| g as f64);
    for (out, sum) in dbias.iter_mut().zip(sums) {
        *out = sum as f32;
    }
}
