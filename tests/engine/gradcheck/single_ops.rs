//! Finite-difference checks of single ops: convolution, pooling and causal attention, each input and weight.

use super::*;

/// Checks the gradient of `L = Σ r·tanh(y)` (r random, so dL/dy is not constant) with
/// respect to one input of an op against central differences at every coordinate.
/// `forward(b, v)` runs the op with that input set to `v` and returns y; `backward(b, dy)`
/// runs the backward pass for the forward just run and returns the input's gradient.
fn check_op_input(
    name: &str,
    b: &mut CpuBackend,
    v0: &[f32],
    forward: impl Fn(&mut CpuBackend, &[f32]) -> Vec<f32>,
    backward: impl Fn(&mut CpuBackend, &[f32]) -> Vec<f32>,
) {
    let y0 = forward(b, v0);
    let mut rng = ChaCha8Rng::seed_from_u64(61);
    let r: Vec<f64> = (0..y0.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let loss = |y: &[f32]| y.iter().zip(&r).map(|(&y, r)| r * (y as f64).tanh()).sum::<f64>();
    let dy: Vec<f32> = y0.iter().zip(&r).map(|(&y, r)| (r * (1.0 - (y as f64).tanh().powi(2))) as f32).collect();
    let analytic = backward(b, &dy);
    assert_eq!(analytic.len(), v0.len(), "{name}: gradient length");

    let h = 1e-2;
    let mut failures = Vec::new();
    let mut worst = 0.0f32;
    for i in 0..v0.len() {
        let mut v = v0.to_vec();
        v[i] = v0[i] + h;
        let up = v[i];
        let loss_up = loss(&forward(b, &v));
        v[i] = v0[i] - h;
        let down = v[i];
        let loss_down = loss(&forward(b, &v));
        // The step actually taken in f32, not the nominal 2h.
        let numeric = ((loss_up - loss_down) / (up - down) as f64) as f32;
        let allowed = 1e-4 + RTOL * numeric.abs().max(analytic[i].abs());
        worst = worst.max((numeric - analytic[i]).abs() / allowed);
        if (numeric - analytic[i]).abs() > allowed {
            failures.push(format!("[{i}]: analytic {:.6e}, numeric {numeric:.6e}", analytic[i]));
        }
    }
    forward(b, v0);
    assert!(
        failures.is_empty(),
        "{name}: {} of {} coordinates disagree:\n  {}",
        failures.len(),
        v0.len(),
        failures.join("\n  ")
    );
    eprintln!("{name}: {} coordinates agree (worst at {worst:.2} of the tolerance)", v0.len());
}

/// dx and dW of a convolution, every coordinate.
fn check_conv(shape: ConvShape) {
    let name =
        format!("conv2d k{} s{} p{} on {}×{}", shape.kernel, shape.stride, shape.padding, shape.height, shape.width);
    let mut rng = ChaCha8Rng::seed_from_u64(62);
    let x: Vec<f32> = (0..shape.input_len()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let w: Vec<f32> = (0..shape.weight_len()).map(|_| rng.random_range(-0.5..0.5)).collect();
    let mut b = CpuBackend::new();
    let (x_id, w_id) = (tensor_from(&mut b, &x, "x"), tensor_from(&mut b, &w, "weight"));
    let y = b.alloc(shape.output_len(), "y").unwrap();
    let dy = b.alloc(shape.output_len(), "dy").unwrap();
    let dx = b.alloc(shape.input_len(), "dx").unwrap();
    let dw = b.alloc(shape.weight_len(), "dweight").unwrap();
    let run = |b: &mut CpuBackend| {
        b.conv2d_forward(x_id, w_id, y, shape, None);
        read(b, y, shape.output_len())
    };
    check_op_input(
        &format!("{name}: dx"),
        &mut b,
        &x,
        |b, v| {
            b.upload(x_id, v);
            run(b)
        },
        |b, g| {
            b.upload(dy, g);
            b.conv2d_backward_input(dy, w_id, dx, shape);
            read(b, dx, shape.input_len())
        },
    );
    check_op_input(
        &format!("{name}: dweight"),
        &mut b,
        &w,
        |b, v| {
            b.upload(w_id, v);
            run(b)
        },
        |b, g| {
            b.upload(dy, g);
            b.conv2d_backward_weight(dy, x_id, dw, shape);
            read(b, dw, shape.weight_len())
        },
    );
}

#[test]
fn conv2d_gradients_match_finite_differences_stride_1_padding_1() {
    check_conv(ConvShape {
        batch: 2,
        in_channels: 2,
        out_channels: 3,
        height: 5,
        width: 4,
        kernel: 3,
        stride: 1,
        padding: 1,
    });
}

#[test]
fn conv2d_gradients_match_finite_differences_stride_2_padding_1() {
    check_conv(ConvShape {
        batch: 2,
        in_channels: 2,
        out_channels: 3,
        height: 7,
        width: 6,
        kernel: 3,
        stride: 2,
        padding: 1,
    });
}

/// dx of a pooling, every coordinate. The inputs are distinct and at least 0.1 apart, so
/// no step of ±h changes which value a max window keeps.
fn check_pool(shape: PoolShape) {
    let name = format!("{:?} pool k{} s{} on {}×{}", shape.kind, shape.kernel, shape.stride, shape.height, shape.width);
    let mut rng = ChaCha8Rng::seed_from_u64(63);
    let mut x: Vec<f32> = (0..shape.input_len()).map(|i| 0.1 * i as f32 - 0.05 * shape.input_len() as f32).collect();
    for i in (1..x.len()).rev() {
        x.swap(i, rng.random_range(0..=i));
    }
    let mut b = CpuBackend::new();
    let x_id = tensor_from(&mut b, &x, "x");
    let y = b.alloc(shape.output_len(), "y").unwrap();
    let argmax = b.alloc(shape.output_len(), "argmax").unwrap();
    let dy = b.alloc(shape.output_len(), "dy").unwrap();
    let dx = b.alloc(shape.input_len(), "dx").unwrap();
    check_op_input(
        &format!("{name}: dx"),
        &mut b,
        &x,
        |b, v| {
            b.upload(x_id, v);
            b.pool_forward(x_id, y, argmax, shape);
            read(b, y, shape.output_len())
        },
        |b, g| {
            b.upload(dy, g);
            b.pool_backward(dy, argmax, dx, shape);
            read(b, dx, shape.input_len())
        },
    );
}

#[test]
fn pool_gradients_match_finite_differences() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        // Floor mode on an odd size (the last row and column get 0), then overlapping windows.
        check_pool(PoolShape { kind, batch: 2, channels: 2, height: 5, width: 5, kernel: 2, stride: 2 });
        check_pool(PoolShape { kind, batch: 2, channels: 2, height: 7, width: 6, kernel: 3, stride: 2 });
    }
}

