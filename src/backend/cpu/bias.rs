//! CPU twin of `shaders/bias.wgsl`.

/// `y[r, c] += bias[c]`.
pub fn bias_add(y: &mut [f32], bias: &[f32], rows: usize, cols: usize) {
    for row in y[..rows * cols].chunks_exact_mut(cols) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// `dbias[c] = Σ_r dy[r, c]`.
pub fn bias_grad(dy: &[f32], dbias: &mut [f32], rows: usize, cols: usize) {
    for (c, out) in dbias[..cols].iter_mut().enumerate() {
        let mut sum = 0.0f64;
        for r in 0..rows {
            sum += dy[r * cols + c] as f64;
        }
        *out = sum as f32;
    }
}
