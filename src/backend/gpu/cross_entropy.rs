//! Host side of `shaders/cross_entropy.wgsl`.

use bytemuck::{Pod, Zeroable};

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
    pub(super) fn new(rows: usize, classes: usize, slot: usize, write_grad: bool) -> Self {
        CrossEntropyParams {
            rows: rows as u32,
            classes: classes as u32,
            slot: slot as u32,
            write_grad: write_grad as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::CrossEntropyParams>(), 16);
    }
}
