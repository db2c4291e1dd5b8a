//! Host side of `shaders/clip.wgsl`: global-norm and per-value gradient clipping, recorded
//! into the current encoder with no read-back. The partial sums and the clip coefficient
//! live in two scratch tensors owned by the backend.

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::{Backend, ClipNorm, GradClip, TensorId};

/// Keep in sync with `Params` in shaders/clip.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct ClipParams {
    len: u32,
    index: u32,
    count: u32,
    slot: u32,
    mode: u32,
    stage: u32,
    max_norm: f32,
    clip: f32,
    norm: u32,
    pad: [u32; 3],
}

/// The shader's `MODE_*` codes.
const MODE_NONE: u32 = 0;
const MODE_NORM: u32 = 1;
const MODE_VALUE: u32 = 2;

/// The shader's `NORM_*` code of a norm type.
fn norm_code(norm: ClipNorm) -> u32 {
    match norm {
        ClipNorm::L2 => 0,
        ClipNorm::L1 => 1,
        ClipNorm::Inf => 2,
    }
}

impl ClipParams {
    const ZERO: ClipParams = ClipParams {
        len: 0,
        index: 0,
        count: 0,
        slot: 0,
        mode: 0,
        stage: 0,
        max_norm: 0.0,
        clip: 0.0,
        norm: 0,
        pad: [0; 3],
    };

    fn partial(len: usize, index: usize, norm: ClipNorm) -> Self {
        ClipParams { len: len as u32, index: index as u32, norm: norm_code(norm), ..Self::ZERO }
    }

    /// Stage 0 measures in the clip's own norm; stage 1 (after value clipping) in L2.
    fn finalize(count: usize, slot: usize, clip: GradClip, stage: u32, norm: ClipNorm) -> Self {
        let (mode, max_norm) = match clip {
            GradClip::None => (MODE_NONE, 0.0),
            GradClip::Norm { max_norm, .. } => (MODE_NORM, max_norm),
            GradClip::Value { .. } => (MODE_VALUE, 0.0),
        };
        let norm = norm_code(norm);
        ClipParams { count: count as u32, slot: slot as u32, mode, stage, max_norm, norm, ..Self::ZERO }
    }

    fn apply(len: usize, clip: GradClip) -> Self {
        let (mode, clip) = match clip {
            GradClip::None => (MODE_NONE, 0.0),
            GradClip::Norm { .. } => (MODE_NORM, 0.0),
            GradClip::Value { clip } => (MODE_VALUE, clip),
        };
        ClipParams { len: len as u32, mode, clip, ..Self::ZERO }
    }
}

/// The backend's clipping scratch: the partial results of every workgroup measuring, and
/// the clip coefficient `factor[0]` that `clip_finalize` writes and `clip_apply` reads.
#[derive(Clone, Copy, Debug)]
pub(super) struct ClipScratch {
    partials: TensorId,
    capacity: usize,
    factor: TensorId,
}

/// The scratch, made on first use and replaced by a larger one when a longer list of
/// gradients comes (the old tensors stay allocated: bind groups cached for them may
/// still be in use, and a list only grows a few times in a run).
fn scratch(gpu: &mut GpuBackend, count: usize) -> ClipScratch {
    if let Some(s) = gpu.clip_scratch {
        if s.capacity >= count {
            return s;
        }
    }
    let capacity = count.max(1).next_power_of_two().max(16);
    let partials = gpu.alloc(capacity, "clip partial sums").expect("a few floats fit any device");
    let factor = match gpu.clip_scratch {
        Some(s) => s.factor,
        None => gpu.alloc(1, "clip factor").expect("one float fits any device"),
    };
    let s = ClipScratch { partials, capacity, factor };
    gpu.clip_scratch = Some(s);
    s
}

/// Workgroups measuring a gradient of `len` elements: one per 4 096 elements (16 each
/// thread), at most 64, so that a model's whole arena is measured by many cores at once.
fn partial_groups(len: usize) -> usize {
    len.div_ceil(4096).clamp(1, 64)
}

/// The partial results all of `grads` need.
fn partial_count(grads: &[(TensorId, usize)]) -> usize {
    grads.iter().map(|&(_, len)| partial_groups(len)).sum()
}

/// Records one dispatch per gradient; its workgroups' Σ g², Σ |g| or max |g| go to
/// consecutive `partials`.
fn measure(gpu: &mut GpuBackend, s: ClipScratch, grads: &[(TensorId, usize)], norm: ClipNorm) {
    let mut index = 0;
    for &(grad, len) in grads {
        let groups = partial_groups(len);
        let params = ClipParams::partial(len, index, norm);
        gpu.dispatch(Kernel::ClipPartial, &params, &[(1, t(grad)), (3, t(s.partials))], [groups as u32, 1, 1]);
        index += groups;
    }
}

pub(super) fn clip_gradients(
    gpu: &mut GpuBackend,
    grads: &[(TensorId, usize)],
    clip: GradClip,
    metrics: TensorId,
    slot: usize,
) {
    let count = partial_count(grads);
    let s = scratch(gpu, count);
    measure(gpu, s, grads, clip.norm_type());
    let finalize = ClipParams::finalize(count, slot, clip, 0, clip.norm_type());
    gpu.dispatch(Kernel::ClipFinalize, &finalize, &[(3, t(s.partials)), (4, t(s.factor)), (6, t(metrics))], [1, 1, 1]);
    if clip == GradClip::None {
        return;
    }
    for &(grad, len) in grads {
        let params = ClipParams::apply(len, clip);
        gpu.dispatch(Kernel::ClipApply, &params, &[(2, t(grad)), (5, t(s.factor))], GpuBackend::grid_1d(len));
    }
    if let GradClip::Value { .. } = clip {
        // Clamping changes each element differently, so the norm after is measured again.
        measure(gpu, s, grads, ClipNorm::L2);
        let finalize = ClipParams::finalize(count, slot, clip, 1, ClipNorm::L2);
        gpu.dispatch(
            Kernel::ClipFinalize,
            &finalize,
            &[(3, t(s.partials)), (4, t(s.factor)), (6, t(metrics))],
            [1, 1, 1],
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::ClipParams>(), 48);
    }
}
