//! Dropout and channel noise (bit-identical masks), clipping (norm types, NaN), views of
//! a tensor, and the order of uploads among recorded work.

use super::*;

/// Dropout at two steps recorded back to back: the masks come from integer hashing and
/// must be bit-identical to the CPU's, and each step must draw with its own step number.
pub(super) async fn dropout(p: &mut Pair<'_>, len: usize, drop: f32, stream: u32) -> Result<(), String> {
    let name = format!("dropout len={len} p={drop} stream={stream}");
    let x = p.random(len, -3.0, 3.0, "x")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let mut steps = Vec::new();
    for step in [1u32, 2] {
        let (y, mask, dx) = (p.output(len, "y")?, p.output(len, "mask")?, p.output(len, "dx")?);
        p.both(|be, _| be.begin_step(StepScalars { learning_rate: 0.1, step }));
        let submissions = p.gpu.submission_count();
        p.both(|be, s| {
            be.dropout_forward(x.on(s), y.on(s), mask.on(s), len, drop, stream);
            be.dropout_backward(dy.on(s), mask.on(s), dx.on(s), len);
        });
        if step > 1 && p.gpu.submission_count() != submissions {
            p.case_mismatches.push(format!("{name}: recording step {step} submitted work (a step must submit once)"));
        }
        steps.push((step, y, mask, dx));
    }
    for (step, y, mask, dx) in steps {
        p.compare(&format!("{name} step {step}: mask (bit-identical)"), mask, 0.0, 0.0).await?;
        p.compare(&format!("{name} step {step}: y"), y, RTOL, ATOL).await?;
        p.compare(&format!("{name} step {step}: dx"), dx, RTOL, ATOL).await?;
    }
    p.done(Kernel::Dropout, &name)
}

pub(super) async fn channel_noise(
    p: &mut Pair<'_>,
    (n, c, s): (usize, usize, usize),
    strength: f32,
    stream: u32,
) -> Result<(), String> {
    let name = format!("channel noise [N={n}, C={c}, S={s}] strength={strength} stream={stream}");
    let len = n * c * s;
    let x = p.random(len, -3.0, 3.0, "x")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let (y, noise, dx) = (p.output(len, "y")?, p.output(2 * c, "noise")?, p.output(len, "dx")?);
    p.both(|be, side| {
        be.begin_step(StepScalars { learning_rate: 0.1, step: 7 });
        be.channel_noise_forward(x.on(side), y.on(side), noise.on(side), (n, c, s), strength, stream);
        be.channel_noise_backward(dy.on(side), noise.on(side), dx.on(side), (n, c, s));
    });
    // The uniforms are bit-identical; `1 + strength·u` may be fused into one multiply-add
    // on the GPU, so the noise itself gets the usual tolerance.
    p.compare(&format!("{name}: noise"), noise, RTOL, ATOL).await?;
    p.compare(&format!("{name}: y"), y, RTOL, ATOL).await?;
    p.compare(&format!("{name}: dx"), dx, RTOL, ATOL).await?;
    p.done(Kernel::Noise, &name)
}

