//! Layers and models, written once against the [`Backend`] trait.
//!
//! Each layer is a hand-written forward/backward pair that keeps what its backward pass
//! needs (its input, the normalization statistics), as llm.c does. Buffers are allocated
//! once for the largest batch the model will see; smaller batches use a prefix.
//! Training or evaluation is always an explicit argument.

pub mod norm;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::{
    Activation, AdamHyper, Backend, MatmulShape, NormGeometry, NormGrads, NormMode, NormTensors, RunningStats,
    SgdHyper, TensorId,
};
use crate::error::NormlabError;
pub use norm::NormKind;

/// Train or eval, as `model.train()` / `model.eval()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Train,
    Eval,
}

/// `torch.optim.SGD` or `torch.optim.Adam`, with what stays fixed during a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Optimizer {
    Sgd { momentum: f32, weight_decay: f32 },
    Adam { beta1: f32, beta2: f32, eps: f32, weight_decay: f32 },
}

impl Optimizer {
    pub fn sgd_momentum() -> Self {
        Optimizer::Sgd { momentum: 0.9, weight_decay: 0.0 }
    }
    pub fn adam() -> Self {
        let d = AdamHyper::default();
        Optimizer::Adam { beta1: d.beta1, beta2: d.beta2, eps: d.eps, weight_decay: d.weight_decay }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adam { .. } => "adam",
        }
    }
}

/// A multi-layer perceptron: `Linear → [norm] → activation` per hidden width, then a
/// final `Linear` to the class logits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    pub inputs: usize,
    pub hidden: Vec<usize>,
    pub classes: usize,
    pub norm: NormKind,
    pub activation: Activation,
    /// Bias on the linear layers (redundant right before a BatchNorm, but PyTorch's default).
    pub bias: bool,
    /// Running-statistics momentum; None is PyTorch's cumulative average.
    pub norm_momentum: Option<f32>,
}

/// A learnable tensor with its gradient and optimizer state.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub value: TensorId,
    pub grad: TensorId,
    /// SGD's velocity or Adam's first moment.
    pub state1: TensorId,
    /// Adam's second moment (unused by SGD).
    pub state2: TensorId,
    pub len: usize,
}

impl Param {
    fn new<B: Backend>(backend: &mut B, init: &[f32], label: &str) -> Result<Self, NormlabError> {
        let len = init.len();
        let value = backend.alloc(len, label)?;
        backend.upload(value, init);
        Ok(Param {
            value,
            grad: backend.alloc(len, &format!("{label}.grad"))?,
            state1: backend.alloc(len, &format!("{label}.m"))?,
            state2: backend.alloc(len, &format!("{label}.v"))?,
            len,
        })
    }
}

/// `nn.Linear`: `y = x Wᵀ + b` with W stored `[out, in]`.
pub struct Linear {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Param,
    pub bias: Option<Param>,
    y: TensorId,
    dx: Option<TensorId>,
    x: Option<TensorId>,
}

/// A normalization layer over `[N, C]` features (a fully connected layer's output).
pub struct Norm {
    pub kind: NormKind,
    pub channels: usize,
    pub gamma: Param,
    pub beta: Param,
    pub running: Option<RunningStats>,
    pub momentum: Option<f32>,
    mean: TensorId,
    rstd: TensorId,
    stat_grad: TensorId,
    y: TensorId,
    dx: TensorId,
    /// Set by the forward pass for the backward pass: input, geometry and mode.
    last: Option<(TensorId, NormGeometry, NormMode)>,
}

pub struct ActivationLayer {
    pub kind: Activation,
    pub features: usize,
    x: Option<TensorId>,
    y: TensorId,
    dx: TensorId,
}

pub enum Layer {
    Linear(Linear),
    Norm(Norm),
    Activation(ActivationLayer),
}

/// PyTorch's default `nn.Linear` initialisation: weight and bias uniform in ±1/√fan_in
/// (kaiming_uniform with a = √5).
fn linear_init(rng: &mut ChaCha8Rng, fan_in: usize, len: usize) -> Vec<f32> {
    let bound = 1.0 / (fan_in as f32).sqrt();
    (0..len).map(|_| rng.random_range(-bound..bound)).collect()
}

