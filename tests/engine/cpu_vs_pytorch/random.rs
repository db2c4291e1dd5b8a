//! Dropout and channel noise: statistics and exact formulas.

use super::*;

// ---------------------------------------------------------------------------------------
// Dropout and channel noise: statistics and exact formulas (PyTorch's random numbers are
// its own, so these check the definitions instead of a fixture)
// ---------------------------------------------------------------------------------------

const RANDOM_LEN: usize = 100_000;

/// What one dropout forward and backward produced.
struct DropoutRun {
    x: Vec<f32>,
    y: Vec<f32>,
    mask: Vec<f32>,
    dy: Vec<f32>,
    dx: Vec<f32>,
}

fn run_dropout(len: usize, p: f32, stream: u32, step: u32) -> DropoutRun {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    // Never zero, so that a zero in y can only come from the mask.
    let x: Vec<f32> = (0..len).map(|_| rng.random_range(0.5f32..2.0) * if rng.random() { 1.0 } else { -1.0 }).collect();
    let dy: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let mut b = CpuBackend::new();
    b.begin_step(StepScalars { learning_rate: 0.1, step });
    let x_id = tensor_from(&mut b, &x, "x");
    let dy_id = tensor_from(&mut b, &dy, "dy");
    let (y, mask, dx) = (nan_tensor(&mut b, len, "y"), nan_tensor(&mut b, len, "mask"), nan_tensor(&mut b, len, "dx"));
    b.dropout_forward(x_id, y, mask, len, p, stream);
    b.dropout_backward(dy_id, mask, dx, len);
    DropoutRun { y: read(&mut b, y, len), mask: read(&mut b, mask, len), dx: read(&mut b, dx, len), x, dy }
}

#[test]
fn dropout_of_one_drops_everything_as_pytorch() {
    // nn.Dropout(1.0): every output and every input gradient is zero.
    let f = Fixture::load("dropout__p1");
    let (x, dy) = (f.t("x"), f.t("dy"));
    let len = x.len();
    let mut b = CpuBackend::new();
    b.begin_step(StepScalars { learning_rate: 0.1, step: 1 });
    let (x_id, dy_id) = (tensor_from(&mut b, &x, "x"), tensor_from(&mut b, &dy, "dy"));
    let (y, mask, dx) = (nan_tensor(&mut b, len, "y"), nan_tensor(&mut b, len, "mask"), nan_tensor(&mut b, len, "dx"));
    b.dropout_forward(x_id, y, mask, len, f.attr_f32("p"), 7);
    b.dropout_backward(dy_id, mask, dx, len);
    assert_close("dropout p=1 y", &read(&mut b, y, len), &f.t("y"), 0.0, 0.0);
    assert_close("dropout p=1 dx", &read(&mut b, dx, len), &f.t("dx"), 0.0, 0.0);
}

/// `|count − n·p| ≤ 5·sqrt(n·p·(1−p))`: a binomial count five standard deviations out
/// happens once in about 3.5 million fair trials.
fn assert_binomial(what: &str, count: usize, n: usize, p: f64) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    let z = (count as f64 - mean) / sd;
    assert!(z.abs() <= 5.0, "{what}: {count} of {n}, expected {mean:.0} ± {sd:.0} (z = {z:.2})");
}

#[test]
fn dropout_drops_at_rate_p_and_scales_the_rest_by_one_over_one_minus_p() {
    for p in [0.1f32, 0.5, 0.9] {
        let r = run_dropout(RANDOM_LEN, p, 7, 3);
        let dropped = r.mask.iter().filter(|&&m| m == 0.0).count();
        assert_binomial(&format!("p = {p}: dropped"), dropped, RANDOM_LEN, p as f64);
        // Also in each tenth, so that drops are not bunched at one end.
        for (k, chunk) in r.mask.chunks(RANDOM_LEN / 10).enumerate() {
            let dropped = chunk.iter().filter(|&&m| m == 0.0).count();
            assert_binomial(&format!("p = {p}: dropped in tenth {k}"), dropped, chunk.len(), p as f64);
        }
        let scale = 1.0 / (1.0 - p);
        for i in 0..RANDOM_LEN {
            let m = r.mask[i];
            assert!(m == 0.0 || m == scale, "p = {p}: mask[{i}] = {m}, want 0 or exactly {scale}");
            assert_eq!(r.y[i], r.x[i] * m, "p = {p}: y[{i}] is not x·mask");
            assert_eq!(r.dx[i], r.dy[i] * m, "p = {p}: dx[{i}] is not dy·mask");
        }
    }
}

#[test]
fn dropout_mask_is_the_documented_hash() {
    use normlab::backend::random::uniform;
    let (p, stream, step) = (0.3, 11, 17);
    let r = run_dropout(4096, p, stream, step);
    for (i, &m) in r.mask.iter().enumerate() {
        let dropped = uniform(stream, step, i as u32) < p;
        assert_eq!(m == 0.0, dropped, "mask[{i}] = {m}, uniform = {}", uniform(stream, step, i as u32));
    }
}

#[test]
fn dropout_masks_depend_on_stream_and_step_only() {
    let p = 0.5;
    let first = run_dropout(RANDOM_LEN, p, 7, 3).mask;
    assert_eq!(run_dropout(RANDOM_LEN, p, 7, 3).mask, first, "same (stream, step): same mask");
    for (what, other) in [
        ("next step", run_dropout(RANDOM_LEN, p, 7, 4).mask),
        ("another stream", run_dropout(RANDOM_LEN, p, 8, 3).mask),
    ] {
        // Independent masks differ where exactly one of them drops: 2·p·(1−p) of the elements.
        let differ = first.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert_binomial(&format!("{what}: elements whose mask changed"), differ, RANDOM_LEN, 2.0 * 0.5 * 0.5);
    }
}

