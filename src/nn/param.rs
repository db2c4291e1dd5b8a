//! Learnable tensors and how they start: PyTorch's default initialisations, drawn from the
//! run's seed so that every backend and platform starts from the same numbers.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::backend::{Backend, TensorId, VIEW_ALIGN};
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

/// Every parameter of a model, its gradient and its optimizer state, each kind in one
/// arena (a contiguous tensor), every parameter a view at an aligned offset: clipping and
/// the optimizer then treat the whole model as one tensor, in a fixed few dispatches
/// however many layers it has. The gaps between views stay zero (a zero gradient moves
/// neither SGD nor Adam), so an op over a whole arena changes only the parameters.
#[derive(Clone, Copy, Debug)]
pub struct ParamArena {
    pub values: TensorId,
    pub grads: TensorId,
    /// SGD's velocity or Adam's first moment.
    pub state1: TensorId,
    /// Adam's second moment (unused by SGD).
    pub state2: TensorId,
    /// Elements of each arena, the gaps included.
    pub len: usize,
}

impl ParamArena {
    /// Where each of the parameters of `lens` starts, and the arenas' length.
    pub fn layout(lens: &[usize]) -> (Vec<usize>, usize) {
        let mut end = 0;
        let offsets = lens
            .iter()
            .map(|&len| {
                let offset = end;
                end = (offset + len).next_multiple_of(VIEW_ALIGN);
                offset
            })
            .collect();
        (offsets, end.max(1))
    }

    /// The four arenas for parameters of `lens`.
    pub fn alloc(backend: &mut dyn Backend, lens: &[usize]) -> Result<(ParamArena, Vec<usize>), NormlabError> {
        let (offsets, len) = Self::layout(lens);
        let arena = ParamArena {
            values: backend.alloc(len, "parameters")?,
            grads: backend.alloc(len, "parameters.grad")?,
            state1: backend.alloc(len, "parameters.m")?,
            state2: backend.alloc(len, "parameters.v")?,
            len,
        };
        Ok((arena, offsets))
    }
}

impl Param {
    /// A parameter with tensors of its own, outside any arena.
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

    /// The parameter at `offset` of the arenas, starting at `init`.
    pub fn in_arena(
        backend: &mut dyn Backend,
        arena: &ParamArena,
        offset: usize,
        init: &[f32],
        role: ParamRole,
    ) -> Self {
        let len = init.len();
        let value = backend.view(arena.values, offset, len);
        backend.upload(value, init);
        Param {
            value,
            grad: backend.view(arena.grads, offset, len),
            state1: backend.view(arena.state1, offset, len),
            state2: backend.view(arena.state2, offset, len),
            len,
            role,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_starts_aligned_after_the_one_before() {
        let lens = [784 * 256, 256, 1, 64, 65, 10];
        let (offsets, total) = ParamArena::layout(&lens);
        for (i, (&offset, &len)) in offsets.iter().zip(&lens).enumerate() {
            assert_eq!(offset % VIEW_ALIGN, 0, "parameter {i} at {offset}");
            if let Some(&next) = offsets.get(i + 1) {
                assert!(offset + len <= next && next - (offset + len) < VIEW_ALIGN, "{i}: {offset}+{len} then {next}");
            }
        }
        assert_eq!(total, offsets[5] + VIEW_ALIGN);
    }
}
