//! Host side of `shaders/gather.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::{t, GpuBackend, Kernel};
use crate::backend::TensorId;

/// Keep in sync with `Params` in shaders/gather.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct GatherParams {
    rows: u32,
    row_len: u32,
    labels_per_row: u32,
    _pad: u32,
}

impl GatherParams {
    fn new(rows: usize, row_len: usize) -> Self {
        Self::with_labels(rows, row_len, 0)
    }

    fn with_labels(rows: usize, row_len: usize, labels_per_row: usize) -> Self {
        GatherParams { rows: rows as u32, row_len: row_len as u32, labels_per_row: labels_per_row as u32, _pad: 0 }
    }
}

pub(super) fn rows(gpu: &mut GpuBackend, src: TensorId, indices: TensorId, out: TensorId, rows: usize, row_len: usize) {
    let params = GatherParams::new(rows, row_len);
    let bindings = [(1, t(src)), (2, t(indices)), (3, t(out))];
    gpu.dispatch(Kernel::GatherRows, &params, &bindings, GpuBackend::grid_1d(rows * row_len));
}

/// `(inputs, labels, indices)` gathered into `(batch_inputs, batch_labels)`.
pub(super) fn batch(
    gpu: &mut GpuBackend,
    (inputs, labels, indices): (TensorId, TensorId, TensorId),
    (batch_inputs, batch_labels): (TensorId, TensorId),
    rows: usize,
    (row_len, labels_per_row): (usize, usize),
) {
    assert!(labels_per_row <= row_len, "one thread per input value writes the labels");
    let params = GatherParams::with_labels(rows, row_len, labels_per_row);
    let bindings = [(1, t(inputs)), (2, t(indices)), (3, t(batch_inputs)), (4, t(labels)), (5, t(batch_labels))];
    gpu.dispatch(Kernel::GatherBatch, &params, &bindings, GpuBackend::grid_1d(rows * row_len));
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::GatherParams>(), 16);
    }
}