/// `clip_gradients` on gradients of the given lengths with values in ±`scale`, into metrics
/// slot 1 of 3. Recorded twice (the second time on re-uploaded gradients), and the second
/// recording must not submit: clipping stays inside one training step's submission.
pub(super) async fn clip(
    p: &mut Pair<'_>,
    label: &str,
    lens: &[usize],
    scale: f32,
    clip: GradClip,
) -> Result<(), String> {
    const SLOT: usize = 1;
    let name = format!("clip_gradients {label} {clip:?}, {} tensors", lens.len());
    let data: Vec<Vec<f32>> = lens.iter().map(|&len| p.rng.vec(len, -scale, scale)).collect();
    let mut grads = Vec::new();
    for d in &data {
        grads.push(p.input(d, "grad")?);
    }
    let metrics = p.output(3 * METRICS_PER_SLOT, "metrics")?;
    for round in 0..2 {
        if round == 1 {
            p.both(|be, s| {
                for (g, d) in grads.iter().zip(&data) {
                    be.upload(g.on(s), d);
                }
            });
        }
        let submissions = p.gpu.submission_count();
        p.both(|be, s| {
            let list: Vec<(TensorId, usize)> = grads.iter().map(|g| (g.on(s), g.len)).collect();
            be.clip_gradients(&list, clip, metrics.on(s), SLOT);
        });
        if round == 1 && p.gpu.submission_count() != submissions {
            p.case_mismatches.push(format!("{name}: clip_gradients submitted work the second time"));
        }
        for (i, &g) in grads.iter().enumerate() {
            p.compare(&format!("{name} round {round}: grad {i} (len {})", g.len), g, RTOL, ATOL).await?;
        }
        let (cpu, gpu) = p.read(metrics).await?;
        let written = [METRICS_PER_SLOT * SLOT + 2, METRICS_PER_SLOT * SLOT + 3];
        if let Some(i) = (0..gpu.len()).find(|i| !written.contains(i) && !gpu[*i].is_nan()) {
            p.case_mismatches.push(format!("{name}: metrics[{i}] outside the norms of slot {SLOT} became {}", gpu[i]));
        }
        let (gpu_norms, cpu_norms) = (&gpu[written[0]..=written[1]], &cpu[written[0]..=written[1]]);
        p.case_worst = p.case_worst.max(tolerance_used(gpu_norms, cpu_norms, RTOL, ATOL));
        if let Err(report) =
            check_close(&format!("GPU vs CPU: {name}: norms before, after"), gpu_norms, cpu_norms, RTOL, ATOL)
        {
            p.case_mismatches.push(report);
        }
    }
    p.done(Kernel::Clip, &name)
}

/// One NaN in one gradient: norm clipping makes every gradient NaN on both backends (as
/// PyTorch's `clip_grad_norm_`), and the norms NaN; value clipping keeps that one NaN and
/// clamps the rest as the CPU does.
pub(super) async fn clip_with_nan(p: &mut Pair<'_>, lens: &[usize], clip: GradClip) -> Result<(), String> {
    const SLOT: usize = 0;
    let name = format!("clip_gradients with one NaN {clip:?}");
    let mut data: Vec<Vec<f32>> = lens.iter().map(|&len| p.rng.vec(len, -2.0, 2.0)).collect();
    let (tensor, index) = (data.len() / 2, data[data.len() / 2].len() / 2);
    data[tensor][index] = f32::NAN;
    let mut grads = Vec::new();
    for d in &data {
        grads.push(p.input(d, "grad")?);
    }
    let metrics = p.output(METRICS_PER_SLOT, "metrics")?;
    p.both(|be, s| {
        let list: Vec<(TensorId, usize)> = grads.iter().map(|g| (g.on(s), g.len)).collect();
        be.clip_gradients(&list, clip, metrics.on(s), SLOT);
    });
    let nan_only = |i: usize, j: usize| matches!(clip, GradClip::Norm { .. }) || (i, j) == (tensor, index);
    for (i, &g) in grads.iter().enumerate() {
        let (cpu, gpu) = p.read(g).await?;
        for (side, values) in [("CPU", &cpu), ("GPU", &gpu)] {
            if let Some(j) = (0..values.len()).find(|&j| values[j].is_nan() != nan_only(i, j)) {
                p.case_mismatches.push(format!(
                    "{name}: {side} grad {i}[{j}] = {} (NaN expected: {})",
                    values[j],
                    nan_only(i, j)
                ));
            }
        }
        let finite = |v: &[f32]| v.iter().map(|x| if x.is_nan() { 0.0 } else { *x }).collect::<Vec<_>>();
        if let Err(report) =
            check_close(&format!("GPU vs CPU: {name}: grad {i}"), &finite(&gpu), &finite(&cpu), RTOL, ATOL)
        {
            p.case_mismatches.push(report);
        }
    }
    let (cpu, gpu) = p.read(metrics).await?;
    for (side, m) in [("CPU", &cpu), ("GPU", &gpu)] {
        if !m[METRICS_PER_SLOT * SLOT + 2].is_nan() {
            p.case_mismatches
                .push(format!("{name}: {side} norm before is {}, not NaN", m[METRICS_PER_SLOT * SLOT + 2]));
        }
    }
    p.done(Kernel::Clip, &name)
}

