//! Matrix products, convolution, pooling, bias, activations, gathering and the loss.

use super::*;

pub(super) async fn matmul(p: &mut Pair<'_>, shape: MatmulShape) -> Result<(), String> {
    let name =
        format!("matmul m={} k={} n={} trans_a={} trans_b={}", shape.m, shape.k, shape.n, shape.trans_a, shape.trans_b);
    let a = p.random(shape.m * shape.k, -1.0, 1.0, "a")?;
    let b = p.random(shape.k * shape.n, -1.0, 1.0, "b")?;
    let bias = p.random(shape.n, -1.0, 1.0, "bias")?;
    let out = p.output(shape.m * shape.n, "out")?;
    let out_with_bias = p.output(shape.m * shape.n, "out with bias")?;
    p.both(|be, s| {
        be.matmul(a.on(s), b.on(s), out.on(s), shape, Epilogue::NONE);
        be.matmul(a.on(s), b.on(s), out_with_bias.on(s), shape, Epilogue::bias(bias.on(s)));
    });
    // Each output sums k products of two values uniform on [−1, 1] (rms 1/√3 each).
    let atol = sum_atol(shape.k, 1.0 / 3.0);
    p.compare(&name, out, RTOL, atol).await?;
    p.compare(&format!("{name}, bias in the epilogue"), out_with_bias, RTOL, atol).await?;
    p.done(Kernel::Matmul, &name)
}

/// A product over token rows with `bias_rows` rows of position embeddings and a residual
/// added as it is stored.
pub(super) async fn matmul_epilogue(
    p: &mut Pair<'_>,
    m: usize,
    k: usize,
    n: usize,
    bias_rows: usize,
) -> Result<(), String> {
    let name = format!("matmul epilogue m={m} k={k} n={n}: bias of {bias_rows} rows, residual");
    let shape = MatmulShape { m, k, n, trans_a: false, trans_b: true };
    let a = p.random(m * k, -1.0, 1.0, "a")?;
    let b = p.random(n * k, -1.0, 1.0, "b")?;
    let table = p.random(bias_rows * n, -1.0, 1.0, "positions")?;
    let residual = p.random(m * n, -1.0, 1.0, "residual")?;
    let out = p.output(m * n, "out")?;
    p.both(|be, s| {
        let epilogue = Epilogue::positions(table.on(s), bias_rows).plus(Some(residual.on(s)));
        be.matmul(a.on(s), b.on(s), out.on(s), shape, epilogue);
    });
    p.compare(&name, out, RTOL, ATOL).await?;
    p.done(Kernel::Matmul, &name)
}

pub(super) async fn attention(p: &mut Pair<'_>, shape: AttentionShape) -> Result<(), String> {
    let AttentionShape { batch, seq_len, heads, head_dim } = shape;
    let name = format!("causal attention N={batch} T={seq_len} H={heads} Dh={head_dim}");
    let qkv = p.random(shape.qkv_len(), -2.0, 2.0, "qkv")?;
    let dout = p.random(shape.out_len(), -1.0, 1.0, "dout")?;
    let att = p.output(shape.att_len(), "att")?;
    let out = p.output(shape.out_len(), "out")?;
    let dpre = p.output(shape.att_len(), "dpre")?;
    let dqkv = p.output(shape.qkv_len(), "dqkv")?;
    p.both(|be, s| {
        be.attention_forward(qkv.on(s), att.on(s), out.on(s), shape);
        be.attention_backward(qkv.on(s), att.on(s), dout.on(s), dpre.on(s), dqkv.on(s), shape);
    });
    for (what, t) in [("att", att), ("out", out), ("dpre", dpre), ("dqkv", dqkv)] {
        p.compare(&format!("{name}: {what}"), t, RTOL_TRANSCENDENTAL, ATOL).await?;
    }
    p.done(Kernel::Attention, &name)
}

