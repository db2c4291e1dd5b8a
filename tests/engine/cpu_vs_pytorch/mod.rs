//! The CPU backend against numbers computed by PyTorch (`tests/fixtures/pytorch/`).
//!
//! Every op is driven through the `Backend` trait, exactly as the layers drive it:
//! allocate, upload, record the op, read back. Outputs start as NaN so that an element
//! the op forgot to write cannot pass by accident.

use normlab::backend::cpu::CpuBackend;
use normlab::backend::{
    Activation, AdamHyper, AttentionShape, Backend, ClipNorm, ConvShape, Epilogue, GradClip, MatmulShape, NormGeometry,
    NormGrads, NormMode, NormTensors, PoolKind, PoolShape, RowMask, RunningStats, SgdHyper, StepScalars, TensorId,
    METRICS_PER_SLOT,
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

mod model;
mod norms;
mod ops;
mod optim;
mod random;
