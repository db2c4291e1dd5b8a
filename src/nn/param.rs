//! Learnable tensors and how they start: PyTorch's default initialisations, drawn from the
//! run's seed so that every backend and platform starts from the same numbers.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::backend::{Backend, TensorId};
use crate::error::NormlabError;

/// What a parameter is to its layer (probes and lessons tell weights from the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamRole {
    /// A linear or conv weight, or an embedding table.
    Weight,
    Bias,
    /// A normalization's scale γ.
    Gamma,
    /// A normalization's shift β.
    Beta,
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
    pub role: ParamRole,
}

impl Param {
    pub fn new(backend: &mut dyn Backend, init: &[f32], role: ParamRole, label: &str) -> Result<Self, NormlabError> {
        let len = init.len();
        let value = backend.alloc(len, label)?;
        backend.upload(value, init);
        Ok(Param {
            value,
            grad: backend.alloc(len, &format!("{label}.grad"))?,
            state1: backend.alloc(len, &format!("{label}.m"))?,
            state2: backend.alloc(len, &format!("{label}.v"))?,
            len,
            role,
        })
    }
}

/// PyTorch's default initialisation of `nn.Linear` and `nn.Conv2d`: weight and bias
/// uniform in ±1/√fan_in (kaiming_uniform with a = √5).
pub fn uniform_init(rng: &mut ChaCha8Rng, fan_in: usize, len: usize) -> Vec<f32> {
    let bound = 1.0 / (fan_in as f32).sqrt();
    (0..len).map(|_| rng.random_range(-bound..bound)).collect()
}

/// `nn.Embedding`'s initialisation: standard normal entries (Box–Muller, so that every
/// backend and platform draws the same numbers from the same seed).
pub fn normal_init(rng: &mut ChaCha8Rng, len: usize) -> Vec<f32> {
    (0..len)
        .map(|_| {
            let u1: f64 = rng.random_range(f64::EPSILON..1.0);
            let u2: f64 = rng.random_range(0.0..1.0);
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
        })
        .collect()
}

/// `weights` multiplied by `scale` (lesson 1's bad initialisations).
pub fn scaled(mut weights: Vec<f32>, scale: f32) -> Vec<f32> {
    if scale != 1.0 {
        weights.iter_mut().for_each(|w| *w *= scale);
    }
    weights
}
