//! Host side of `shaders/bias.wgsl`.

use bytemuck::{Pod, Zeroable};

/// Keep in sync with `Params` in shaders/bias.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct BiasParams {
    rows: u32,
    cols: u32,
    _pad: [u32; 2],
}

impl BiasParams {
    pub(super) fn new(rows: usize, cols: usize) -> Self {
        BiasParams { rows: rows as u32, cols: cols as u32, _pad: [0; 2] }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::BiasParams>(), 16);
    }
}
