//! Linear, convolution, pooling, activations and cross-entropy against PyTorch.

use super::*;

// ---------------------------------------------------------------------------------------
// Linear: matmul + bias
// ---------------------------------------------------------------------------------------

fn check_linear(name: &str) {
    let f = Fixture::load(name);
    let (n, inputs) = (f.shape("x")[0], f.shape("x")[1]);
    let outputs = f.shape("weight")[0];
    let mut b = CpuBackend::new();
    let x = tensor_from(&mut b, &f.t("x"), "x");
    let w = tensor_from(&mut b, &f.t("weight"), "weight");
    let bias = tensor_from(&mut b, &f.t("bias"), "bias");
    let dy = tensor_from(&mut b, &f.t("dy"), "dy");

    // y = x Wᵀ + b
    let y = nan_tensor(&mut b, n * outputs, "y");
    b.matmul(x, w, y, MatmulShape { m: n, k: inputs, n: outputs, trans_a: false, trans_b: true }, Epilogue::bias(bias));
    // dx = dy W,  dW = dyᵀ x,  db = Σ_rows dy
    let dx = nan_tensor(&mut b, n * inputs, "dx");
    b.matmul(dy, w, dx, MatmulShape { m: n, k: outputs, n: inputs, trans_a: false, trans_b: false }, Epilogue::NONE);
    let dw = nan_tensor(&mut b, outputs * inputs, "dweight");
    b.matmul(dy, x, dw, MatmulShape { m: outputs, k: n, n: inputs, trans_a: true, trans_b: false }, Epilogue::NONE);
    let db = nan_tensor(&mut b, outputs, "dbias");
    b.bias_grad(dy, db, (n, outputs, 1));

    assert_close(&format!("{name} y"), &read(&mut b, y, n * outputs), &f.t("y"), RTOL, ATOL);
    assert_close(&format!("{name} dx"), &read(&mut b, dx, n * inputs), &f.t("dx"), RTOL, ATOL);
    assert_close(&format!("{name} dweight"), &read(&mut b, dw, outputs * inputs), &f.t("dweight"), RTOL, ATOL);
    assert_close(&format!("{name} dbias"), &read(&mut b, db, outputs), &f.t("dbias"), RTOL, ATOL);
}

#[test]
fn linear_basic() {
    check_linear("linear__basic");
}

#[test]
fn linear_odd_sizes() {
    check_linear("linear__odd_sizes");
}

// ---------------------------------------------------------------------------------------
// Convolution (with its bias) and pooling
// ---------------------------------------------------------------------------------------

/// A fixture attribute stored as a square `[a, a]` pair (stride, padding, kernel_size).
fn square_attr(f: &Fixture, key: &str) -> usize {
    let pair: Vec<u64> = f.attr(key).as_array().expect("a pair").iter().map(|v| v.as_u64().expect("a size")).collect();
    assert!(pair.len() == 2 && pair[0] == pair[1], "{key} = {pair:?} is not square");
    pair[0] as usize
}

fn check_conv2d(name: &str) {
    let f = Fixture::load(name);
    assert_eq!((square_attr(&f, "dilation"), f.attr("groups").as_u64()), (1, Some(1)));
    let (xs, ws) = (f.shape("x"), f.shape("weight"));
    assert_eq!(ws[2], ws[3], "square kernel");
    let shape = ConvShape {
        batch: xs[0],
        in_channels: xs[1],
        out_channels: ws[0],
        height: xs[2],
        width: xs[3],
        kernel: ws[2],
        stride: square_attr(&f, "stride"),
        padding: square_attr(&f, "padding"),
    };
    let (out_h, out_w) = (shape.out_height(), shape.out_width());
    assert_eq!(f.shape("y"), [shape.batch, shape.out_channels, out_h, out_w], "output shape");
    let bias_shape = (shape.batch, shape.out_channels, out_h * out_w);
    let mut b = CpuBackend::new();
    let x = tensor_from(&mut b, &f.t("x"), "x");
    let w = tensor_from(&mut b, &f.t("weight"), "weight");
    let bias = tensor_from(&mut b, &f.t("bias"), "bias");
    let dy = tensor_from(&mut b, &f.t("dy"), "dy");

    let y = nan_tensor(&mut b, shape.output_len(), "y");
    b.conv2d_forward(x, w, y, shape, Some(bias));
    let dx = nan_tensor(&mut b, shape.input_len(), "dx");
    b.conv2d_backward_input(dy, w, dx, shape);
    let dw = nan_tensor(&mut b, shape.weight_len(), "dweight");
    b.conv2d_backward_weight(dy, x, dw, shape);
    let db = nan_tensor(&mut b, shape.out_channels, "dbias");
    b.bias_grad(dy, db, bias_shape);

    assert_close(&format!("{name} y"), &read(&mut b, y, shape.output_len()), &f.t("y"), RTOL, ATOL);
    assert_close(&format!("{name} dx"), &read(&mut b, dx, shape.input_len()), &f.t("dx"), RTOL, ATOL);
    assert_close(&format!("{name} dweight"), &read(&mut b, dw, shape.weight_len()), &f.t("dweight"), RTOL, ATOL);
    assert_close(&format!("{name} dbias"), &read(&mut b, db, shape.out_channels), &f.t("dbias"), RTOL, ATOL);
}

