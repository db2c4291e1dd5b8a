//! GPU timestamps around every dispatch, for the benchmark's per-kernel table.
//!
//! Every dispatch is its own compute pass (see `GpuBackend::dispatch`), so a pass's
//! beginning and end timestamps bracket exactly one kernel. This needs the device feature
//! `TIMESTAMP_QUERY`, which [`GpuContext::for_profiling`](super::GpuContext::for_profiling)
//! asks for; the lessons' device never does.

use super::kernels::Kernel;
use crate::error::NormlabError;

/// Dispatches timed between two reads (two queries each).
const CAPACITY: u32 = 2048;

/// How long one dispatch ran on the GPU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelTime {
    /// The WGSL entry point.
    pub kernel: &'static str,
    pub nanos: f64,
    /// When it started, in nanoseconds after the first timed dispatch began.
    pub start_nanos: f64,
}

pub(super) struct KernelTimer {
    query_set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    /// The kernel of each timed dispatch since the last read, in order.
    kernels: Vec<Kernel>,
}

impl KernelTimer {
    pub(super) fn new(device: &wgpu::Device) -> Result<Self, NormlabError> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Err(NormlabError::Gpu("this GPU's driver does not offer timestamp queries".into()));
        }
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("kernel timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2 * CAPACITY,
        });
        let resolve = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kernel timestamps, resolved"),
            size: 2 * CAPACITY as u64 * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        Ok(KernelTimer { query_set, resolve, kernels: Vec::new() })
    }

    /// The timestamp writes for the next dispatch's pass, or None when the set is full
    /// (later dispatches run untimed until the next read).
    pub(super) fn next(&mut self, kernel: Kernel) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        let index = self.kernels.len() as u32;
        if index >= CAPACITY {
            return None;
        }
        self.kernels.push(kernel);
        Some(wgpu::ComputePassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(2 * index),
            end_of_pass_write_index: Some(2 * index + 1),
        })
    }

    /// Records the copy of the timestamps so far into a new mappable buffer and forgets
    /// them; returns that buffer and the kernels it covers.
    pub(super) fn take(
        &mut self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
    ) -> (wgpu::Buffer, Vec<Kernel>) {
        let count = self.kernels.len() as u32;
        let bytes = (2 * count as u64 * 8).max(8);
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kernel timestamps, read-back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if count > 0 {
            encoder.resolve_query_set(&self.query_set, 0..2 * count, &self.resolve, 0);
            encoder.copy_buffer_to_buffer(&self.resolve, 0, &staging, 0, bytes);
        }
        (staging, std::mem::take(&mut self.kernels))
    }
}

impl Drop for KernelTimer {
    fn drop(&mut self) {
        self.resolve.destroy();
    }
}

/// Pairs the resolved ticks with their kernels.
pub(super) fn kernel_times(ticks: &[u64], kernels: &[Kernel], nanos_per_tick: f32) -> Vec<KernelTime> {
    let first = ticks.first().copied().unwrap_or(0);
    kernels
        .iter()
        .zip(ticks.chunks_exact(2))
        .map(|(kernel, pair)| KernelTime {
            kernel: kernel.entry_point(),
            nanos: pair[1].saturating_sub(pair[0]) as f64 * nanos_per_tick as f64,
            start_nanos: pair[0].saturating_sub(first) as f64 * nanos_per_tick as f64,
        })
        .collect()
}
