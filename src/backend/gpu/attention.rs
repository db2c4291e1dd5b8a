//! Host side of `shaders/attention.wgsl`: causal self-attention, one dispatch forward and
//! two backward (the query side, then the key side that reads its result).

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::{AttentionShape, TensorId};

/// Keep in sync with `Params` in shaders/attention.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct AttentionParams {
    batch: u32,
    seq_len: u32,
    heads: u32,
    head_dim: u32,
    scale: f32,
    _pad: [u32; 3],
}

impl AttentionParams {
    fn new(s: AttentionShape) -> Self {
        AttentionParams {
            batch: s.batch as u32,
            seq_len: s.seq_len as u32,
            heads: s.heads as u32,
            head_dim: s.head_dim as u32,
            scale: s.scale(),
            _pad: [0; 3],
        }
    }
}

/// One 64-thread workgroup per 64 (sample, head, position) rows.
fn grid(s: AttentionShape) -> [u32; 3] {
    let rows = s.batch * s.heads * s.seq_len;
    let groups = rows.div_ceil(64).max(1);
    assert!(groups <= 65_535, "{rows} attention rows are beyond the kernel's grid");
    [groups as u32, 1, 1]
}

pub(super) fn forward(gpu: &mut GpuBackend, qkv: TensorId, att: TensorId, out: TensorId, shape: AttentionShape) {
    let params = AttentionParams::new(shape);
    gpu.dispatch(Kernel::AttentionForward, &params, &[(1, t(qkv)), (2, t(att)), (3, t(out))], grid(shape));
}

pub(super) fn backward(
    gpu: &mut GpuBackend,
    qkv: TensorId,
    att: TensorId,
    dout: TensorId,
    dpre: TensorId,
    dqkv: TensorId,
    shape: AttentionShape,
) {
    let params = AttentionParams::new(shape);
    let bindings = [(1, t(qkv)), (2, t(att)), (4, t(dout)), (5, t(dpre)), (6, t(dqkv))];
    gpu.dispatch(Kernel::AttentionBackwardQuery, &params, &bindings, grid(shape));
    gpu.dispatch(Kernel::AttentionBackwardKey, &params, &bindings, grid(shape));
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::AttentionParams>(), 32);
    }
}
