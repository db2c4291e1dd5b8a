//! Host side of `shaders/matmul.wgsl`.

use bytemuck::{Pod, Zeroable};

use crate::backend::{Epilogue, MatmulShape};

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
    pub(super) fn new(shape: MatmulShape, epilogue: Epilogue) -> Self {
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

pub(super) fn grid(shape: MatmulShape) -> [u32; 3] {
    [shape.n.div_ceil(BLOCK).max(1) as u32, shape.m.div_ceil(BLOCK).max(1) as u32, 1]
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::MatmulParams>(), 32);
    }
}
