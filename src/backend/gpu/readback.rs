//! Reading results back from the device: a mapped staging buffer, awaited without
//! blocking the page, with a lost device told apart from other failures.

use super::GpuContext;
use crate::error::NormlabError;

/// Maps `staging` (already holding its copy) for reading and returns its contents as
/// values of `T`, copied once out of the mapping; the buffer is destroyed afterwards.
/// Failures say whether the device was lost.
pub(super) fn read_mapped<T: bytemuck::Pod>(
    ctx: GpuContext,
    staging: wgpu::Buffer,
) -> impl std::future::Future<Output = Result<Vec<T>, NormlabError>> {
    let (sender, receiver) = futures_channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |result| {
        let _ = sender.send(result);
    });
    async move {
        #[cfg(not(target_arch = "wasm32"))]
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| NormlabError::Gpu(format!("waiting for the GPU failed: {e}")))?;
        let mapped = receiver.await;
        if let Some(fault) = ctx.take_fault() {
            return Err(fault);
        }
        match mapped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // A mapping fails when the device is gone; its lost callback may still be
                // on its way, and says why. With no other fault reported, the failed
                // mapping itself is the sign of a lost device.
                for _ in 0..10 {
                    crate::platform::yield_now().await;
                    if let Some(fault) = ctx.take_fault() {
                        return Err(fault);
                    }
                }
                return Err(NormlabError::DeviceLost(format!("reading a result back failed: {e}")));
            }
            Err(_) => return Err(NormlabError::DeviceLost("the read-back was cancelled".into())),
        }
        let data = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| NormlabError::Gpu(format!("reading a result back failed: {e:?}")))?;
            bytemuck::pod_collect_to_vec::<u8, T>(&view)
        };
        staging.unmap();
        staging.destroy();
        Ok(data)
    }
}
