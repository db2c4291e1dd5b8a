//! `nn.Dropout(p)`: in training, each value is zeroed with probability p and the kept ones
//! scaled by 1/(1−p) (inverted dropout); in eval mode, the identity. The mask comes from
//! the lab's counter-based hash of (stream, step, element), identical on every backend.

use rand::Rng;

use super::Layer;
use crate::backend::{Backend, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;

pub struct Dropout {
    pub p: f32,
    pub features: usize,
    /// This layer's stream of random numbers (drawn from the run's seed).
    stream: u32,
    mask: TensorId,
    y: TensorId,
    dx: TensorId,
    /// Whether the last forward pass dropped anything (training), for the backward pass.
    active: bool,
}

impl Dropout {
    pub fn new(b: &mut Builder, p: f32) -> Result<Self, NormlabError> {
        let features = b.per_sample();
        let i = b.index();
        let stream = b.rng().next_u32();
        let mask = b.buffer(features, &format!("layer{i}.mask"))?;
        let y = b.buffer(features, &format!("layer{i}.y"))?;
        let dx = b.buffer(features, &format!("layer{i}.dx"))?;
        Ok(Dropout { p, features, stream, mask, y, dx, active: false })
    }
}

impl Layer for Dropout {
    fn describe(&self) -> String {
        format!("Dropout({})", self.p)
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, phase: Phase) -> TensorId {
        self.active = phase == Phase::Train;
        if !self.active {
            return x;
        }
        backend.dropout_forward(x, self.y, self.mask, batch * self.features, self.p, self.stream);
        self.y
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        if !self.active {
            return dy;
        }
        backend.dropout_backward(dy, self.mask, self.dx, batch * self.features);
        self.dx
    }
}
