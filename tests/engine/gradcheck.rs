//! Finite-difference gradient checks of a whole small MLP on the CPU backend.
//!
//! The analytic gradient (forward, loss, backward) of each parameter is compared with the
//! central difference `(L(θ + h) − L(θ − h)) / 2h` at a dozen coordinates per parameter.
//! Both use the training phase, so BatchNorm normalizes with batch statistics each time
//! (every forward also nudges the running estimates, which training mode never reads).
//!
//! The loss is an f32, so a difference of two losses carries rounding noise of about
//! 1e-7 / 2h; the tolerance is relative (2 %) with an absolute floor above that noise.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::{Activation, Backend, TensorId};
use normlab::nn::{MlpConfig, Model, NormKind, Phase};
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
        for layer in &model.layers {
            if let normlab::nn::Layer::Norm(n) = layer {
                let gamma: Vec<f32> = (0..n.gamma.len).map(|_| rng.random_range(0.6..1.4)).collect();
                let beta: Vec<f32> = (0..n.beta.len).map(|_| rng.random_range(-0.4..0.4)).collect();
                b.upload(n.gamma.value, &gamma);
                b.upload(n.beta.value, &beta);
            }
        }
        let x: Vec<f32> = (0..batch * inputs).map(|_| rng.random_range(-2.0..2.0)).collect();
        let labels: Vec<f32> = (0..batch).map(|_| rng.random_range(0..classes) as f32).collect();
        let x = tensor_from(&mut b, &x, "x");
        let labels = tensor_from(&mut b, &labels, "labels");
        let metrics = b.alloc(2, "metrics").unwrap();
        Net { b, model, x, labels, metrics, batch, classes }
    }

    fn loss(&mut self) -> f32 {
        let logits = self.model.forward(&mut self.b, self.x, self.batch, Phase::Train).expect("forward");
        self.b.cross_entropy(logits, self.labels, None, self.metrics, 0, self.batch, self.classes);
        read(&mut self.b, self.metrics, 1)[0]
    }

    /// Every parameter's analytic gradient, in `Model::params()` order.
    fn gradients(&mut self) -> Vec<Vec<f32>> {
        let logits = self.model.forward(&mut self.b, self.x, self.batch, Phase::Train).expect("forward");
        let dlogits = self.model.dlogits;
        self.b.cross_entropy(logits, self.labels, Some(dlogits), self.metrics, 0, self.batch, self.classes);
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
    let metrics = b.alloc(2, "metrics").unwrap();
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
