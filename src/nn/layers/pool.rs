//! `nn.MaxPool2d(2)`: the largest of each 2×2 window, halving the image.

use super::Layer;
use crate::backend::{Backend, PoolKind, PoolShape, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;

pub struct Pool {
    /// The pooling's geometry at the largest batch (`batch` is set per call).
    pub shape: PoolShape,
    y: TensorId,
    /// Where each window's maximum was, for the backward pass.
    argmax: TensorId,
    dx: TensorId,
}

impl Pool {
    pub fn max_2x2(b: &mut Builder) -> Result<Self, NormlabError> {
        let (c, h, w) = b.shape();
        let shape = PoolShape {
            kind: PoolKind::Max,
            batch: b.max_batch(),
            channels: c,
            height: h,
            width: w,
            kernel: 2,
            stride: 2,
        };
        let (oh, ow) = (shape.out_height(), shape.out_width());
        let i = b.index();
        let y = b.buffer(c * oh * ow, &format!("layer{i}.y"))?;
        let argmax = b.buffer(c * oh * ow, &format!("layer{i}.argmax"))?;
        let dx = b.buffer(c * h * w, &format!("layer{i}.dx"))?;
        b.set_shape((c, oh, ow));
        Ok(Pool { shape, y, argmax, dx })
    }
}

impl Layer for Pool {
    fn describe(&self) -> String {
        format!("{:?}Pool({})", self.shape.kind, self.shape.kernel)
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, _phase: Phase) -> TensorId {
        backend.pool_forward(x, self.y, self.argmax, PoolShape { batch, ..self.shape });
        self.y
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        backend.pool_backward(dy, self.argmax, self.dx, PoolShape { batch, ..self.shape });
        self.dx
    }
}