pub(super) async fn conv(p: &mut Pair<'_>, shape: ConvShape) -> Result<(), String> {
    let ConvShape { batch, in_channels, out_channels, height, width, kernel, stride, padding } = shape;
    let name =
        format!("conv2d N={batch} CI={in_channels} CO={out_channels} {height}×{width} k{kernel} s{stride} p{padding}");
    let x = p.random(shape.input_len(), -1.0, 1.0, "x")?;
    let weight = p.random(shape.weight_len(), -0.5, 0.5, "weight")?;
    let dy = p.random(shape.output_len(), -1.0, 1.0, "dy")?;
    let bias = p.random(out_channels, -1.0, 1.0, "bias")?;
    let y = p.output(shape.output_len(), "y")?;
    let y_with_bias = p.output(shape.output_len(), "y with bias")?;
    let dx = p.output(shape.input_len(), "dx")?;
    let dweight = p.output(shape.weight_len(), "dweight")?;
    p.both(|be, s| {
        be.conv2d_forward(x.on(s), weight.on(s), y.on(s), shape, None);
        be.conv2d_forward(x.on(s), weight.on(s), y_with_bias.on(s), shape, Some(bias.on(s)));
        be.conv2d_backward_input(dy.on(s), weight.on(s), dx.on(s), shape);
        be.conv2d_backward_weight(dy.on(s), x.on(s), dweight.on(s), shape);
    });
    // y sums x·w over the input channels and the window, dx sums dy·w over the output
    // channels and the window (x, dy uniform on [−1, 1], rms 1/√3; w on [−½, ½], rms 1/√12).
    let window = kernel * kernel;
    let y_atol = sum_atol(in_channels * window, 1.0 / 6.0);
    p.compare(&format!("{name}: y"), y, RTOL, y_atol).await?;
    p.compare(&format!("{name}: y, bias in the epilogue"), y_with_bias, RTOL, y_atol).await?;
    p.compare(&format!("{name}: dx"), dx, RTOL, sum_atol(out_channels * window, 1.0 / 6.0)).await?;
    // dW sums x·dy over every image and output pixel, both uniform on [−1, 1] (rms 1/√3).
    let dweight_atol = sum_atol(batch * shape.out_height() * shape.out_width(), 1.0 / 3.0);
    p.compare(&format!("{name}: dweight"), dweight, RTOL, dweight_atol).await?;
    p.done(Kernel::Conv, &name)
}

/// `with_ties`: inputs on a coarse grid, so that most windows hold equal maxima and the
/// first one must win on both backends.
pub(super) async fn pool(p: &mut Pair<'_>, shape: PoolShape, with_ties: bool) -> Result<(), String> {
    let PoolShape { kind, batch, channels, height, width, kernel, stride } = shape;
    let name = format!("pool {kind:?} N={batch} C={channels} {height}×{width} k{kernel} s{stride}, ties {with_ties}");
    let mut x = p.rng.vec(shape.input_len(), -2.0, 2.0);
    if with_ties {
        x.iter_mut().for_each(|v| *v = v.round());
    }
    let x = p.input(&x, "x")?;
    let dy = p.random(shape.output_len(), -1.0, 1.0, "dy")?;
    let y = p.output(shape.output_len(), "y")?;
    let argmax = p.output(shape.output_len(), "argmax")?;
    let dx = p.output(shape.input_len(), "dx")?;
    p.both(|be, s| {
        be.pool_forward(x.on(s), y.on(s), argmax.on(s), shape);
        be.pool_backward(dy.on(s), argmax.on(s), dx.on(s), shape);
    });
    match kind {
        // A maximum is a copy, and its position an exact small integer.
        PoolKind::Max => {
            p.compare(&format!("{name}: y"), y, 0.0, 0.0).await?;
            p.compare(&format!("{name}: argmax"), argmax, 0.0, 0.0).await?;
        }
        PoolKind::Avg => {
            p.compare(&format!("{name}: y"), y, RTOL, ATOL).await?;
            let (_, untouched) = p.read(argmax).await?;
            if let Some(i) = untouched.iter().position(|v| !v.is_nan()) {
                p.case_mismatches.push(format!("{name}: average pooling wrote argmax[{i}]"));
            }
        }
    }
    p.compare(&format!("{name}: dx"), dx, RTOL, ATOL).await?;
    p.done(Kernel::Pool, &name)
}

pub(super) async fn bias_grad(p: &mut Pair<'_>, rows: usize, cols: usize, spatial: usize) -> Result<(), String> {
    let name = format!("bias_grad {rows}×{cols}×{spatial}");
    let len = rows * cols * spatial;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let dbias = p.output(cols, "dbias")?;
    p.both(|be, s| be.bias_grad(dy.on(s), dbias.on(s), (rows, cols, spatial)));
    p.compare(&format!("{name}: dbias"), dbias, RTOL, ATOL).await?;
    p.done(Kernel::Bias, &name)
}

pub(super) async fn activation(p: &mut Pair<'_>, kind: Activation, len: usize) -> Result<(), String> {
    let name = format!("activation {kind:?} len={len}");
    let mut x = p.rng.vec(len, -3.0, 3.0);
    // Exact zeros, where ReLU's gradient is defined as 0.
    for i in (0..len).step_by(97) {
        x[i] = 0.0;
    }
    let x = p.input(&x, "x")?;
    let dy = p.random(len, -1.0, 1.0, "dy")?;
    let y = p.output(len, "y")?;
    let dx = p.output(len, "dx")?;
    p.both(|be, s| {
        be.activation_forward(kind, x.on(s), y.on(s), len);
        be.activation_backward(kind, x.on(s), y.on(s), dy.on(s), dx.on(s), len);
    });
    let rtol = if kind == Activation::Tanh { RTOL_TRANSCENDENTAL } else { RTOL };
    p.compare(&format!("{name}: y"), y, rtol, ATOL).await?;
    p.compare(&format!("{name}: dx"), dx, rtol, ATOL).await?;
    p.done(Kernel::Activation, &name)
}