/// Views name ranges of their base: an op reads and writes only its view's range, an
/// upload and `zero` of a view touch nothing else, and an op over the base (Adam over a
/// parameter arena) covers every view, exactly as on the CPU.
pub(super) async fn views_share_their_base(p: &mut Pair<'_>) -> Result<(), String> {
    let name = "views of one tensor".to_string();
    // b starts at the same random values on both backends: what no view touches must stay.
    let (a, b) = (p.random(320, -2.0, 2.0, "arena a")?, p.random(320, -2.0, 2.0, "arena b")?);
    let (a1, a2) = (p.view(a, 64, 100), p.view(a, 192, 70));
    let (b1, b2) = (p.view(b, 0, 100), p.view(b, 256, 64));
    let fresh = p.rng.vec(70, -1.0, 1.0);
    p.both(|be, s| {
        be.activation_forward(Activation::Tanh, a1.on(s), b1.on(s), 100);
        be.upload(a2.on(s), &fresh);
        be.zero(b2.on(s));
    });
    p.compare(&format!("{name}: the base written through views"), b, RTOL_TRANSCENDENTAL, ATOL).await?;
    p.compare(&format!("{name}: a view read back"), a2, 0.0, 0.0).await?;
    let (grad, m, v) = (p.random(320, -1.0, 1.0, "grad")?, p.input(&[0.0; 320], "m")?, p.input(&[0.0; 320], "v")?);
    p.both(|be, s| {
        be.begin_step(StepScalars { learning_rate: 1e-2, step: 1 });
        be.adam_step(a.on(s), grad.on(s), m.on(s), v.on(s), 320, AdamHyper::default());
    });
    p.compare(&format!("{name}: Adam over the whole base"), a, RTOL, ATOL).await?;
    p.done(Kernel::Memory, &name)
}

/// Uploads and `zero` land between the ops recorded before and after them, even though
/// the GPU queues writes ahead of recorded work unless the backend submits first.
pub(super) async fn upload_and_zero_keep_program_order(p: &mut Pair<'_>, len: usize) -> Result<(), String> {
    let name = format!("upload and zero between recorded ops, len={len}");
    let x = p.random(len, -3.0, 3.0, "x")?;
    let (y1, y2, y3) = (p.output(len, "y1")?, p.output(len, "y2")?, p.output(len, "y3")?);
    let second = p.rng.vec(len, -3.0, 3.0);
    p.both(|be, s| {
        be.activation_forward(Activation::Tanh, x.on(s), y1.on(s), len);
        be.upload(x.on(s), &second);
        be.activation_forward(Activation::Tanh, x.on(s), y2.on(s), len);
        be.zero(x.on(s));
        be.activation_forward(Activation::Tanh, x.on(s), y3.on(s), len);
    });
    for (what, t) in [("before the upload", y1), ("after the upload", y2), ("after zero", y3)] {
        p.compare(&format!("{name}: {what}"), t, RTOL_TRANSCENDENTAL, ATOL).await?;
    }
    let (cpu, _) = p.read(y1).await?;
    let (_, gpu_after) = p.read(y2).await?;
    if cpu == gpu_after {
        p.case_mismatches.push(format!("{name}: the upload did not change the input"));
    }
    p.done(Kernel::Memory, &name)
}
