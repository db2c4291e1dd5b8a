//! Host side of `shaders/matmul.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::{Epilogue, MatmulShape, TensorId};

/// Keep in sync with `Params` in shaders/matmul.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct MatmulParams {
    m: u32,
    k: u32,
    n: u32,
    trans_a: u32,
    trans_b: u32,
    has_bias: u32,
    bias_rows: u32,
    has_residual: u32,
}

impl MatmulParams {
    fn new(shape: MatmulShape, epilogue: Epilogue) -> Self {
        MatmulParams {
            m: shape.m as u32,
            k: shape.k as u32,
            n: shape.n as u32,
            trans_a: shape.trans_a as u32,
            trans_b: shape.trans_b as u32,
            has_bias: epilogue.bias.is_some() as u32,
            bias_rows: epilogue.bias_rows.max(1) as u32,
            has_residual: epilogue.residual.is_some() as u32,
        }
    }
}

/// The kernel's workgroups each cover a 32×32 block of the output.
const BLOCK: usize = 32;

fn grid(shape: MatmulShape) -> [u32; 3] {
    [shape.n.div_ceil(BLOCK).max(1) as u32, shape.m.div_ceil(BLOCK).max(1) as u32, 1]
}

/// `out = a·b` plus the epilogue, one dispatch.
pub(super) fn dispatch(
    gpu: &mut GpuBackend,
    (a, b): (TensorId, TensorId),
    out: TensorId,
    shape: MatmulShape,
    epilogue: Epilogue,
) {
    let params = MatmulParams::new(shape, epilogue);
    // The kernel never reads a binding whose flag is off: spares stand in.
    let bias = epilogue.bias.unwrap_or(gpu.spare[0]);
    let residual = epilogue.residual.unwrap_or(gpu.spare[1]);
    let bindings = [(1, t(a)), (2, t(b)), (3, t(out)), (4, t(bias)), (5, t(residual))];
    gpu.dispatch(Kernel::MatmulTiled, &params, &bindings, grid(shape));
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::MatmulParams>(), 32);
    }
}
