//! Host side of `shaders/cross_entropy.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::TensorId;

/// Keep in sync with `Params` in shaders/cross_entropy.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct CrossEntropyParams {
    rows: u32,
    classes: u32,
    slot: u32,
    write_grad: u32,
}

impl CrossEntropyParams {
    fn new(rows: usize, classes: usize, slot: usize, write_grad: bool) -> Self {
        CrossEntropyParams {
            rows: rows as u32,
            classes: classes as u32,
            slot: slot as u32,
            write_grad: write_grad as u32,
        }
    }
}

/// The loss of `logits` against `labels` into metrics slot `slot`, and the logits'
/// gradient when `dlogits` is given.
pub(super) fn dispatch(
    gpu: &mut GpuBackend,
    (logits, labels, dlogits): (TensorId, TensorId, Option<TensorId>),
    (metrics, slot): (TensorId, usize),
    rows: usize,
    classes: usize,
) {
    let params = CrossEntropyParams::new(rows, classes, slot, dlogits.is_some());
    // Without a gradient the kernel never touches binding 3, but the layout wants a buffer.
    let grad = dlogits.unwrap_or(gpu.spare[0]);
    let bindings = [(1, t(logits)), (2, t(labels)), (3, t(grad)), (4, t(metrics))];
    gpu.dispatch(Kernel::CrossEntropyLoss, &params, &bindings, [1, 1, 1]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::CrossEntropyParams>(), 16);
    }
}