/// dqkv of causal self-attention, every coordinate of q, k and v.
#[test]
fn causal_attention_gradients_match_finite_differences() {
    let shape = normlab::backend::AttentionShape { batch: 2, seq_len: 5, heads: 2, head_dim: 3 };
    let mut rng = ChaCha8Rng::seed_from_u64(64);
    let qkv: Vec<f32> = (0..shape.qkv_len()).map(|_| rng.random_range(-1.5..1.5)).collect();
    let mut b = CpuBackend::new();
    let qkv_id = tensor_from(&mut b, &qkv, "qkv");
    let att = b.alloc(shape.att_len(), "att").unwrap();
    let out = b.alloc(shape.out_len(), "out").unwrap();
    let dout = b.alloc(shape.out_len(), "dout").unwrap();
    let dpre = b.alloc(shape.att_len(), "dpre").unwrap();
    let dqkv = b.alloc(shape.qkv_len(), "dqkv").unwrap();
    check_op_input(
        "causal attention N=2 T=5 H=2 Dh=3: dqkv",
        &mut b,
        &qkv,
        |b, v| {
            b.upload(qkv_id, v);
            b.attention_forward(qkv_id, att, out, shape);
            read(b, out, shape.out_len())
        },
        |b, g| {
            b.upload(dout, g);
            b.attention_backward(qkv_id, att, dout, dpre, dqkv, shape);
            read(b, dqkv, shape.qkv_len())
        },
    );
}
