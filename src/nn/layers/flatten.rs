//! `[N, C, H, W] → [N, C·H·W]`: nothing to compute, the memory is already in that order.

use super::Layer;
use crate::backend::{Backend, TensorId};
use crate::nn::builder::Builder;
use crate::nn::config::Phase;

pub struct Flatten;

impl Flatten {
    pub fn new(b: &mut Builder) -> Self {
        b.set_shape((b.per_sample(), 1, 1));
        Flatten
    }
}

impl Layer for Flatten {
    fn describe(&self) -> String {
        "Flatten".into()
    }

    fn forward(&mut self, _backend: &mut dyn Backend, x: TensorId, _batch: usize, _phase: Phase) -> TensorId {
        x
    }

    fn backward(&mut self, _backend: &mut dyn Backend, dy: TensorId, _batch: usize) -> TensorId {
        dy
    }
}