pub(super) async fn gather(p: &mut Pair<'_>, src_rows: usize, rows: usize, row_len: usize) -> Result<(), String> {
    let name = format!("gather_rows {rows} of {src_rows} rows × {row_len}");
    let src = p.random(src_rows * row_len, -1.0, 1.0, "src")?;
    let indices: Vec<f32> = (0..rows).map(|_| p.rng.below(src_rows) as f32).collect();
    let indices = p.input(&indices, "indices")?;
    let labels = p.random(src_rows, 0.0, 10.0, "labels")?;
    let out = p.output(rows * row_len, "out")?;
    let batch_inputs = p.output(rows * row_len, "batch inputs")?;
    let batch_labels = p.output(rows, "batch labels")?;
    p.both(|be, s| {
        be.gather_rows(src.on(s), indices.on(s), out.on(s), rows, row_len);
        let (inputs, labels, indices) = (src.on(s), labels.on(s), indices.on(s));
        be.gather_batch(inputs, labels, indices, batch_inputs.on(s), batch_labels.on(s), rows, (row_len, 1));
    });
    // Copies: exact.
    p.compare(&name, out, 0.0, 0.0).await?;
    p.compare(&format!("{name}: gather_batch inputs"), batch_inputs, 0.0, 0.0).await?;
    p.compare(&format!("{name}: gather_batch labels"), batch_labels, 0.0, 0.0).await?;
    p.done(Kernel::Gather, &name)
}

/// `grad_slot`: Some(slot) computes the gradient too; None writes metrics slot 1 only.
pub(super) async fn cross_entropy(
    p: &mut Pair<'_>,
    rows: usize,
    classes: usize,
    grad_slot: Option<usize>,
    padded: bool,
) -> Result<(), String> {
    let slot = grad_slot.unwrap_or(1);
    let name = format!(
        "cross_entropy {rows}×{classes}, slot {slot}, gradient {}, every third row ignored {padded}",
        grad_slot.is_some()
    );
    let mut logits = p.rng.vec(rows * classes, -4.0, 4.0);
    // Logits near 80 overflow a naive exp-sum; a wide row stresses the log-sum-exp.
    if rows > 2 {
        for c in 0..classes {
            logits[classes + c] += 80.0;
            logits[2 * classes + c] *= 20.0;
        }
    }
    let labels: Vec<f32> =
        (0..rows).map(|r| if padded && r % 3 == 1 { -1.0 } else { p.rng.below(classes) as f32 }).collect();
    let logits = p.input(&logits, "logits")?;
    let labels = p.input(&labels, "labels")?;
    let metrics = p.output(METRICS_PER_SLOT * (slot + 2), "metrics")?;
    let dlogits = p.output(rows * classes, "dlogits")?;
    let with_grad = grad_slot.is_some();
    p.both(|be, s| {
        let grad = if with_grad { Some(dlogits.on(s)) } else { None };
        be.cross_entropy(logits.on(s), labels.on(s), grad, metrics.on(s), slot, rows, classes);
    });
    let (cpu, gpu) = p.read(metrics).await?;
    let base = METRICS_PER_SLOT * slot;
    let written = base..base + 2;
    let (gpu_loss, cpu_loss) = (&gpu[base..base + 1], &cpu[base..base + 1]);
    p.case_worst = p.case_worst.max(tolerance_used(gpu_loss, cpu_loss, RTOL_TRANSCENDENTAL, ATOL));
    if let Err(report) =
        check_close(&format!("GPU vs CPU: {name}: loss"), gpu_loss, cpu_loss, RTOL_TRANSCENDENTAL, ATOL)
    {
        p.case_mismatches.push(report);
    }
    if gpu[base + 1] != cpu[base + 1] {
        p.case_mismatches.push(format!("{name}: correct count GPU {} vs CPU {}", gpu[base + 1], cpu[base + 1]));
    }
    if let Some(i) = (0..gpu.len()).find(|i| !written.contains(i) && !gpu[*i].is_nan()) {
        p.case_mismatches.push(format!("{name}: metrics[{i}] outside slot {slot} was overwritten with {}", gpu[i]));
    }
    if with_grad {
        p.compare(&format!("{name}: dlogits"), dlogits, RTOL_TRANSCENDENTAL, ATOL).await?;
    } else {
        let (_, untouched) = p.read(dlogits).await?;
        if let Some(i) = untouched.iter().position(|v| !v.is_nan()) {
            p.case_mismatches.push(format!("{name}: dlogits[{i}] written without a gradient request"));
        }
    }
    p.done(Kernel::Loss, &name)
}
