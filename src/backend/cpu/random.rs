//! CPU twin of `shaders/random.wgsl`: the lab's counter-based random numbers, inverted
//! dropout and noisy per-channel scale and shift.
//!
//! The random numbers come from `backend::random`, which both backends share: a pure
//! function of `(stream, step, i)`, so nothing is stored between steps and the GPU draws
//! exactly the same numbers.

use crate::backend::random::{keep_scale, uniform};

/// Inverted dropout (`nn.Dropout` in training): element `i` is dropped when
/// `uniform(stream, step, i) < p`. `mask[i]` is `1/(1−p)` if kept, 0 if dropped, so the
/// expected value of `y = x·mask` is `x` and evaluation needs no rescaling.
pub fn dropout_forward(x: &[f32], y: &mut [f32], mask: &mut [f32], p: f32, stream: u32, step: u32) {
    let scale = keep_scale(p);
    for i in 0..x.len() {
        let kept = uniform(stream, step, i as u32) >= p;
        mask[i] = if kept { scale } else { 0.0 };
        y[i] = x[i] * mask[i];
    }
}

/// `dx = dy·mask`: the gradient flows only through the kept elements, scaled like them.
pub fn dropout_backward(dy: &[f32], mask: &[f32], dx: &mut [f32]) {
    for i in 0..dy.len() {
        dx[i] = dy[i] * mask[i];
    }
}

/// The random scale and shift of channel `c`: `(1 + strength·u1, strength·(2·u2 − 1))` with
/// `u1 = uniform(stream, step, 2c)`, `u2 = uniform(stream, step, 2c + 1)`.
pub fn channel_noise(c: usize, strength: f32, stream: u32, step: u32) -> (f32, f32) {
    let u1 = uniform(stream, step, 2 * c as u32);
    let u2 = uniform(stream, step, 2 * c as u32 + 1);
    (1.0 + strength * u1, strength * (2.0 * u2 - 1.0))
}

/// "Noisy BatchNorm" (Santurkar et al. 2018, "How Does Batch Normalization Help
/// Optimization?", §2.1): after a normalization, every channel gets a random scale and
/// shift that change each step, so the layer's output distribution keeps moving. On
/// `[N, C, S]`: `noise[2c] = scale_c`, `noise[2c + 1] = shift_c`, `y = x·scale_c + shift_c`.
pub fn channel_noise_forward(
    x: &[f32],
    y: &mut [f32],
    noise: &mut [f32],
    (n, c, s): (usize, usize, usize),
    strength: f32,
    stream: u32,
    step: u32,
) {
    for ch in 0..c {
        let (scale, shift) = channel_noise(ch, strength, stream, step);
        noise[2 * ch] = scale;
        noise[2 * ch + 1] = shift;
        for sample in 0..n {
            let base = (sample * c + ch) * s;
            for i in base..base + s {
                y[i] = x[i] * scale + shift;
            }
        }
    }
}

/// `dx = dy·scale_c`: the shift is a constant and the scale a constant factor.
pub fn channel_noise_backward(dy: &[f32], noise: &[f32], dx: &mut [f32], (n, c, s): (usize, usize, usize)) {
    for sample in 0..n {
        for ch in 0..c {
            let scale = noise[2 * ch];
            let base = (sample * c + ch) * s;
            for i in base..base + s {
                dx[i] = dy[i] * scale;
            }
        }
    }
}
