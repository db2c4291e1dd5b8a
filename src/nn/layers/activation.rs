//! ReLU or tanh, element by element.

use super::Layer;
use crate::backend::{Activation, Backend, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;
use crate::nn::probe::ProbePoints;

pub struct ActivationLayer {
    pub kind: Activation,
    /// Values per sample.
    pub features: usize,
    x: Option<TensorId>,
    y: TensorId,
    dx: TensorId,
}

impl ActivationLayer {
    pub fn new(b: &mut Builder) -> Result<Self, NormlabError> {
        let features = b.per_sample();
        let i = b.index();
        let kind = b.choices().activation;
        let y = b.buffer(features, &format!("layer{i}.y"))?;
        let dx = b.buffer(features, &format!("layer{i}.dx"))?;
        Ok(ActivationLayer { kind, features, x: None, y, dx })
    }
}

impl Layer for ActivationLayer {
    fn describe(&self) -> String {
        format!("{:?}", self.kind)
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, _phase: Phase) -> TensorId {
        self.x = Some(x);
        backend.activation_forward(self.kind, x, self.y, batch * self.features);
        self.y
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        let x = self.x.expect("forward before backward");
        // ReLU's derivative reads the input, tanh's the output.
        backend.activation_backward(self.kind, x, self.y, dy, self.dx, batch * self.features);
        self.dx
    }

    fn probe(&self, points: &mut ProbePoints) {
        points.activations.push((self.y, self.features));
    }
}
