//! The lab's counter-based random numbers, shared by both backends (the CPU's closures and
//! the host side of `shaders/random.wgsl`, which repeats the same arithmetic in WGSL).
//!
//! A random number is a pure function of `(stream, step, i)`: a layer's stream (drawn from
//! the run's seed when the model is built), the optimizer step (the `u32` both backends
//! receive with `Backend::begin_step`, exact at any step count) and the element. So nothing
//! is stored between steps, and both backends draw exactly the same dropout masks and
//! channel noise. [`pcg_hash`] is plain wrapping `u32` arithmetic, and [`uniform`] keeps
//! 24 bits, which an `f32` holds exactly.

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
}
