//! "Noisy BatchNorm" (Santurkar et al. 2018, §2.1): after a normalization, a random scale
//! and shift per channel, new at every training step; nothing in eval mode.

use rand::Rng;

use super::Layer;
use crate::backend::{Backend, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;

pub struct ChannelNoise {
    pub strength: f32,
    pub channels: usize,
    pub spatial: usize,
    stream: u32,
    /// This step's scale and shift of each channel, for the backward pass.
    noise: TensorId,
    y: TensorId,
    dx: TensorId,
    active: bool,
}

impl ChannelNoise {
    pub fn new(b: &mut Builder, strength: f32) -> Result<Self, NormlabError> {
        let (c, h, w) = b.shape();
        let spatial = h * w;
        // Named after the normalization it follows.
        let i = b.index() - 1;
        let stream = b.rng().next_u32();
        let noise = b.alloc(2 * c, &format!("layer{i}.noise"))?;
        let y = b.buffer(c * spatial, &format!("layer{i}.noise_y"))?;
        let dx = b.buffer(c * spatial, &format!("layer{i}.noise_dx"))?;
        Ok(ChannelNoise { strength, channels: c, spatial, stream, noise, y, dx, active: false })
    }
}

impl Layer for ChannelNoise {
    fn describe(&self) -> String {
        format!("Noise({})", self.strength)
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, phase: Phase) -> TensorId {
        self.active = phase == Phase::Train;
        if !self.active {
            return x;
        }
        let shape = (batch, self.channels, self.spatial);
        backend.channel_noise_forward(x, self.y, self.noise, shape, self.strength, self.stream);
        self.y
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        if !self.active {
            return dy;
        }
        backend.channel_noise_backward(dy, self.noise, self.dx, (batch, self.channels, self.spatial));
        self.dx
    }
}
