//! CPU twin of `shaders/random.wgsl`: the lab's counter-based random numbers, inverted
//! dropout and noisy per-channel scale and shift.
//!
//! A random number is a pure function of `(stream, step, i)`, so nothing is stored between
//! steps and the GPU draws exactly the same numbers: [`pcg_hash`] is the same wrapping
//! `u32` arithmetic as the shader's, and [`uniform`] keeps 24 bits, which an `f32` holds
//! exactly.

/// PCG's output permutation on a one-step LCG (Jarzynski & Olano 2020, "Hash Functions
/// for GPU Rendering"): a good 32-bit hash from a handful of integer operations.
pub fn pcg_hash(x: u32) -> u32 {
    let state = x.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// A uniform number in `[0, 1)` for element `i` of `stream` at optimizer step `step`.
pub fn uniform(stream: u32, step: u32, i: u32) -> f32 {
    let bits = pcg_hash(i ^ pcg_hash(step ^ pcg_hash(stream)));
    (bits >> 8) as f32 / 16_777_216.0
}

/// The step number exactly as the shader sees it: the GPU's per-step uniform holds
/// `max(step, 1)` as an `f32` (see `StepUniform` in `gpu/optim.rs`) and the shader reads
/// it back with `u32(step.t)`. Going through the same conversion keeps the masks
/// identical even past 2^24 steps, where an `f32` rounds.
pub fn step_as_on_gpu(step: u32) -> u32 {
    step.max(1) as f32 as u32
}

/// What a kept element is multiplied by: `1/(1−p)`, or 0 when everything is dropped.
/// Computed once in f32 on the host for both backends (WGSL division is not correctly
/// rounded, so the shader receives this value instead of dividing itself).
pub fn keep_scale(p: f32) -> f32 {
    if p < 1.0 {
        1.0 / (1.0 - p)
    } else {
        0.0
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg_hash_matches_known_values() {
        // Computed independently (Python, masking to 32 bits after every operation).
        assert_eq!(pcg_hash(0), 129_708_002);
        assert_eq!(pcg_hash(1), 2_831_084_092);
        assert_eq!(pcg_hash(12_345), 4_099_845_390);
        assert_eq!(uniform(0, 1, 0), 13_339_483.0 / 16_777_216.0);
        assert_eq!(uniform(3, 7, 11), 12_951_295.0 / 16_777_216.0);
    }

    #[test]
    fn uniform_is_in_the_unit_interval() {
        for i in 0..10_000 {
            let u = uniform(7, 3, i);
            assert!((0.0..1.0).contains(&u), "uniform(7, 3, {i}) = {u}");
        }
    }

    #[test]
    fn keep_scale_handles_the_edges() {
        assert_eq!(keep_scale(0.0), 1.0);
        assert_eq!(keep_scale(0.5), 2.0);
        assert_eq!(keep_scale(1.0), 0.0);
    }

    #[test]
    fn step_goes_through_f32_like_the_gpu() {
        assert_eq!(step_as_on_gpu(0), 1);
        assert_eq!(step_as_on_gpu(5), 5);
        assert_eq!(step_as_on_gpu((1 << 24) + 1), 1 << 24);
    }
}