#[test]
fn conv2d_pad1_stride1() {
    check_conv2d("conv2d__pad1_stride1");
}

#[test]
fn conv2d_stride2_pad0_odd() {
    // 9×9 at stride 2: the last row and column feed no output, so dx is 0 there.
    check_conv2d("conv2d__stride2_pad0_odd");
}

fn check_pool(name: &str, kind: PoolKind) {
    let f = Fixture::load(name);
    assert_eq!((square_attr(&f, "padding"), f.attr_bool("ceil_mode")), (0, false));
    let xs = f.shape("x");
    let shape = PoolShape {
        kind,
        batch: xs[0],
        channels: xs[1],
        height: xs[2],
        width: xs[3],
        kernel: square_attr(&f, "kernel_size"),
        stride: square_attr(&f, "stride"),
    };
    assert_eq!(f.shape("y"), [shape.batch, shape.channels, shape.out_height(), shape.out_width()], "output shape");
    let mut b = CpuBackend::new();
    let x = tensor_from(&mut b, &f.t("x"), "x");
    let dy = tensor_from(&mut b, &f.t("dy"), "dy");
    let y = nan_tensor(&mut b, shape.output_len(), "y");
    let argmax = nan_tensor(&mut b, shape.output_len(), "argmax");
    let dx = nan_tensor(&mut b, shape.input_len(), "dx");
    b.pool_forward(x, y, argmax, shape);
    b.pool_backward(dy, argmax, dx, shape);

    let got_y = read(&mut b, y, shape.output_len());
    assert_close(&format!("{name} y"), &got_y, &f.t("y"), RTOL, ATOL);
    assert_close(&format!("{name} dx"), &read(&mut b, dx, shape.input_len()), &f.t("dx"), RTOL, ATOL);
    let argmax = read(&mut b, argmax, shape.output_len());
    match kind {
        PoolKind::Max => {
            // Each index points inside its own plane at the value the window kept.
            let (plane, x) = (shape.height * shape.width, f.t("x"));
            let out_plane = shape.out_height() * shape.out_width();
            for (o, (&at, &v)) in argmax.iter().zip(&got_y).enumerate() {
                assert!(at >= 0.0 && (at as usize) < plane && at.fract() == 0.0, "argmax[{o}] = {at}");
                assert_eq!(x[o / out_plane * plane + at as usize], v, "x at argmax[{o}]");
            }
        }
        PoolKind::Avg => assert!(argmax.iter().all(|v| v.is_nan()), "average pooling wrote argmax"),
    }
}

#[test]
fn max_pool2d_k2s2() {
    check_pool("max_pool2d__k2s2", PoolKind::Max);
}

#[test]
fn max_pool2d_k2s2_floor_odd() {
    // 7×7: floor mode drops the last row and column, whose gradient is 0.
    check_pool("max_pool2d__k2s2_floor_odd", PoolKind::Max);
}

#[test]
fn avg_pool2d_k2s2() {
    check_pool("avg_pool2d__k2s2", PoolKind::Avg);
}

// ---------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------

fn check_activation(name: &str, kind: Activation) {
    let f = Fixture::load(name);
    let len = f.t("x").len();
    let mut b = CpuBackend::new();
    let x = tensor_from(&mut b, &f.t("x"), "x");
    let dy = tensor_from(&mut b, &f.t("dy"), "dy");
    let y = nan_tensor(&mut b, len, "y");
    let dx = nan_tensor(&mut b, len, "dx");
    b.activation_forward(kind, x, y, len);
    b.activation_backward(kind, x, y, dy, dx, len);
    assert_close(&format!("{name} y"), &read(&mut b, y, len), &f.t("y"), RTOL, ATOL);
    assert_close(&format!("{name} dx"), &read(&mut b, dx, len), &f.t("dx"), RTOL, ATOL);
}

#[test]
fn relu_basic_with_exact_zeros() {
    // The fixture places exact zeros in x, where PyTorch's gradient is 0.
    check_activation("relu__basic", Activation::Relu);
}

