//! Host side of `shaders/optim.wgsl`.

use bytemuck::{Pod, Zeroable};

use crate::backend::{AdamHyper, SgdHyper, StepScalars};

/// What stays fixed for a run. Keep in sync with `Params` in shaders/optim.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct OptimParams {
    len: u32,
    momentum: f32,
    weight_decay: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    _pad: [u32; 2],
}

impl OptimParams {
    pub(super) fn sgd(len: usize, hyper: SgdHyper) -> Self {
        OptimParams {
            len: len as u32,
            momentum: hyper.momentum,
            weight_decay: hyper.weight_decay,
            beta1: 0.0,
            beta2: 0.0,
            eps: 0.0,
            _pad: [0; 2],
        }
    }

    pub(super) fn adam(len: usize, hyper: AdamHyper) -> Self {
        OptimParams {
            len: len as u32,
            momentum: 0.0,
            weight_decay: hyper.weight_decay,
            beta1: hyper.beta1,
            beta2: hyper.beta2,
            eps: hyper.eps,
            _pad: [0; 2],
        }
    }
}

/// What changes every step. Keep in sync with `Step` in shaders/optim.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct StepUniform {
    learning_rate: f32,
    /// Adam's bias corrections raise β to this power: the 1-based step as an f32.
    step: f32,
    /// The step exactly, for the random numbers (an f32 rounds past 2^24 steps).
    index: u32,
    _pad: f32,
}

impl StepUniform {
    pub(super) fn new(scalars: StepScalars) -> Self {
        StepUniform {
            learning_rate: scalars.learning_rate,
            step: scalars.step.max(1) as f32,
            index: scalars.step,
            _pad: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_sizes() {
        assert_eq!(std::mem::size_of::<super::OptimParams>(), 32);
        assert_eq!(std::mem::size_of::<super::StepUniform>(), 16);
    }
}
