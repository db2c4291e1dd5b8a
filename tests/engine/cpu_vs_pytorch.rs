//! The CPU backend against numbers computed by PyTorch (`tests/fixtures/pytorch/`).
//!
//! Every op is driven through the `Backend` trait, exactly as the layers drive it:
//! allocate, upload, record the op, read back. Outputs start as NaN so that an element
//! the op forgot to write cannot pass by accident.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::{
    Activation, AdamHyper, Backend, ClipNorm, ConvShape, GradClip, MatmulShape, NormGeometry, NormGrads, NormMode,
    NormTensors, PoolKind, PoolShape, RunningStats, SgdHyper, StepScalars, TensorId, METRICS_PER_SLOT,
};
use normlab::nn::{LpOrder, MlpConfig, Model, NormKind, Phase};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fixtures::{assert_close, nan_tensor, read, tensor_from, Fixture};

/// Default tolerances: PyTorch and the CPU reference both compute in f32 (the CPU
/// reference sums in f64), so most values agree to about 1e-6 relative.
const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;

/// `[N, C, rest…]` → `(N, C, S)` with S the product of the rest (1 if none).
fn ncs(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

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
    b.matmul(x, w, y, MatmulShape { m: n, k: inputs, n: outputs, trans_a: false, trans_b: true });
    b.bias_add(y, bias, (n, outputs, 1));
    // dx = dy W,  dW = dyᵀ x,  db = Σ_rows dy
    let dx = nan_tensor(&mut b, n * inputs, "dx");
    b.matmul(dy, w, dx, MatmulShape { m: n, k: outputs, n: inputs, trans_a: false, trans_b: false });
    let dw = nan_tensor(&mut b, outputs * inputs, "dweight");
    b.matmul(dy, x, dw, MatmulShape { m: outputs, k: n, n: inputs, trans_a: true, trans_b: false });
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
// Convolution (conv2d + bias_add) and pooling
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
    b.conv2d_forward(x, w, y, shape);
    b.bias_add(y, bias, bias_shape);
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

// ---------------------------------------------------------------------------------------
// Normalization layers
// ---------------------------------------------------------------------------------------

/// What one forward + backward of a normalization produced.
struct NormRun {
    y: Vec<f32>,
    dx: Vec<f32>,
    dgamma: Vec<f32>,
    dbeta: Vec<f32>,
    /// Running mean and variance after the forward pass.
    running: Option<(Vec<f32>, Vec<f32>)>,
}

/// Runs `norm_forward` then `norm_backward` on the CPU backend.
fn run_norm(
    g: &NormGeometry,
    mode: NormMode,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    dy: &[f32],
    running: Option<(&[f32], &[f32])>,
) -> NormRun {
    let mut b = CpuBackend::new();
    let elements = g.elements();
    let stats = g.stat_count();
    let ts = NormTensors {
        x: tensor_from(&mut b, x, "x"),
        y: nan_tensor(&mut b, elements, "y"),
        gamma: tensor_from(&mut b, gamma, "gamma"),
        beta: tensor_from(&mut b, beta, "beta"),
        mean: nan_tensor(&mut b, stats, "mean"),
        rstd: nan_tensor(&mut b, stats, "rstd"),
        running: running.map(|(mean, var)| RunningStats {
            mean: tensor_from(&mut b, mean, "running_mean"),
            var: tensor_from(&mut b, var, "running_var"),
            batches_tracked: tensor_from(&mut b, &[0.0], "num_batches_tracked"),
        }),
    };
    let grads = NormGrads {
        dy: tensor_from(&mut b, dy, "dy"),
        dx: nan_tensor(&mut b, elements, "dx"),
        dgamma: nan_tensor(&mut b, g.affine_len(), "dgamma"),
        dbeta: nan_tensor(&mut b, g.affine_len(), "dbeta"),
        stat_grad: nan_tensor(&mut b, g.stat_grad_len(), "stat_grad"),
    };
    b.norm_forward(g, mode, &ts);
    let running = ts.running.map(|r| {
        let channels = g.channels;
        (read(&mut b, r.mean, channels), read(&mut b, r.var, channels))
    });
    b.norm_backward(g, mode, &ts, &grads);
    NormRun {
        y: read(&mut b, ts.y, elements),
        dx: read(&mut b, grads.dx, elements),
        dgamma: read(&mut b, grads.dgamma, g.affine_len()),
        dbeta: read(&mut b, grads.dbeta, g.affine_len()),
        running,
    }
}

/// γ and β from the fixture, or the identity affine map (γ = 1, β = 0) for a layer made
/// without them (`affine=False`, `elementwise_affine=False`, RMSNorm's missing β).
fn affine(f: &Fixture, len: usize) -> (Vec<f32>, Vec<f32>) {
    let gamma = if f.has("gamma") { f.t("gamma") } else { vec![1.0; len] };
    let beta = if f.has("beta") { f.t("beta") } else { vec![0.0; len] };
    assert_eq!((gamma.len(), beta.len()), (len, len), "affine length");
    (gamma, beta)
}

/// Tolerances for one normalization case.
#[derive(Clone, Copy)]
struct NormTol {
    y: (f32, f32),
    dx: (f32, f32),
    dgamma: (f32, f32),
}

const NORM_TOL: NormTol = NormTol { y: (RTOL, ATOL), dx: (RTOL, ATOL), dgamma: (RTOL, ATOL) };

fn compare_norm(name: &str, f: &Fixture, got: &NormRun, tol: NormTol) {
    assert_close(&format!("{name} y"), &got.y, &f.t("y"), tol.y.0, tol.y.1);
    assert_close(&format!("{name} dx"), &got.dx, &f.t("dx"), tol.dx.0, tol.dx.1);
    if f.has("dgamma") {
        assert_close(&format!("{name} dgamma"), &got.dgamma, &f.t("dgamma"), tol.dgamma.0, tol.dgamma.1);
    }
    if f.has("dbeta") {
        assert_close(&format!("{name} dbeta"), &got.dbeta, &f.t("dbeta"), RTOL, ATOL);
    }
    if let Some((mean, var)) = &got.running {
        assert_close(&format!("{name} running_mean"), mean, &f.t("running_mean_out"), RTOL, ATOL);
        assert_close(&format!("{name} running_var"), var, &f.t("running_var_out"), RTOL, ATOL);
    }
}

fn check_batch_norm(case: &str, tol: NormTol) {
    let name = format!("batch_norm__{case}");
    let f = Fixture::load(&name);
    let training = f.attr_bool("training");
    let (n, c, s) = ncs(f.shape("x"));
    let mut g = NormKind::Batch.geometry(n, c, s, training).expect("a valid shape").expect("BatchNorm has a geometry");
    g.eps = f.attr_f32("eps");
    let mode = if training { NormMode::training(Some(f.attr_f32("momentum"))) } else { NormMode::RUNNING_STATISTICS };
    let (gamma, beta) = affine(&f, c);
    let (rm, rv) = (f.t("running_mean"), f.t("running_var"));
    let got = run_norm(&g, mode, &f.t("x"), &gamma, &beta, &f.t("dy"), Some((&rm, &rv)));
    compare_norm(&name, &f, &got, tol);
}

#[test]
fn batch_norm_train_1d() {
    check_batch_norm("train_1d", NORM_TOL);
}

#[test]
fn batch_norm_train_2d() {
    check_batch_norm("train_2d", NORM_TOL);
}

#[test]
fn batch_norm_train_zero_var() {
    // Feature 2 is constant: variance 0, so rstd = 1/sqrt(eps) and y = β there.
    check_batch_norm("train_zero_var", NORM_TOL);
}

#[test]
fn batch_norm_train_offset_1e3() {
    // x ≈ 1000, where one f32 step is 6e-5: the mean itself is only good to about that,
    // so every x̂ of a channel shifts together (PyTorch's y in channel 0 is off the float64
    // answer by 1.0e-4, ours by 3.6e-5 in channel 1), and dx with it. The error is
    // absolute, not relative: values near 0 differ by up to 3e-3 relative.
    // Measured: 1.02e-4 in y, 9.7e-5 in dx at most.
    let shifted = (2e-4, 2e-4);
    check_batch_norm("train_offset_1e3", NormTol { y: shifted, dx: shifted, ..NORM_TOL });
}

#[test]
fn batch_norm_train_batch1_spatial() {
    // One sample, but 16 positions per channel: allowed, statistics over the positions.
    check_batch_norm("train_batch1_spatial", NORM_TOL);
}

#[test]
fn batch_norm_train_2d_no_affine() {
    check_batch_norm("train_2d_no_affine", NORM_TOL);
}

#[test]
fn batch_norm_eval_1d() {
    check_batch_norm("eval_1d", NORM_TOL);
}

#[test]
fn batch_norm_eval_2d() {
    check_batch_norm("eval_2d", NORM_TOL);
}

#[test]
fn batch_norm_momentum_none_is_a_cumulative_average() {
    // PyTorch's momentum=None: the factor is 1/num_batches_tracked, so after two batches the
    // running estimates are the plain average of the two batches' statistics.
    let f = Fixture::load("batch_norm__train_momentum_none");
    let (n, c, s) = ncs(f.shape("x"));
    let g = NormKind::Batch.geometry(n, c, s, true).expect("a valid shape").expect("BatchNorm has a geometry");
    let mode = NormMode::training(None);
    let mut b = CpuBackend::new();
    let running = RunningStats {
        mean: tensor_from(&mut b, &f.t("running_mean"), "running_mean"),
        var: tensor_from(&mut b, &f.t("running_var"), "running_var"),
        batches_tracked: tensor_from(&mut b, &[0.0], "num_batches_tracked"),
    };
    for (pass, suffix) in [(1, "1"), (2, "")] {
        let x_name = if pass == 1 { "x".to_string() } else { "x2".to_string() };
        let out = |name: &str| if pass == 1 { name.to_string() } else { format!("{name}2") };
        let ts = NormTensors {
            x: tensor_from(&mut b, &f.t(&x_name), "x"),
            y: nan_tensor(&mut b, g.elements(), "y"),
            gamma: tensor_from(&mut b, &f.t("gamma"), "gamma"),
            beta: tensor_from(&mut b, &f.t("beta"), "beta"),
            mean: nan_tensor(&mut b, g.stat_count(), "mean"),
            rstd: nan_tensor(&mut b, g.stat_count(), "rstd"),
            running: Some(running),
        };
        let grads = NormGrads {
            dy: tensor_from(&mut b, &f.t(&out("dy")), "dy"),
            dx: nan_tensor(&mut b, g.elements(), "dx"),
            dgamma: nan_tensor(&mut b, c, "dgamma"),
            dbeta: nan_tensor(&mut b, c, "dbeta"),
            stat_grad: nan_tensor(&mut b, g.stat_grad_len(), "stat_grad"),
        };
        b.norm_forward(&g, mode, &ts);
        b.norm_backward(&g, mode, &ts, &grads);
        let name = format!("momentum None, pass {pass}");
        assert_close(&format!("{name} y"), &read(&mut b, ts.y, g.elements()), &f.t(&out("y")), RTOL, ATOL);
        assert_close(&format!("{name} dx"), &read(&mut b, grads.dx, g.elements()), &f.t(&out("dx")), RTOL, ATOL);
        for (what, t) in [("running_mean_out", running.mean), ("running_var_out", running.var)] {
            let expected = f.t(&format!("{what}{suffix}"));
            assert_close(&format!("{name} {what}"), &read(&mut b, t, c), &expected, RTOL, ATOL);
        }
    }
    assert_eq!(read(&mut b, running.batches_tracked, 1), vec![2.0], "num_batches_tracked");
}

fn check_lp_norm(case: &str) {
    let name = format!("lp_norm__{case}");
    let f = Fixture::load(&name);
    let order = if case.starts_with("l1") { LpOrder::L1 } else { LpOrder::Linf };
    let (n, c, s) = ncs(f.shape("x"));
    let g = NormKind::Lp { order }.geometry(n, c, s, true).expect("a valid shape").expect("a geometry");
    let mode = NormMode::training(Some(f.attr_f32("momentum")));
    let (gamma, beta) = affine(&f, c);
    let (rm, rv) = (f.t("running_mean"), f.t("running_var"));
    let got = run_norm(&g, mode, &f.t("x"), &gamma, &beta, &f.t("dy"), Some((&rm, &rv)));
    compare_norm(&name, &f, &got, NORM_TOL);
}

#[test]
fn lp_norm_l1_matches_autograd() {
    check_lp_norm("l1_1d");
    check_lp_norm("l1_2d");
}

#[test]
fn lp_norm_linf_matches_autograd() {
    check_lp_norm("linf_1d");
    check_lp_norm("linf_2d");
}

#[test]
fn batch_norm_train_batch1_is_refused_like_pytorch() {
    let f = Fixture::load("batch_norm__train_batch1_error");
    assert!(f.attr_bool("error"));
    let pytorch = f.attr("error_message").as_str().expect("a message").to_string();
    let phrase = "more than 1 value per channel";
    assert!(pytorch.contains(phrase), "PyTorch says: {pytorch}");
    let (n, c) = (f.shape("x")[0], f.shape("x")[1]);
    assert_eq!((n, c), (1, 4));
    match NormKind::Batch.geometry(n, c, 1, true) {
        Err(e) => assert!(e.to_string().contains(phrase), "the engine says: {e}"),
        Ok(g) => panic!("BatchNorm accepted one value per channel in training: {g:?}"),
    }
    // In eval mode the running estimates are used, so one sample is fine (as in PyTorch).
    assert!(NormKind::Batch.geometry(n, c, 1, false).is_ok());
}

/// LayerNorm, GroupNorm, InstanceNorm and RMSNorm all run the CPU group-norm path.
fn check_group_like(name: &str, kind: NormKind, tol: NormTol) {
    let f = Fixture::load(name);
    let (n, c, s) = ncs(f.shape("x"));
    let mut g = kind.geometry(n, c, s, true).expect("a valid shape").expect("a norm kind");
    g.eps = f.attr_f32("eps");
    let (gamma, beta) = affine(&f, g.affine_len());
    let got = run_norm(&g, NormMode::BATCH_STATISTICS, &f.t("x"), &gamma, &beta, &f.t("dy"), None);
    assert!(got.running.is_none());
    compare_norm(name, &f, &got, tol);
}

#[test]
fn layer_norm_last_dim() {
    check_group_like("layer_norm__last_dim", NormKind::Layer, NORM_TOL);
}

#[test]
fn layer_norm_chw() {
    check_group_like("layer_norm__chw", NormKind::Layer, NORM_TOL);
}

#[test]
fn layer_norm_last_dim_no_affine() {
    check_group_like("layer_norm__last_dim_no_affine", NormKind::Layer, NORM_TOL);
}

#[test]
fn group_norm_g1() {
    check_group_like("group_norm__g1", NormKind::Group { groups: 1 }, NORM_TOL);
}

#[test]
fn group_norm_g2() {
    check_group_like("group_norm__g2", NormKind::Group { groups: 2 }, NORM_TOL);
}

#[test]
fn group_norm_g6() {
    check_group_like("group_norm__g6", NormKind::Group { groups: 6 }, NORM_TOL);
}

#[test]
fn group_norm_g2_zero_var() {
    // One constant group (sample 1, channels 0-2): PyTorch's fused kernel computes a mean
    // that is not exactly the constant, so its x̂ there is not 0 but ±1e-4 or so: y = β ±
    // 3.6e-5 and dγ of channels 0-2 off by up to 9.4e-4 relative (the README says about
    // 4e-4; dγ[2] is 0.720225 against 0.7209047 in float64). The CPU reference gives
    // x̂ = 0 exactly there and matches float64 to 1e-6.
    let tol = NormTol { y: (RTOL, 1e-4), dgamma: (2e-3, ATOL), ..NORM_TOL };
    check_group_like("group_norm__g2_zero_var", NormKind::Group { groups: 2 }, tol);
}

#[test]
fn instance_norm_affine() {
    check_group_like("instance_norm__affine", NormKind::Instance, NORM_TOL);
}

#[test]
fn instance_norm_no_affine() {
    check_group_like("instance_norm__no_affine", NormKind::Instance, NORM_TOL);
}

#[test]
fn rms_norm_last_dim() {
    check_group_like("rms_norm__last_dim", NormKind::Rms, NORM_TOL);
}

#[test]
fn rms_norm_last_dim_default_eps() {
    // eps=None in PyTorch is the f32 machine epsilon, also the engine's default.
    let f = Fixture::load("rms_norm__last_dim_eps_none");
    let g = NormKind::Rms.geometry(6, 10, 1, true).unwrap().unwrap();
    assert_eq!(g.eps, f.attr_f32("eps"));
    check_group_like("rms_norm__last_dim_eps_none", NormKind::Rms, NORM_TOL);
}

#[test]
fn rms_norm_chw() {
    check_group_like("rms_norm__chw", NormKind::Rms, NORM_TOL);
}

// ---------------------------------------------------------------------------------------
// Optimizers: three steps from the same start as PyTorch
// ---------------------------------------------------------------------------------------

/// Runs `attrs.steps` optimizer steps with the fixture's gradients, comparing the
/// parameter after each with PyTorch's.
fn check_optimizer(name: &str, step: impl Fn(&mut CpuBackend, [TensorId; 4], usize)) {
    let f = Fixture::load(name);
    let steps = f.attr("steps").as_u64().expect("a step count") as u32;
    let lr = f.attr_f32("lr");
    let param0 = f.t("param0");
    let len = param0.len();
    let mut b = CpuBackend::new();
    let param = tensor_from(&mut b, &param0, "param");
    let grad = b.alloc(len, "grad").unwrap();
    let state1 = b.alloc(len, "state1").unwrap();
    let state2 = b.alloc(len, "state2").unwrap();
    for t in 1..=steps {
        b.begin_step(StepScalars { learning_rate: lr, step: t });
        b.upload(grad, &f.t(&format!("grad{t}")));
        step(&mut b, [param, grad, state1, state2], len);
        assert_close(&format!("{name} param{t}"), &read(&mut b, param, len), &f.t(&format!("param{t}")), RTOL, ATOL);
    }
}

fn check_sgd(name: &str) {
    let f = Fixture::load(name);
    assert_eq!((f.attr_f32("dampening"), f.attr_bool("nesterov")), (0.0, false));
    let hyper = SgdHyper { momentum: f.attr_f32("momentum"), weight_decay: f.attr_f32("weight_decay") };
    check_optimizer(name, |b, [p, g, v, _], len| b.sgd_step(p, g, v, len, hyper));
}

fn check_adam(name: &str) {
    let f = Fixture::load(name);
    assert!(!f.attr_bool("amsgrad") && !f.attr_bool("decoupled_weight_decay"));
    let betas = f.attr("betas").as_array().expect("betas");
    let hyper = AdamHyper {
        beta1: betas[0].as_f64().unwrap() as f32,
        beta2: betas[1].as_f64().unwrap() as f32,
        eps: f.attr_f32("eps"),
        weight_decay: f.attr_f32("weight_decay"),
    };
    check_optimizer(name, |b, [p, g, m, v], len| b.adam_step(p, g, m, v, len, hyper));
}

#[test]
fn sgd_momentum_weight_decay() {
    check_sgd("sgd__momentum_wd");
}

#[test]
fn sgd_plain() {
    check_sgd("sgd__plain");
}

#[test]
fn adam_lr1e_3() {
    check_adam("adam__lr1e-3");
}

#[test]
fn adam_lr0_1() {
    check_adam("adam__lr0.1");
}

#[test]
fn adam_lr1e_3_weight_decay() {
    check_adam("adam__lr1e-3_wd1e-2");
}

// ---------------------------------------------------------------------------------------
// Gradient clipping: clip_grad_norm_ against PyTorch, clip_grad_value_ against its definition
// ---------------------------------------------------------------------------------------

/// Metrics slot the clipping tests write; slots 0 and 2 and the first two floats of
/// slot 1 (loss, correct count) must stay NaN.
const CLIP_SLOT: usize = 1;

/// Reads three metrics slots and checks that clipping wrote only `[4·slot + 2]` and
/// `[4·slot + 3]`; returns (norm before, norm after).
fn clip_metrics(b: &mut CpuBackend, metrics: TensorId, name: &str) -> (f32, f32) {
    let m = read(b, metrics, 3 * METRICS_PER_SLOT);
    let written = [METRICS_PER_SLOT * CLIP_SLOT + 2, METRICS_PER_SLOT * CLIP_SLOT + 3];
    for (i, v) in m.iter().enumerate() {
        if !written.contains(&i) {
            assert!(v.is_nan(), "{name}: metrics[{i}] outside the norm entries of slot {CLIP_SLOT} became {v}");
        }
    }
    (m[written[0]], m[written[1]])
}

/// The L2 norm of several vectors together, in f64.
fn global_norm(vectors: &[Vec<f32>]) -> f32 {
    vectors.iter().flatten().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt() as f32
}

/// The fixture's `norm_type`: 1.0, 2.0 or "inf".
fn fixture_norm_type(f: &Fixture) -> ClipNorm {
    match f.attr("norm_type") {
        serde_json::Value::String(s) if s == "inf" => ClipNorm::Inf,
        v if v.as_f64() == Some(1.0) => ClipNorm::L1,
        v if v.as_f64() == Some(2.0) => ClipNorm::L2,
        v => panic!("{}: norm_type {v}", f.case),
    }
}

/// The fixture's norm of several vectors together, in f64.
fn norm_of(vectors: &[Vec<f32>], norm: ClipNorm) -> f32 {
    let values = vectors.iter().flatten().map(|&v| v.abs() as f64);
    match norm {
        ClipNorm::L1 => values.sum::<f64>() as f32,
        ClipNorm::L2 => values.map(|v| v * v).sum::<f64>().sqrt() as f32,
        ClipNorm::Inf => values.fold(0.0, f64::max) as f32,
    }
}

/// Clips the fixture's gradients on the CPU backend; returns the gradients after and
/// the norms before and after.
fn clip_fixture(f: &Fixture, name: &str) -> (Vec<Vec<f32>>, f32, f32) {
    assert_eq!(f.attr_f32("clip_coef_eps"), normlab::backend::cpu::clip::CLIP_COEF_EPS);
    let clip = GradClip::Norm { max_norm: f.attr_f32("max_norm"), norm_type: fixture_norm_type(f) };
    let nan_at =
        f.attr("nan_at").as_array().map(|a| (a[0].as_u64().unwrap() as usize, a[1].as_u64().unwrap() as usize));
    let mut b = CpuBackend::new();
    let grads: Vec<(TensorId, usize)> = ["grad_a", "grad_b", "grad_c"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut data = f.t(n);
            if let Some((_, element)) = nan_at.filter(|&(tensor, _)| tensor == i) {
                data[element] = f32::NAN;
            }
            (tensor_from(&mut b, &data, n), data.len())
        })
        .collect();
    let metrics = nan_tensor(&mut b, 3 * METRICS_PER_SLOT, "metrics");
    b.clip_gradients(&grads, clip, metrics, CLIP_SLOT);
    let outs = grads.iter().map(|&(id, len)| read(&mut b, id, len)).collect();
    let (before, after) = clip_metrics(&mut b, metrics, name);
    (outs, before, after)
}

