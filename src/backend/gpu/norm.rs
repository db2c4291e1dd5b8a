//! Host side of `shaders/norm.wgsl`: the one kernel family behind every normalization.
//! Forward is two dispatches (statistics; apply, with the block's activation when fused);
//! backward three (statistic gradients, input gradient, γ/β gradients), or two where the
//! statistics' sums are γ's and β's gradients (BatchNorm and its Lp variants).

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::{Activation, NormGeometry, NormGrads, NormMode, NormTensors, RunningUpdate, Spread, TensorId};

/// Keep in sync with `Params` in shaders/norm.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct NormParams {
    batch: u32,
    channels: u32,
    spatial: u32,
    groups: u32,
    reduce_over_batch: u32,
    affine_per_element: u32,
    subtract_mean: u32,
    training: u32,
    update_running: u32,
    eps: f32,
    momentum: f32,
    /// 1: the running estimates are a cumulative average (PyTorch's momentum=None).
    cumulative: u32,
    /// 0 standard deviation, 1 mean absolute deviation (L1), 2 largest absolute deviation (L∞).
    spread: u32,
    /// 0 none, 1 ReLU, 2 tanh: the activation fused after the norm.
    activation: u32,
    /// 1: one statistic per affine index, so the backward statistics are dγ and dβ.
    affine_grads_in_stats: u32,
    /// 1: the input gradient adds the residual's.
    has_residual: u32,
    /// 1: only the elements of real rows (binding 19's targets ≥ 0) enter the statistics.
    masked: u32,
    /// Channels per row of the mask (see `RowMask`).
    mask_features: u32,
    _pad: [u32; 2],
}

impl NormParams {
    fn new(g: &NormGeometry, mode: NormMode, ts: &NormTensors, residual: Option<TensorId>) -> Self {
        let (momentum, cumulative) = match mode.running {
            RunningUpdate::Keep => (0.0, false),
            RunningUpdate::Momentum(m) => (m, false),
            RunningUpdate::Cumulative => (0.0, true),
        };
        NormParams {
            batch: g.batch as u32,
            channels: g.channels as u32,
            spatial: g.spatial as u32,
            groups: g.groups as u32,
            reduce_over_batch: g.reduce_over_batch as u32,
            affine_per_element: g.affine_per_element as u32,
            subtract_mean: g.subtract_mean as u32,
            training: mode.batch_statistics as u32,
            update_running: mode.updates_running() as u32,
            eps: g.eps,
            momentum,
            cumulative: cumulative as u32,
            spread: match g.spread {
                Spread::StdDev => 0,
                Spread::MeanAbs => 1,
                Spread::MaxAbs => 2,
            },
            activation: match ts.activation.map(|a| a.kind) {
                None => 0,
                Some(Activation::Relu) => 1,
                Some(Activation::Tanh) => 2,
            },
            affine_grads_in_stats: affine_grads_in_stats(g) as u32,
            has_residual: residual.is_some() as u32,
            masked: ts.mask.is_some() as u32,
            mask_features: ts.mask.map_or(1, |m| m.features as u32),
            _pad: [0; 2],
        }
    }
}

/// Whether each statistic covers exactly the elements of one γ/β entry (one channel, over
/// the batch and its positions), so that its backward sums are the affine gradients.
fn affine_grads_in_stats(g: &NormGeometry) -> bool {
    g.reduce_over_batch && g.groups == g.channels && !g.affine_per_element
}

/// The batch's targets that mark padding rows, or a spare the kernel never reads.
fn mask_targets(gpu: &GpuBackend, ts: &NormTensors) -> TensorId {
    ts.mask.map_or(gpu.spare[3], |m| m.targets)
}

/// The fused activation's output, or a spare the kernel never touches.
fn act_out(gpu: &GpuBackend, ts: &NormTensors) -> TensorId {
    ts.activation.map_or(gpu.spare[0], |a| a.out)
}

pub(super) fn forward(gpu: &mut GpuBackend, g: &NormGeometry, mode: NormMode, ts: &NormTensors) {
    let params = NormParams::new(g, mode, ts, None);
    // Without running estimates the kernel never touches bindings 4, 5 and 16.
    let (running_mean, running_var, batches_tracked) = match ts.running {
        Some(r) => (r.mean, r.var, r.batches_tracked),
        None => (gpu.spare[0], gpu.spare[1], gpu.spare[2]),
    };
    gpu.dispatch(
        Kernel::NormStats,
        &params,
        &[
            (1, t(ts.x)),
            (2, t(ts.mean)),
            (3, t(ts.rstd)),
            (4, t(running_mean)),
            (5, t(running_var)),
            (16, t(batches_tracked)),
            (19, t(mask_targets(gpu, ts))),
        ],
        [g.stat_count() as u32, 1, 1],
    );
    gpu.dispatch(
        Kernel::NormApply,
        &params,
        &[
            (1, t(ts.x)),
            (6, t(ts.gamma)),
            (7, t(ts.beta)),
            (8, t(ts.y)),
            (14, t(ts.mean)),
            (15, t(ts.rstd)),
            (16, t(batches_tracked)),
            (17, t(act_out(gpu, ts))),
        ],
        GpuBackend::grid_1d(g.elements()),
    );
}

pub(super) fn backward(gpu: &mut GpuBackend, g: &NormGeometry, mode: NormMode, ts: &NormTensors, gr: &NormGrads) {
    let params = NormParams::new(g, mode, ts, gr.residual);
    let act_out = act_out(gpu, ts);
    let residual = gr.residual.unwrap_or(gpu.spare[1]);
    gpu.dispatch(
        Kernel::NormBackwardStats,
        &params,
        &[
            (1, t(ts.x)),
            (6, t(ts.gamma)),
            (9, t(gr.dy)),
            (10, t(gr.stat_grad)),
            (12, t(gr.dgamma)),
            (13, t(gr.dbeta)),
            (14, t(ts.mean)),
            (15, t(ts.rstd)),
            (17, t(act_out)),
            (19, t(mask_targets(gpu, ts))),
        ],
        [g.stat_count() as u32, 1, 1],
    );
    gpu.dispatch(
        Kernel::NormBackwardApply,
        &params,
        &[
            (1, t(ts.x)),
            (6, t(ts.gamma)),
            (9, t(gr.dy)),
            (10, t(gr.stat_grad)),
            (11, t(gr.dx)),
            (14, t(ts.mean)),
            (15, t(ts.rstd)),
            (17, t(act_out)),
            (18, t(residual)),
            (19, t(mask_targets(gpu, ts))),
        ],
        GpuBackend::grid_1d(g.elements()),
    );
    if affine_grads_in_stats(g) {
        return;
    }
    gpu.dispatch(
        Kernel::NormParamGrad,
        &params,
        &[
            (1, t(ts.x)),
            (9, t(gr.dy)),
            (12, t(gr.dgamma)),
            (13, t(gr.dbeta)),
            (14, t(ts.mean)),
            (15, t(ts.rstd)),
            (17, t(act_out)),
        ],
        [g.affine_len() as u32, 1, 1],
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::NormParams>(), 80);
    }
}
