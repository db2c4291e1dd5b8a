//! Finite-difference gradient checks of a whole small MLP on the CPU backend, and of the
//! backward passes of the random ops (dropout, channel noise) with their step held fixed.
//!
//! The analytic gradient (forward, loss, backward) of each parameter is compared with the
//! central difference `(L(θ + h) − L(θ − h)) / 2h` at a dozen coordinates per parameter.
//! Both use the training phase, so BatchNorm normalizes with batch statistics each time
//! (every forward also nudges the running estimates, which training mode never reads).
//!
//! The loss is an f32, so a difference of two losses carries rounding noise of about
//! 1e-7 / 2h; the tolerance is relative (2 %) with an absolute floor above that noise.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::{Activation, Backend, ConvShape, PoolKind, PoolShape, StepScalars, TensorId, METRICS_PER_SLOT};
use normlab::nn::{
    Architecture, LpOrder, MlpConfig, Model, ModelChoices, ModelConfig, NormKind, NormPosition, Phase, Placement,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fixtures::{read, tensor_from};

const RTOL: f32 = 2e-2;
/// Coordinates checked per parameter (all of them when it has fewer).
const COORDINATES: usize = 12;

struct Net {
    b: CpuBackend,
    model: Model,
    x: TensorId,
    labels: TensorId,
    metrics: TensorId,
    batch: usize,
    classes: usize,
    /// Targets per example: 1, or a sequence's length.
    targets: usize,
}

impl Net {
    fn new(norm: NormKind, activation: Activation, hidden: Vec<usize>, seed: u64) -> Net {
        let (inputs, classes, batch) = (6, 3, 7);
        let config = MlpConfig { inputs, hidden, classes, norm, activation, bias: true, norm_momentum: Some(0.1) };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut b = CpuBackend::new();
        let model = Model::mlp(&mut b, &config, batch, &mut rng).expect("the model builds");
        // Non-trivial γ and β (the model starts at 1 and 0), so that their gradients and
        // the γ-scaled paths of the input gradient are exercised.
        for n in model.norms() {
            let gamma: Vec<f32> = (0..n.gamma.len).map(|_| rng.random_range(0.6..1.4)).collect();
            let beta: Vec<f32> = (0..n.beta.len).map(|_| rng.random_range(-0.4..0.4)).collect();
            b.upload(n.gamma.value, &gamma);
            b.upload(n.beta.value, &beta);
        }
        let x: Vec<f32> = (0..batch * inputs).map(|_| rng.random_range(-2.0..2.0)).collect();
        let labels: Vec<f32> = (0..batch).map(|_| rng.random_range(0..classes) as f32).collect();
        let x = tensor_from(&mut b, &x, "x");
        let labels = tensor_from(&mut b, &labels, "labels");
        let metrics = b.alloc(METRICS_PER_SLOT, "metrics").unwrap();
        Net { b, model, x, labels, metrics, batch, classes, targets: 1 }
    }

    /// The character model of lesson 3 in miniature: 3 token ids per sample from a vocabulary
    /// of 6, embeddings of 4, a hidden layer of 5 with BatchNorm and tanh.
    fn char_model(seed: u64) -> Net {
        let (context, vocab, batch) = (3, 6, 7);
        let config = ModelConfig {
            choices: ModelChoices {
                architecture: Architecture::CharMlp { embed: 4, hidden: vec![5] },
                norms: vec![NormKind::Batch],
                placement: Placement::Before,
                activation: Activation::Tanh,
                ..ModelChoices::default()
            },
            input: (context, 1, 1),
            classes: vocab,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut b = CpuBackend::new();
        let model = Model::build(&mut b, &config, batch, &mut rng).expect("the model builds");
        let x: Vec<f32> = (0..batch * context).map(|_| rng.random_range(0..vocab) as f32).collect();
        let labels: Vec<f32> = (0..batch).map(|_| rng.random_range(0..vocab) as f32).collect();
        let x = tensor_from(&mut b, &x, "token ids");
        let labels = tensor_from(&mut b, &labels, "labels");
        let metrics = b.alloc(METRICS_PER_SLOT, "metrics").unwrap();
        Net { b, model, x, labels, metrics, batch, classes: vocab, targets: 1 }
    }

    /// A transformer in miniature: sequences of 5 tokens from a vocabulary of 6, width 8,
    /// 2 heads, 2 blocks with `norm` placed at `position`, tanh in the MLPs (smooth, so that
    /// no kink sits inside a finite difference); the last targets of two sequences are
    /// padding, which the loss ignores.
    fn transformer(norm: NormKind, position: NormPosition, seed: u64) -> Net {
        let (seq_len, vocab, batch) = (5, 6, 3);
        let architecture =
            Architecture::Transformer { dim: 8, heads: 2, blocks: 2, context: seq_len, norm_position: position };
        let config = ModelConfig {
            choices: ModelChoices {
                architecture,
                norms: vec![norm],
                activation: Activation::Tanh,
                ..ModelChoices::default()
            },
            input: (seq_len, 1, 1),
            classes: vocab,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut b = CpuBackend::new();
        let model = Model::build(&mut b, &config, batch, &mut rng).expect("the model builds");
        for n in model.norms() {
            let gamma: Vec<f32> = (0..n.gamma.len).map(|_| rng.random_range(0.6..1.4)).collect();
            let beta: Vec<f32> = (0..n.beta.len).map(|_| rng.random_range(-0.4..0.4)).collect();
            b.upload(n.gamma.value, &gamma);
            b.upload(n.beta.value, &beta);
        }
        let tokens = batch * seq_len;
        let x: Vec<f32> = (0..tokens).map(|_| rng.random_range(0..vocab) as f32).collect();
        let mut labels: Vec<f32> = (0..tokens).map(|_| rng.random_range(0..vocab) as f32).collect();
        labels[seq_len - 1] = -1.0;
        labels[tokens - 2..].fill(-1.0);
        let x = tensor_from(&mut b, &x, "token ids");
        // In the model's own targets buffer, where its BatchNorm finds the padding.
        b.upload(model.targets, &labels);
        let labels = model.targets;
        let metrics = b.alloc(METRICS_PER_SLOT, "metrics").unwrap();
        Net { b, model, x, labels, metrics, batch, classes: vocab, targets: seq_len }
    }

    fn loss(&mut self) -> f32 {
        let logits = self.model.forward(&mut self.b, self.x, self.batch, Phase::Train);
        let rows = self.batch * self.targets;
        self.b.cross_entropy(logits, self.labels, None, self.metrics, 0, rows, self.classes);
        read(&mut self.b, self.metrics, 1)[0]
    }

    /// Every parameter's analytic gradient, in `Model::params()` order.
    fn gradients(&mut self) -> Vec<Vec<f32>> {
        let logits = self.model.forward(&mut self.b, self.x, self.batch, Phase::Train);
        let dlogits = self.model.dlogits;
        let rows = self.batch * self.targets;
        self.b.cross_entropy(logits, self.labels, Some(dlogits), self.metrics, 0, rows, self.classes);
        self.model.backward(&mut self.b, self.batch);
        self.model.params().iter().map(|p| read(&mut self.b, p.grad, p.len)).collect()
    }
}

/// Evenly spread coordinates of a parameter of `len` values.
fn coordinates(len: usize) -> Vec<usize> {
    if len <= COORDINATES {
        (0..len).collect()
    } else {
        // The middle of each of COORDINATES equal stretches.
        (0..COORDINATES).map(|i| (2 * i + 1) * len / (2 * COORDINATES)).collect()
    }
}

/// Checks every parameter; returns the number of coordinates compared. `h` is the step;
/// `atol` the absolute floor. With `skip_kinks`, a coordinate where the two one-sided
/// differences disagree far more than curvature explains (a ReLU switched inside ±h) is
/// skipped and counted; at most one in ten may be.
fn check(name: &str, mut net: Net, h: f32, atol: f32, skip_kinks: bool) -> usize {
    let analytic = net.gradients();
    let params = net.model.params();
    let base_loss = net.loss();
    let mut checked = 0;
    let mut kinks = Vec::new();
    let mut failures = Vec::new();
    let mut worst = (0.0f32, String::new());
    for (pi, p) in params.iter().enumerate() {
        let original = read(&mut net.b, p.value, p.len);
        for i in coordinates(p.len) {
            let mut v = original.clone();
            v[i] = original[i] + h;
            let up = v[i];
            net.b.upload(p.value, &v);
            let loss_up = net.loss();
            v[i] = original[i] - h;
            let down = v[i];
            net.b.upload(p.value, &v);
            let loss_down = net.loss();
            net.b.upload(p.value, &original);
            // The step actually taken in f32, not the nominal 2h.
            let numeric = (loss_up - loss_down) / (up - down);
            let got = analytic[pi][i];
            let diff = (numeric - got).abs();
            let allowed = atol + RTOL * numeric.abs().max(got.abs());
            let where_ = format!("param {pi} [{i}]: analytic {got:.6e}, numeric {numeric:.6e}");
            if skip_kinks {
                let right = (loss_up - base_loss) / (up - original[i]);
                let left = (base_loss - loss_down) / (original[i] - down);
                if (right - left).abs() > 10.0 * allowed {
                    kinks.push(where_);
                    continue;
                }
            }
            checked += 1;
            if diff / allowed > worst.0 {
                worst = (diff / allowed, where_.clone());
            }
            if diff > allowed {
                failures.push(where_);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {checked} gradient coordinates disagree with finite differences:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    assert!(kinks.len() * 10 <= checked, "{name}: too many coordinates at ReLU kinks: {kinks:#?}");
    eprintln!(
        "{name}: {checked} coordinates agree (worst at {:.2} of the tolerance: {}); {} skipped at kinks",
        worst.0,
        worst.1,
        kinks.len()
    );
    checked
}

#[test]
fn mlp_batch_norm_tanh_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Batch, Activation::Tanh, vec![5, 4], 11);
    assert!(check("BN tanh", net, 1e-2, 2e-4, false) > 60);
}

#[test]
fn mlp_batch_norm_relu_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Batch, Activation::Relu, vec![5, 4], 12);
    assert!(check("BN relu", net, 3e-3, 3e-4, true) > 60);
}

#[test]
fn mlp_layer_norm_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Layer, Activation::Tanh, vec![5, 4], 13);
    assert!(check("LayerNorm tanh", net, 1e-2, 2e-4, false) > 60);
}