pub struct Model {
    pub layers: Vec<Layer>,
    pub inputs: usize,
    pub classes: usize,
    pub max_batch: usize,
    /// The gradient with respect to the logits, written by the loss.
    pub dlogits: TensorId,
}

impl Model {
    /// Allocates every buffer for batches of up to `max_batch` rows and initialises the
    /// parameters from `rng`, exactly as the same seed would on any backend.
    pub fn mlp<B: Backend>(
        backend: &mut B,
        config: &MlpConfig,
        max_batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NormlabError> {
        // Validate the norm once for this width (also catches impossible settings early).
        let mut layers = Vec::new();
        let mut width = config.inputs;
        let widths: Vec<usize> = config.hidden.iter().copied().chain([config.classes]).collect();
        for (i, &out) in widths.iter().enumerate() {
            let is_last = i + 1 == widths.len();
            let weight_init = linear_init(rng, width, out * width);
            let bias_init = linear_init(rng, width, out);
            let weight = Param::new(backend, &weight_init, &format!("linear{i}.weight"))?;
            let bias =
                if config.bias { Some(Param::new(backend, &bias_init, &format!("linear{i}.bias"))?) } else { None };
            let dx = if i == 0 { None } else { Some(backend.alloc(max_batch * width, &format!("linear{i}.dx"))?) };
            layers.push(Layer::Linear(Linear {
                inputs: width,
                outputs: out,
                weight,
                bias,
                y: backend.alloc(max_batch * out, &format!("linear{i}.y"))?,
                dx,
                x: None,
            }));
            if is_last {
                break;
            }
            if config.norm != NormKind::None {
                config.norm.geometry(max_batch, out, 1, false)?;
                let stats = max_batch * out;
                let running = if config.norm.has_running_stats() {
                    let mean = backend.alloc(out, &format!("norm{i}.running_mean"))?;
                    let var = backend.alloc(out, &format!("norm{i}.running_var"))?;
                    backend.upload(var, &vec![1.0; out]);
                    Some(RunningStats { mean, var })
                } else {
                    None
                };
                layers.push(Layer::Norm(Norm {
                    kind: config.norm,
                    channels: out,
                    gamma: Param::new(backend, &vec![1.0; out], &format!("norm{i}.weight"))?,
                    beta: Param::new(backend, &vec![0.0; out], &format!("norm{i}.bias"))?,
                    running,
                    momentum: config.norm_momentum,
                    mean: backend.alloc(stats, &format!("norm{i}.mean"))?,
                    rstd: backend.alloc(stats, &format!("norm{i}.rstd"))?,
                    stat_grad: backend.alloc(2 * stats, &format!("norm{i}.stat_grad"))?,
                    y: backend.alloc(max_batch * out, &format!("norm{i}.y"))?,
                    dx: backend.alloc(max_batch * out, &format!("norm{i}.dx"))?,
                    last: None,
                }));
            }
            layers.push(Layer::Activation(ActivationLayer {
                kind: config.activation,
                features: out,
                x: None,
                y: backend.alloc(max_batch * out, &format!("act{i}.y"))?,
                dx: backend.alloc(max_batch * out, &format!("act{i}.dx"))?,
            }));
            width = out;
        }
        Ok(Model {
            layers,
            inputs: config.inputs,
            classes: config.classes,
            max_batch,
            dlogits: backend.alloc(max_batch * config.classes, "dlogits")?,
        })
    }

    /// Every learnable parameter, in a fixed order.
    pub fn params(&self) -> Vec<Param> {
        let mut out = Vec::new();
        for layer in &self.layers {
            match layer {
                Layer::Linear(l) => {
                    out.push(l.weight);
                    out.extend(l.bias);
                }
                Layer::Norm(n) => {
                    out.push(n.gamma);
                    out.push(n.beta);
                }
                Layer::Activation(_) => {}
            }
        }
        out
    }

    /// Records the forward pass of `batch` rows of `x`; returns the logits tensor.
    pub fn forward<B: Backend>(
        &mut self,
        backend: &mut B,
        x: TensorId,
        batch: usize,
        phase: Phase,
    ) -> Result<TensorId, NormlabError> {
        assert!(batch <= self.max_batch, "batch larger than the buffers were made for");
        let mut h = x;
        for layer in &mut self.layers {
            h = match layer {
                Layer::Linear(l) => {
                    l.x = Some(h);
                    let shape = MatmulShape { m: batch, k: l.inputs, n: l.outputs, trans_a: false, trans_b: true };
                    backend.matmul(h, l.weight.value, l.y, shape);
                    if let Some(b) = &l.bias {
                        backend.bias_add(l.y, b.value, batch, l.outputs);
                    }
                    l.y
                }
                Layer::Norm(n) => {
                    let training = phase == Phase::Train;
                    let geometry = n.kind.geometry(batch, n.channels, 1, training)?.expect("a Norm layer has a kind");
                    let mode = if training { NormMode::Train { momentum: n.momentum } } else { NormMode::Eval };
                    backend.norm_forward(&geometry, mode, &n.tensors(h));
                    n.last = Some((h, geometry, mode));
                    n.y
                }
                Layer::Activation(a) => {
                    a.x = Some(h);
                    backend.activation_forward(a.kind, h, a.y, batch * a.features);
                    a.y
                }
            };
        }
        Ok(h)
    }

    /// Records the backward pass from `self.dlogits`, filling every parameter's gradient.
    pub fn backward<B: Backend>(&mut self, backend: &mut B, batch: usize) {
        let mut dy = self.dlogits;
        for layer in self.layers.iter_mut().rev() {
            match layer {
                Layer::Linear(l) => {
                    let x = l.x.expect("forward before backward");
                    // dW[out, in] = dyᵀ[out, N] · x[N, in]
                    let dw = MatmulShape { m: l.outputs, k: batch, n: l.inputs, trans_a: true, trans_b: false };
                    backend.matmul(dy, x, l.weight.grad, dw);
                    if let Some(b) = &l.bias {
                        backend.bias_grad(dy, b.grad, batch, l.outputs);
                    }
                    if let Some(dx) = l.dx {
                        // dx[N, in] = dy[N, out] · W[out, in]
                        let shape = MatmulShape { m: batch, k: l.outputs, n: l.inputs, trans_a: false, trans_b: false };
                        backend.matmul(dy, l.weight.value, dx, shape);
                        dy = dx;
                    }
                }
                Layer::Norm(n) => {
                    let (x, geometry, mode) = n.last.expect("forward before backward");
                    let grads =
                        NormGrads { dy, dx: n.dx, dgamma: n.gamma.grad, dbeta: n.beta.grad, stat_grad: n.stat_grad };
                    backend.norm_backward(&geometry, mode, &n.tensors(x), &grads);
                    dy = n.dx;
                }
                Layer::Activation(a) => {
                    let x = a.x.expect("forward before backward");
                    backend.activation_backward(a.kind, x, a.y, dy, a.dx, batch * a.features);
                    dy = a.dx;
                }
            }
        }
    }

    /// Records one optimizer update of every parameter.
    pub fn update<B: Backend>(&self, backend: &mut B, optimizer: &Optimizer) {
        for p in self.params() {
            match *optimizer {
                Optimizer::Sgd { momentum, weight_decay } => {
                    backend.sgd_step(p.value, p.grad, p.state1, p.len, SgdHyper { momentum, weight_decay })
                }
                Optimizer::Adam { beta1, beta2, eps, weight_decay } => backend.adam_step(
                    p.value,
                    p.grad,
                    p.state1,
                    p.state2,
                    p.len,
                    AdamHyper { beta1, beta2, eps, weight_decay },
                ),
            }
        }
    }
}

impl Norm {
    fn tensors(&self, x: TensorId) -> NormTensors {
        NormTensors {
            x,
            y: self.y,
            gamma: self.gamma.value,
            beta: self.beta.value,
            mean: self.mean,
            rstd: self.rstd,
            running: self.running,
        }
    }
}
