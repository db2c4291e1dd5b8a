//! Host side of `shaders/activation.wgsl`.

use bytemuck::{Pod, Zeroable};

use crate::backend::Activation;

/// Keep in sync with `Params` in shaders/activation.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct ActivationParams {
    len: u32,
    kind: u32,
    _pad: [u32; 2],
}

impl ActivationParams {
    pub(super) fn new(kind: Activation, len: usize) -> Self {
        ActivationParams { len: len as u32, kind: kind.shader_code(), _pad: [0; 2] }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_match_the_wgsl_struct_size() {
        assert_eq!(std::mem::size_of::<super::ActivationParams>(), 16);
    }
}
