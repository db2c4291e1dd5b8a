//! Host side of `shaders/pool.wgsl`: max and average pooling, one dispatch per pass.

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::{PoolShape, TensorId};

/// Keep in sync with `Params` in shaders/pool.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct PoolParams {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    kernel: u32,
    stride: u32,
    out_height: u32,
    out_width: u32,
    kind: u32,
    _pad: [u32; 3],
}

impl PoolParams {
    fn new(s: PoolShape) -> Self {
        PoolParams {
            batch: s.batch as u32,
            channels: s.channels as u32,
            height: s.height as u32,
            width: s.width as u32,
            kernel: s.kernel as u32,
            stride: s.stride as u32,
            out_height: s.out_height() as u32,
            out_width: s.out_width() as u32,
            kind: s.kind.shader_code(),
            _pad: [0; 3],
        }
    }
}

/// One thread per output.
pub(super) fn forward(gpu: &mut GpuBackend, x: TensorId, y: TensorId, argmax: TensorId, shape: PoolShape) {
    let params = PoolParams::new(shape);
    let bindings = [(1, t(x)), (2, t(y)), (3, t(argmax))];
    gpu.dispatch(Kernel::PoolForward, &params, &bindings, GpuBackend::grid_1d(shape.output_len()));
}

/// One thread per input element, gathering from the windows that hold it.
pub(super) fn backward(gpu: &mut GpuBackend, dy: TensorId, argmax: TensorId, dx: TensorId, shape: PoolShape) {
    let params = PoolParams::new(shape);
    let bindings = [(4, t(dy)), (5, t(argmax)), (6, t(dx))];
    gpu.dispatch(Kernel::PoolBackward, &params, &bindings, GpuBackend::grid_1d(shape.input_len()));
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::PoolParams>(), 48);
    }
}