fn check_clip_grad_norm(name: &str) {
    let f = Fixture::load(name);
    let (norm_type, max_norm) = (fixture_norm_type(&f), f.attr_f32("max_norm"));
    let (outs, before, after) = clip_fixture(&f, name);
    let mut wants = Vec::new();
    for (got, n) in outs.iter().zip(["grad_a", "grad_b", "grad_c"]) {
        let want = f.t(&format!("{n}_out"));
        assert_close(&format!("{name} {n}"), got, &want, RTOL, 1e-6);
        wants.push(want);
    }
    assert_close(&format!("{name} total_norm"), &[before], &[f.scalar("total_norm")], RTOL, ATOL);
    // The norm after clipping is that of PyTorch's clipped gradients.
    assert_close(&format!("{name} norm after"), &[after], &[norm_of(&wants, norm_type)], RTOL, ATOL);
    if f.attr_bool("clipped") {
        assert!(after <= max_norm && after > max_norm * (1.0 - 1e-5), "{name}: norm after {after}, max {max_norm}");
    } else {
        assert_eq!(after, before, "{name}: a norm under max_norm is left alone");
    }
}

#[test]
fn clip_grad_norm_max_norm_1_clips() {
    check_clip_grad_norm("clip_grad_norm__max_norm_1");
}