#[test]
fn dropout_with_p_0_keeps_everything_and_p_1_drops_everything() {
    let keep = run_dropout(1000, 0.0, 1, 1);
    assert!(keep.mask.iter().all(|&m| m == 1.0));
    assert_eq!(keep.y, keep.x);
    let drop = run_dropout(1000, 1.0, 1, 1);
    assert!(drop.mask.iter().all(|&m| m == 0.0));
    assert!(drop.y.iter().all(|&v| v == 0.0));
}

/// What one channel-noise forward and backward produced on `[N, C, S]`.
struct NoiseRun {
    x: Vec<f32>,
    y: Vec<f32>,
    noise: Vec<f32>,
    dy: Vec<f32>,
    dx: Vec<f32>,
}

fn run_channel_noise(shape: (usize, usize, usize), strength: f32, stream: u32, step: u32) -> NoiseRun {
    let len = shape.0 * shape.1 * shape.2;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let x: Vec<f32> = (0..len).map(|_| rng.random_range(-2.0f32..2.0)).collect();
    let dy: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let mut b = CpuBackend::new();
    b.begin_step(StepScalars { learning_rate: 0.1, step });
    let x_id = tensor_from(&mut b, &x, "x");
    let dy_id = tensor_from(&mut b, &dy, "dy");
    let (y, noise, dx) =
        (nan_tensor(&mut b, len, "y"), nan_tensor(&mut b, 2 * shape.1, "noise"), nan_tensor(&mut b, len, "dx"));
    b.channel_noise_forward(x_id, y, noise, shape, strength, stream);
    b.channel_noise_backward(dy_id, noise, dx, shape);
    NoiseRun { y: read(&mut b, y, len), noise: read(&mut b, noise, 2 * shape.1), dx: read(&mut b, dx, len), x, dy }
}

#[test]
fn channel_noise_draws_scale_and_shift_in_range() {
    use normlab::backend::random::uniform;
    let (channels, strength, stream, step) = (2000, 0.4f32, 5, 9);
    let r = run_channel_noise((2, channels, 1), strength, stream, step);
    let (scales, shifts): (Vec<f32>, Vec<f32>) = r.noise.chunks(2).map(|pair| (pair[0], pair[1])).unzip();
    for c in 0..channels {
        assert_eq!(scales[c], 1.0 + strength * uniform(stream, step, 2 * c as u32), "scale of channel {c}");
        assert_eq!(shifts[c], strength * (2.0 * uniform(stream, step, 2 * c as u32 + 1) - 1.0), "shift of channel {c}");
    }
    assert!(scales.iter().all(|s| (1.0..1.0 + strength).contains(s)), "a scale outside [1, 1 + strength)");
    assert!(shifts.iter().all(|s| (-strength..strength).contains(s)), "a shift outside [−strength, strength)");
    // Spread over the whole range: mean near the middle, extremes near the ends.
    let mean = |v: &[f32]| v.iter().map(|&a| a as f64).sum::<f64>() / v.len() as f64;
    // A uniform of width w has standard deviation w/sqrt(12); the mean of 2000 within 5 of theirs.
    let tolerance = 5.0 * (2.0 * strength as f64 / 12f64.sqrt()) / (channels as f64).sqrt();
    assert!((mean(&scales) - (1.0 + strength as f64 / 2.0)).abs() < tolerance, "scale mean {}", mean(&scales));
    assert!(mean(&shifts).abs() < tolerance, "shift mean {}", mean(&shifts));
    let max_scale = scales.iter().cloned().fold(f32::MIN, f32::max);
    let min_shift = shifts.iter().cloned().fold(f32::MAX, f32::min);
    assert!(max_scale > 1.0 + 0.99 * strength && min_shift < -0.99 * strength);
}

#[test]
fn channel_noise_applies_one_scale_and_shift_per_channel() {
    let (n, c, s) = (3, 7, 5);
    let r = run_channel_noise((n, c, s), 0.5, 2, 4);
    for i in 0..n * c * s {
        let ch = (i / s) % c;
        let (scale, shift) = (r.noise[2 * ch], r.noise[2 * ch + 1]);
        assert_eq!(r.y[i], r.x[i] * scale + shift, "y[{i}] (channel {ch})");
        assert_eq!(r.dx[i], r.dy[i] * scale, "dx[{i}] (channel {ch})");
    }
}

#[test]
fn channel_noise_changes_with_the_step_and_repeats_with_it() {
    let shape = (2, 16, 3);
    let first = run_channel_noise(shape, 0.3, 1, 10).noise;
    assert_eq!(run_channel_noise(shape, 0.3, 1, 10).noise, first);
    let next = run_channel_noise(shape, 0.3, 1, 11).noise;
    assert!(first.iter().zip(&next).all(|(a, b)| a != b), "every scale and shift changes from one step to the next");
    let other_stream = run_channel_noise(shape, 0.3, 2, 10).noise;
    assert!(first.iter().zip(&other_stream).all(|(a, b)| a != b));
    // Strength 0 is the identity.
    let off = run_channel_noise(shape, 0.0, 1, 10);
    assert_eq!(off.y, off.x);
    assert_eq!(off.dx, off.dy);
}
