//! A tensor on the device: the buffer that holds it and where in that buffer it lies.

/// A tensor on the device: a buffer of its own, or a view of a range of another's.
pub(super) struct GpuTensor {
    pub(super) buffer: wgpu::Buffer,
    /// Where the tensor starts in `buffer`, and its size, in bytes.
    pub(super) offset: u64,
    pub(super) size: u64,
    pub(super) is_view: bool,
}

impl GpuTensor {
    pub(super) fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.offset,
            size: wgpu::BufferSize::new(self.size),
        })
    }
}