#[test]
fn mlp_group_norm_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Group { groups: 2 }, Activation::Tanh, vec![6, 4], 14);
    assert!(check("GroupNorm(2) tanh", net, 1e-2, 2e-4, false) > 60);
}

#[test]
fn mlp_rms_norm_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Rms, Activation::Tanh, vec![5, 4], 15);
    assert!(check("RMSNorm tanh", net, 1e-2, 2e-4, false) > 60);
}

// |d| and max|d| have kinks (a deviation crossing 0, the maximum changing hands): skipped
// like ReLU's.
#[test]
fn mlp_l1_norm_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Lp { order: LpOrder::L1 }, Activation::Tanh, vec![5, 4], 16);
    assert!(check("L1 norm tanh", net, 3e-3, 3e-4, true) > 60);
}

#[test]
fn mlp_linf_norm_gradients_match_finite_differences() {
    let net = Net::new(NormKind::Lp { order: LpOrder::Linf }, Activation::Tanh, vec![5, 4], 17);
    assert!(check("L∞ norm tanh", net, 3e-3, 3e-4, true) > 60);
}

/// The embedding table's gradient (a transposed product with one-hot rows) included.
#[test]
fn character_model_gradients_match_finite_differences() {
    assert!(check("char model", Net::char_model(31), 1e-2, 2e-4, false) > 40);
}