#[test]
fn tanh_basic() {
    check_activation("tanh__basic", Activation::Tanh);
}

// ---------------------------------------------------------------------------------------
// Cross-entropy
// ---------------------------------------------------------------------------------------

#[test]
fn cross_entropy_basic() {
    let f = Fixture::load("cross_entropy__basic");
    let (rows, classes) = (f.shape("logits")[0], f.shape("logits")[1]);
    let logits = f.t("logits");
    let labels = f.t("labels");
    let mut b = CpuBackend::new();
    let logits_id = tensor_from(&mut b, &logits, "logits");
    let labels_id = tensor_from(&mut b, &labels, "labels");
    let dlogits = nan_tensor(&mut b, rows * classes, "dlogits");
    // Slot 1, so that an op writing slot 0 regardless would show.
    let metrics = nan_tensor(&mut b, 2 * METRICS_PER_SLOT, "metrics");
    b.cross_entropy(logits_id, labels_id, Some(dlogits), metrics, 1, rows, classes);

    let m = read(&mut b, metrics, 2 * METRICS_PER_SLOT);
    assert!(m[..METRICS_PER_SLOT].iter().all(|v| v.is_nan()), "slot 0 must stay untouched, got {:?}", &m[..4]);
    let m = &m[METRICS_PER_SLOT..];
    assert_close("cross_entropy loss", &[m[0]], &[f.scalar("loss")], RTOL, ATOL);
    let expected_correct = (0..rows)
        .filter(|&r| {
            let row = &logits[r * classes..(r + 1) * classes];
            let arg_max = (0..classes).fold(0, |best, c| if row[c] > row[best] { c } else { best });
            arg_max == labels[r] as usize
        })
        .count();
    assert_eq!(m[1], expected_correct as f32, "correct count");
    assert_close("cross_entropy dlogits", &read(&mut b, dlogits, rows * classes), &f.t("dlogits"), RTOL, ATOL);
}

#[test]
fn cross_entropy_ignores_padding_rows() {
    let f = Fixture::load("cross_entropy__ignore_padding");
    let (rows, classes) = (f.shape("logits")[0], f.shape("logits")[1]);
    let mut b = CpuBackend::new();
    let logits = tensor_from(&mut b, &f.t("logits"), "logits");
    let labels = tensor_from(&mut b, &f.t("labels"), "labels");
    let dlogits = nan_tensor(&mut b, rows * classes, "dlogits");
    let metrics = nan_tensor(&mut b, METRICS_PER_SLOT, "metrics");
    b.cross_entropy(logits, labels, Some(dlogits), metrics, 0, rows, classes);
    let m = read(&mut b, metrics, METRICS_PER_SLOT);
    assert_close("cross_entropy ignore_index loss", &[m[0]], &[f.scalar("loss")], RTOL, ATOL);
    let d = read(&mut b, dlogits, rows * classes);
    assert_close("cross_entropy ignore_index dlogits", &d, &f.t("dlogits"), RTOL, ATOL);
}

// ---------------------------------------------------------------------------------------
// Causal self-attention
// ---------------------------------------------------------------------------------------

fn check_causal_attention(name: &str) {
    let f = Fixture::load(name);
    let attr = |k: &str| f.attr(k).as_u64().expect("a size") as usize;
    let shape = AttentionShape {
        batch: attr("batch"),
        seq_len: attr("seq_len"),
        heads: attr("heads"),
        head_dim: attr("head_dim"),
    };
    let mut b = CpuBackend::new();
    let qkv = tensor_from(&mut b, &f.t("qkv"), "qkv");
    let dout = tensor_from(&mut b, &f.t("dout"), "dout");
    let att = nan_tensor(&mut b, shape.att_len(), "att");
    let out = nan_tensor(&mut b, shape.out_len(), "out");
    let dpre = nan_tensor(&mut b, shape.att_len(), "dpre");
    let dqkv = nan_tensor(&mut b, shape.qkv_len(), "dqkv");
    b.attention_forward(qkv, att, out, shape);
    b.attention_backward(qkv, att, dout, dpre, dqkv, shape);
    assert_close(&format!("{name} att"), &read(&mut b, att, shape.att_len()), &f.t("att"), RTOL, ATOL);
    assert_close(&format!("{name} out"), &read(&mut b, out, shape.out_len()), &f.t("out"), RTOL, ATOL);
    assert_close(&format!("{name} dqkv"), &read(&mut b, dqkv, shape.qkv_len()), &f.t("dqkv"), RTOL, ATOL);
}

#[test]
fn causal_attention_basic() {
    check_causal_attention("causal_attention__basic");
}

#[test]
fn causal_attention_four_heads() {
    check_causal_attention("causal_attention__four_heads");
}