#[test]
fn clip_grad_norm_max_norm_100_leaves_gradients_alone() {
    check_clip_grad_norm("clip_grad_norm__max_norm_100");
}

#[test]
fn clip_grad_norm_in_the_l1_norm_matches_pytorch() {
    check_clip_grad_norm("clip_grad_norm__l1_max_norm_1");
    check_clip_grad_norm("clip_grad_norm__l1_max_norm_100");
}

#[test]
fn clip_grad_norm_in_the_infinity_norm_matches_pytorch() {
    check_clip_grad_norm("clip_grad_norm__inf_max_norm_0.5");
    check_clip_grad_norm("clip_grad_norm__inf_max_norm_100");
}

#[test]
fn one_nan_gradient_makes_every_clipped_gradient_nan_as_in_pytorch() {
    for name in ["clip_grad_norm__nan_l2", "clip_grad_norm__nan_l1", "clip_grad_norm__nan_inf"] {
        let f = Fixture::load(name);
        assert!(f.attr_bool("every_output_is_nan") && f.attr_bool("total_norm_is_nan"), "{name}: PyTorch's facts");
        let (outs, before, after) = clip_fixture(&f, name);
        let finite = outs.iter().flatten().filter(|v| !v.is_nan()).count();
        assert_eq!(finite, 0, "{name}: {finite} clipped gradient elements stayed finite");
        assert!(before.is_nan() && after.is_nan(), "{name}: norms {before}, {after}");
    }
}