#[test]
fn cross_entropy_gradient_matches_finite_differences() {
    let (rows, classes) = (5, 4);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let logits: Vec<f32> = (0..rows * classes).map(|_| rng.random_range(-3.0..3.0)).collect();
    let labels: Vec<f32> = (0..rows).map(|_| rng.random_range(0..classes) as f32).collect();
    let mut b = CpuBackend::new();
    let logits_id = tensor_from(&mut b, &logits, "logits");
    let labels_id = tensor_from(&mut b, &labels, "labels");
    let dlogits = b.alloc(rows * classes, "dlogits").unwrap();
    let metrics = b.alloc(METRICS_PER_SLOT, "metrics").unwrap();
    b.cross_entropy(logits_id, labels_id, Some(dlogits), metrics, 0, rows, classes);
    let analytic = read(&mut b, dlogits, rows * classes);
    let h = 1e-2;
    for i in 0..rows * classes {
        let mut loss_at = |value: f32| {
            let mut v = logits.clone();
            v[i] = value;
            b.upload(logits_id, &v);
            b.cross_entropy(logits_id, labels_id, None, metrics, 0, rows, classes);
            read(&mut b, metrics, 1)[0]
        };
        let (up, down) = (logits[i] + h, logits[i] - h);
        let numeric = (loss_at(up) - loss_at(down)) / (up - down);
        let allowed = 1e-4 + RTOL * numeric.abs();
        assert!((numeric - analytic[i]).abs() <= allowed, "dlogits[{i}]: analytic {}, numeric {numeric}", analytic[i]);
    }
}
/// Checks the backward pass of a random op (dropout, channel noise) against central
/// differences. The step is fixed with `begin_step`, so every forward draws the same mask
/// or noise and the op is a fixed function of x. The loss `L = Σ w·tanh(y)` has a
/// non-constant `dL/dy = w·(1 − tanh²(y))`, so more than a linear map is checked.
/// `forward(b, x, y, state)` and `backward(b, dy, state, dx)` record the op under test;
/// `state` (the mask or the noise) has `state_len` elements. Returns the analytic dx.
fn check_random_op(
    name: &str,
    len: usize,
    state_len: usize,
    forward: impl Fn(&mut CpuBackend, TensorId, TensorId, TensorId),
    backward: impl Fn(&mut CpuBackend, TensorId, TensorId, TensorId),
) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(51);
    let x: Vec<f32> = (0..len).map(|_| rng.random_range(-1.5..1.5)).collect();
    let w: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut b = CpuBackend::new();
    b.begin_step(StepScalars { learning_rate: 0.0, step: 5 });
    let x_id = tensor_from(&mut b, &x, "x");
    let (y_id, dy_id, dx_id) = (b.alloc(len, "y").unwrap(), b.alloc(len, "dy").unwrap(), b.alloc(len, "dx").unwrap());
    let state = b.alloc(state_len, "mask or noise").unwrap();
    let forward_y = |b: &mut CpuBackend, x: &[f32]| {
        b.upload(x_id, x);
        forward(b, x_id, y_id, state);
        read(b, y_id, len)
    };
    let loss = |y: &[f32]| y.iter().zip(&w).map(|(&y, w)| w * (y as f64).tanh()).sum::<f64>();

    let y = forward_y(&mut b, &x);
    let dy: Vec<f32> = y.iter().zip(&w).map(|(&y, w)| (w * (1.0 - (y as f64).tanh().powi(2))) as f32).collect();
    b.upload(dy_id, &dy);
    backward(&mut b, dy_id, state, dx_id);
    let analytic = read(&mut b, dx_id, len);

    let h = 1e-2;
    let mut failures = Vec::new();
    for i in 0..len {
        let mut v = x.clone();
        v[i] = x[i] + h;
        let up = v[i];
        let loss_up = loss(&forward_y(&mut b, &v));
        v[i] = x[i] - h;
        let down = v[i];
        let loss_down = loss(&forward_y(&mut b, &v));
        // The step actually taken in f32, not the nominal 2h.
        let numeric = ((loss_up - loss_down) / (up - down) as f64) as f32;
        let allowed = 1e-4 + RTOL * numeric.abs().max(analytic[i].abs());
        if (numeric - analytic[i]).abs() > allowed {
            failures.push(format!("dx[{i}]: analytic {:.6e}, numeric {numeric:.6e}", analytic[i]));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {len} coordinates disagree:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    eprintln!("{name}: {len} coordinates agree");
    analytic
}

#[test]
fn dropout_gradient_matches_finite_differences() {
    let len = 64;
    let dx = check_random_op(
        "dropout p = 0.4",
        len,
        len,
        |b, x, y, mask| b.dropout_forward(x, y, mask, len, 0.4, 3),
        |b, dy, mask, dx| b.dropout_backward(dy, mask, dx, len),
    );
    // Both kinds of element were checked: dropped ones (gradient exactly 0) and kept ones.
    let dropped = dx.iter().filter(|&&v| v == 0.0).count();
    assert!(dropped > 5 && dropped < len - 5, "{dropped} of {len} dropped");
}

#[test]
fn channel_noise_gradient_matches_finite_differences() {
    let shape = (3, 4, 5);
    let len = shape.0 * shape.1 * shape.2;
    check_random_op(
        "channel noise strength 0.8",
        len,
        2 * shape.1,
        |b, x, y, noise| b.channel_noise_forward(x, y, noise, shape, 0.8, 6),
        |b, dy, noise, dx| b.channel_noise_backward(dy, noise, dx, shape),
    );
}

mod single_ops;

#[test]
fn transformer_pre_layer_norm_gradients_match_finite_differences() {
    check("transformer, pre-LayerNorm", Net::transformer(NormKind::Layer, NormPosition::Pre, 31), 2e-2, 5e-5, false);
}

#[test]
fn transformer_post_layer_norm_gradients_match_finite_differences() {
    check("transformer, post-LayerNorm", Net::transformer(NormKind::Layer, NormPosition::Post, 32), 2e-2, 5e-5, false);
}

#[test]
fn transformer_pre_rms_norm_gradients_match_finite_differences() {
    check("transformer, pre-RMSNorm", Net::transformer(NormKind::Rms, NormPosition::Pre, 33), 2e-2, 5e-5, false);
}

#[test]
fn transformer_without_norms_gradients_match_finite_differences() {
    check("transformer, no norm", Net::transformer(NormKind::None, NormPosition::Pre, 34), 2e-2, 5e-5, false);
    check("transformer, post, no norm", Net::transformer(NormKind::None, NormPosition::Post, 35), 2e-2, 5e-5, false);
}

#[test]
fn transformer_batch_norm_gradients_match_finite_differences() {
    check("transformer, pre-BatchNorm", Net::transformer(NormKind::Batch, NormPosition::Pre, 36), 2e-2, 5e-5, false);
    check("transformer, post-BatchNorm", Net::transformer(NormKind::Batch, NormPosition::Post, 37), 2e-2, 5e-5, false);
}

/// BatchNorm per position over the real tokens: position 4 has one real token in the
/// batch, so its statistic is that token's (x̂ = 0) and the padding beside it moves nothing.
#[test]
fn transformer_batch_norm_per_position_gradients_match_finite_differences() {
    let net = Net::transformer(NormKind::BatchPerPosition, NormPosition::Pre, 38);
    check("transformer, pre-BatchNorm per position", net, 2e-2, 5e-5, false);
}
