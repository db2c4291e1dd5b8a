//! Host side of `shaders/conv.wgsl`: 2-D convolution as three implicit matrix products,
//! one dispatch per pass.

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::{ConvShape, TensorId};

/// Which product a dispatch computes (the shader's `m`, `k`, `n` differ per pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Forward,
    BackwardInput,
    BackwardWeight,
}

/// Keep in sync with `Params` in shaders/conv.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct ConvParams {
    batch: u32,
    in_channels: u32,
    out_channels: u32,
    height: u32,
    width: u32,
    kernel: u32,
    stride: u32,
    padding: u32,
    out_height: u32,
    out_width: u32,
    m: u32,
    k: u32,
    n: u32,
    /// 1: the forward pass adds `bias[co]` to every output of channel co.
    has_bias: u32,
    _pad: [u32; 2],
}

impl ConvParams {
    fn new(s: ConvShape, pass: Pass, has_bias: bool) -> Self {
        let (out_h, out_w) = (s.out_height(), s.out_width());
        let taps = s.kernel * s.kernel;
        // (rows, summed, columns) of the pass's product; see the table in the shader.
        let (m, k, n) = match pass {
            Pass::Forward => (s.batch * out_h * out_w, s.in_channels * taps, s.out_channels),
            Pass::BackwardInput => (s.batch * s.height * s.width, s.out_channels * taps, s.in_channels),
            Pass::BackwardWeight => (s.out_channels, s.batch * out_h * out_w, s.in_channels * taps),
        };
        ConvParams {
            batch: s.batch as u32,
            in_channels: s.in_channels as u32,
            out_channels: s.out_channels as u32,
            height: s.height as u32,
            width: s.width as u32,
            kernel: s.kernel as u32,
            stride: s.stride as u32,
            padding: s.padding as u32,
            out_height: out_h as u32,
            out_width: out_w as u32,
            m: m as u32,
            k: k as u32,
            n: n as u32,
            has_bias: has_bias as u32,
            _pad: [0; 2],
        }
    }
}

/// Each workgroup covers a 32×32 block of the product.
const BLOCK: u32 = 32;
const MAX_GROUPS: u32 = 65_535;

/// Column blocks along x, row blocks along y, folded into z past 65 535 (a batch of 512
/// 28×28 images is 401 408 rows, 12 544 blocks: no fold; the fold starts near 2.1 M rows).
fn grid(params: &ConvParams) -> [u32; 3] {
    let columns = params.n.div_ceil(BLOCK).max(1);
    let rows = params.m.div_ceil(BLOCK).max(1);
    assert!(columns <= MAX_GROUPS, "a convolution with {} columns is beyond the kernel's grid", params.n);
    if rows <= MAX_GROUPS {
        [columns, rows, 1]
    } else {
        [columns, MAX_GROUPS, rows.div_ceil(MAX_GROUPS)]
    }
}

fn dispatch(gpu: &mut GpuBackend, kernel: Kernel, params: ConvParams, inputs: [(u32, TensorId); 2], out: TensorId) {
    // Each backward entry point reads only its two inputs, so its layout has only those slots.
    let bindings = [(inputs[0].0, t(inputs[0].1)), (inputs[1].0, t(inputs[1].1)), (4, t(out))];
    gpu.dispatch(kernel, &params, &bindings, grid(&params));
}

pub(super) fn forward(
    gpu: &mut GpuBackend,
    x: TensorId,
    weight: TensorId,
    y: TensorId,
    shape: ConvShape,
    bias: Option<TensorId>,
) {
    let params = ConvParams::new(shape, Pass::Forward, bias.is_some());
    // Without a bias the kernel never reads binding 5.
    let bias = bias.unwrap_or(gpu.spare[0]);
    let bindings = [(1, t(x)), (2, t(weight)), (4, t(y)), (5, t(bias))];
    gpu.dispatch(Kernel::ConvForward, &params, &bindings, grid(&params));
}

pub(super) fn backward_input(gpu: &mut GpuBackend, dy: TensorId, weight: TensorId, dx: TensorId, shape: ConvShape) {
    let params = ConvParams::new(shape, Pass::BackwardInput, false);
    dispatch(gpu, Kernel::ConvBackwardInput, params, [(3, dy), (2, weight)], dx);
}

pub(super) fn backward_weight(gpu: &mut GpuBackend, dy: TensorId, x: TensorId, dweight: TensorId, shape: ConvShape) {
    let params = ConvParams::new(shape, Pass::BackwardWeight, false);
    dispatch(gpu, Kernel::ConvBackwardWeight, params, [(3, dy), (1, x)], dweight);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<ConvParams>(), 64);
    }

    #[test]
    fn each_pass_is_the_product_in_the_shader_table() {
        let s = ConvShape {
            batch: 64,
            in_channels: 32,
            out_channels: 64,
            height: 14,
            width: 14,
            kernel: 3,
            stride: 1,
            padding: 1,
        };
        let mkn = |p: ConvParams| (p.m, p.k, p.n);
        assert_eq!(mkn(ConvParams::new(s, Pass::Forward, false)), (64 * 196, 288, 64));
        assert_eq!(mkn(ConvParams::new(s, Pass::BackwardInput, false)), (64 * 196, 576, 32));
        assert_eq!(mkn(ConvParams::new(s, Pass::BackwardWeight, false)), (64, 64 * 196, 288));
    }

    #[test]
    fn large_batches_fold_the_row_blocks_into_z() {
        let s = ConvShape {
            batch: 512,
            in_channels: 1,
            out_channels: 32,
            height: 28,
            width: 28,
            kernel: 3,
            stride: 1,
            padding: 1,
        };
        assert_eq!(grid(&ConvParams::new(s, Pass::Forward, false)), [1, 12_544, 1]);
        let huge = ConvShape { batch: 8192, height: 32, width: 32, ..s };
        // 8 388 608 rows: 262 144 blocks in five slices of 65 535 (the last almost empty).
        assert_eq!(grid(&ConvParams::new(huge, Pass::BackwardInput, false)), [1, 65_535, 5]);
    }
}
