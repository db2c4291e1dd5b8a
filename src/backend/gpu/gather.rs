//! Host side of `shaders/gather.wgsl`.

use bytemuck::{Pod, Zeroable};

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
    pub(super) fn new(rows: usize, row_len: usize) -> Self {
        Self::with_labels(rows, row_len, 0)
    }

    pub(super) fn with_labels(rows: usize, row_len: usize, labels_per_row: usize) -> Self {
        GatherParams { rows: rows as u32, row_len: row_len as u32, labels_per_row: labels_per_row as u32, _pad: 0 }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::GatherParams>(), 16);
    }
}
