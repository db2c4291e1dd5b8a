//! Host side of `shaders/bias.wgsl`.

use bytemuck::{Pod, Zeroable};

/// Keep in sync with `Params` in shaders/bias.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct BiasParams {
    batch: u32,
    channels: u32,
    spatial: u32,
    _pad: u32,
}

impl BiasParams {
    pub(super) fn new((batch, channels, spatial): (usize, usize, usize)) -> Self {
        BiasParams { batch: batch as u32, channels: channels as u32, spatial: spatial as u32, _pad: 0 }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::BiasParams>(), 16);
    }
}