/// Random gradients of odd lengths with some elements far outside ±clip.
fn clip_test_gradients() -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    [1, 7, 300].iter().map(|&len| (0..len).map(|_| rng.random_range(-3.0f32..3.0)).collect()).collect()
}

#[test]
fn clip_grad_value_clamps_each_element() {
    // torch.nn.utils.clip_grad_value_(params, clip) is an element-wise clamp_(−clip, clip).
    let clip = 0.5;
    let mut data = clip_test_gradients();
    data[1][0] = clip; // exactly on the bounds: unchanged
    data[1][1] = -clip;
    let mut b = CpuBackend::new();
    let grads: Vec<(TensorId, usize)> = data.iter().map(|d| (tensor_from(&mut b, d, "grad"), d.len())).collect();
    let metrics = nan_tensor(&mut b, 3 * METRICS_PER_SLOT, "metrics");
    b.clip_gradients(&grads, GradClip::Value { clip }, metrics, CLIP_SLOT);

    let want: Vec<Vec<f32>> = data.iter().map(|d| d.iter().map(|v| v.clamp(-clip, clip)).collect()).collect();
    for (i, (&(id, len), w)) in grads.iter().zip(&want).enumerate() {
        assert_close(&format!("clip value grad {i}"), &read(&mut b, id, len), w, 0.0, 0.0);
    }
    let (before, after) = clip_metrics(&mut b, metrics, "clip value");
    assert_close("clip value norm before", &[before], &[global_norm(&data)], 1e-6, 0.0);
    assert_close("clip value norm after", &[after], &[global_norm(&want)], 1e-6, 0.0);
    assert!(after < before);
}

