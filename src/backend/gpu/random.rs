//! Host side of `shaders/random.wgsl`: inverted dropout and noisy per-channel scale and
//! shift, drawn from the counter-based hash that `cpu/random.rs` reproduces bit for bit.
//! The step number comes from the per-step uniform that `begin_step` writes.

use bytemuck::{Pod, Zeroable};

use super::{t, Bind, GpuBackend, Kernel};
use crate::backend::random::keep_scale;
use crate::backend::TensorId;

/// Keep in sync with `Params` in shaders/random.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct RandomParams {
    len: u32,
    channels: u32,
    spatial: u32,
    stream: u32,
    p: f32,
    keep_scale: f32,
    strength: f32,
    _pad: u32,
}

impl RandomParams {
    fn dropout(len: usize, p: f32, stream: u32) -> Self {
        // The same f32 the CPU multiplies by, so kept elements match bit for bit.
        RandomParams {
            len: len as u32,
            channels: 0,
            spatial: 0,
            stream,
            p,
            keep_scale: keep_scale(p),
            strength: 0.0,
            _pad: 0,
        }
    }

    fn channel_noise((n, c, s): (usize, usize, usize), strength: f32, stream: u32) -> Self {
        RandomParams {
            len: (n * c * s) as u32,
            channels: c as u32,
            spatial: s as u32,
            stream,
            p: 0.0,
            keep_scale: 0.0,
            strength,
            _pad: 0,
        }
    }

    /// The backward passes read only the length and shape; zeroing the rest lets the
    /// uniform be shared across steps and streams.
    fn backward(len: usize, channels: usize, spatial: usize) -> Self {
        RandomParams {
            len: len as u32,
            channels: channels as u32,
            spatial: spatial as u32,
            stream: 0,
            p: 0.0,
            keep_scale: 0.0,
            strength: 0.0,
            _pad: 0,
        }
    }
}

pub(super) fn dropout_forward(
    gpu: &mut GpuBackend,
    x: TensorId,
    y: TensorId,
    mask: TensorId,
    len: usize,
    p: f32,
    stream: u32,
) {
    let params = RandomParams::dropout(len, p, stream);
    gpu.dispatch(
        Kernel::DropoutForward,
        &params,
        &[(1, Bind::Step), (2, t(x)), (3, t(y)), (4, t(mask))],
        GpuBackend::grid_1d(len),
    );
}

pub(super) fn dropout_backward(gpu: &mut GpuBackend, dy: TensorId, mask: TensorId, dx: TensorId, len: usize) {
    let params = RandomParams::backward(len, 0, 0);
    gpu.dispatch(Kernel::DropoutBackward, &params, &[(5, t(dy)), (6, t(dx)), (8, t(mask))], GpuBackend::grid_1d(len));
}

pub(super) fn channel_noise_forward(
    gpu: &mut GpuBackend,
    x: TensorId,
    y: TensorId,
    noise: TensorId,
    shape: (usize, usize, usize),
    strength: f32,
    stream: u32,
) {
    let params = RandomParams::channel_noise(shape, strength, stream);
    gpu.dispatch(
        Kernel::ChannelNoiseForward,
        &params,
        &[(1, Bind::Step), (2, t(x)), (3, t(y)), (7, t(noise))],
        GpuBackend::grid_1d(shape.0 * shape.1 * shape.2),
    );
}

pub(super) fn channel_noise_backward(
    gpu: &mut GpuBackend,
    dy: TensorId,
    noise: TensorId,
    dx: TensorId,
    (n, c, s): (usize, usize, usize),
) {
    let params = RandomParams::backward(n * c * s, c, s);
    gpu.dispatch(
        Kernel::ChannelNoiseBackward,
        &params,
        &[(5, t(dy)), (6, t(dx)), (9, t(noise))],
        GpuBackend::grid_1d(n * c * s),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::RandomParams>(), 32);
    }
}