#[test]
fn clip_none_only_measures() {
    let data = clip_test_gradients();
    let mut b = CpuBackend::new();
    let grads: Vec<(TensorId, usize)> = data.iter().map(|d| (tensor_from(&mut b, d, "grad"), d.len())).collect();
    let metrics = nan_tensor(&mut b, 3 * METRICS_PER_SLOT, "metrics");
    b.clip_gradients(&grads, GradClip::None, metrics, CLIP_SLOT);
    for (&(id, len), d) in grads.iter().zip(&data) {
        assert_eq!(&read(&mut b, id, len), d, "GradClip::None changed a gradient");
    }
    let (before, after) = clip_metrics(&mut b, metrics, "clip none");
    assert_close("clip none norm", &[before], &[global_norm(&data)], 1e-6, 0.0);
    assert_eq!(after, before);
}

#[test]
fn grad_clip_serializes_with_a_kind_tag() {
    for (clip, json) in [
        (GradClip::None, r#"{"kind":"none"}"#),
        (GradClip::norm(1.0), r#"{"kind":"norm","max_norm":1.0}"#),
        (
            GradClip::Norm { max_norm: 1.0, norm_type: ClipNorm::Inf },
            r#"{"kind":"norm","max_norm":1.0,"norm_type":"inf"}"#,
        ),
        (GradClip::Value { clip: 0.5 }, r#"{"kind":"value","clip":0.5}"#),
    ] {
        assert_eq!(serde_json::to_string(&clip).unwrap(), json);
        assert_eq!(serde_json::from_str::<GradClip>(json).unwrap(), clip);
    }
}

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
// ---------------------------------------------------------------------------------------
// A whole model: Linear → BN → ReLU → Linear → BN → ReLU → Linear, one training pass
// ---------------------------------------------------------------------------------------

#[test]
fn mlp_bn_train_matches_pytorch() {
    let f = Fixture::load("mlp_bn__train");
    let (batch, inputs) = (f.shape("x")[0], f.shape("x")[1]);
    let config = MlpConfig {
        inputs,
        hidden: vec![16, 16],
        classes: 5,
        norm: NormKind::Batch,
        activation: Activation::Relu,
        bias: true,
        norm_momentum: Some(f.attr_f32("bn_momentum")),
    };
    assert_eq!(inputs, 12);
    let mut b = CpuBackend::new();
    let mut model = Model::mlp(&mut b, &config, batch, &mut ChaCha8Rng::seed_from_u64(0)).expect("the model builds");

    // Overwrite the seeded initialisation with PyTorch's parameters. Model::params() is
    // linear0.weight, linear0.bias, norm0.gamma, norm0.beta, linear1…, which is PyTorch's
    // named_parameters() order l1.weight, l1.bias, bn1.weight, bn1.bias, l2…
    let names: Vec<String> =
        f.attr("parameters").as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    let params = model.params();
    assert_eq!(params.len(), names.len(), "parameter count");
    for (p, name) in params.iter().zip(&names) {
        let value = f.t(name);
        assert_eq!(p.len, value.len(), "length of {name}");
        b.upload(p.value, &value);
        b.upload(p.grad, &vec![f32::NAN; p.len]);
    }
    let norms: Vec<RunningStats> =
        model.norms().map(|n| n.running.expect("BatchNorm keeps running estimates")).collect();
    assert_eq!(norms.len(), 2);
    for (i, r) in norms.iter().enumerate() {
        b.upload(r.mean, &f.t(&format!("bn{}.running_mean", i + 1)));
        b.upload(r.var, &f.t(&format!("bn{}.running_var", i + 1)));
    }

    let x = tensor_from(&mut b, &f.t("x"), "x");
    let labels = tensor_from(&mut b, &f.t("labels"), "labels");
    let metrics = nan_tensor(&mut b, METRICS_PER_SLOT, "metrics");
    let logits = model.forward(&mut b, x, batch, Phase::Train);
    b.cross_entropy(logits, labels, Some(model.dlogits), metrics, 0, batch, config.classes);
    model.backward(&mut b, batch);

    // Each result against the fixture tensor of the same length.
    let mut expect = |id: TensorId, key: &str| {
        let want = f.t(key);
        assert_close(&format!("mlp_bn {key}"), &read(&mut b, id, want.len()), &want, RTOL, ATOL);
    };
    expect(logits, "logits");
    expect(metrics, "loss");
    for (p, name) in params.iter().zip(&names) {
        expect(p.grad, &format!("grad.{name}"));
    }
    for (i, r) in norms.iter().enumerate() {
        expect(r.mean, &format!("bn{}.running_mean_out", i + 1));
        expect(r.var, &format!("bn{}.running_var_out", i + 1));
    }
}
