//! `nn.Conv2d(in, out, 3, stride 1, padding 1)`: a 3×3 convolution that keeps the image's
//! size; the bias is added per output channel.

use super::Layer;
use crate::backend::{Backend, ConvShape, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;
use crate::nn::param::{scaled, uniform_init, Param, ParamRole};
use crate::nn::probe::ProbePoints;

pub struct Conv {
    /// The convolution's geometry at the largest batch (`batch` is set per call).
    pub shape: ConvShape,
    pub weight: Param,
    pub bias: Option<Param>,
    y: TensorId,
    dx: Option<TensorId>,
    x: Option<TensorId>,
}

impl Conv {
    pub fn new_3x3(b: &mut Builder, out_channels: usize) -> Result<Self, NormlabError> {
        let (c, h, w) = b.shape();
        let shape = ConvShape {
            batch: b.max_batch(),
            in_channels: c,
            out_channels,
            height: h,
            width: w,
            kernel: 3,
            stride: 1,
            padding: 1,
        };
        let i = b.index();
        let fan_in = c * 9;
        let scale = b.choices().init_scale;
        let weight_init = scaled(uniform_init(b.rng(), fan_in, shape.weight_len()), scale);
        let bias_init = uniform_init(b.rng(), fan_in, out_channels);
        let weight = b.param(&weight_init, ParamRole::Weight);
        let bias = if b.choices().bias { Some(b.param(&bias_init, ParamRole::Bias)) } else { None };
        let dx = if b.is_first() { None } else { Some(b.buffer(c * h * w, &format!("layer{i}.dx"))?) };
        let (oh, ow) = (shape.out_height(), shape.out_width());
        let y = b.buffer(out_channels * oh * ow, &format!("layer{i}.y"))?;
        b.set_shape((out_channels, oh, ow));
        Ok(Conv { shape, weight, bias, y, dx, x: None })
    }

    fn bias_shape(shape: &ConvShape) -> (usize, usize, usize) {
        (shape.batch, shape.out_channels, shape.out_height() * shape.out_width())
    }
}

impl Layer for Conv {
    fn describe(&self) -> String {
        let s = &self.shape;
        format!(
            "Conv2d({}→{}, {}×{}, stride {}, pad {})",
            s.in_channels, s.out_channels, s.kernel, s.kernel, s.stride, s.padding
        )
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, _phase: Phase) -> TensorId {
        self.x = Some(x);
        let shape = ConvShape { batch, ..self.shape };
        backend.conv2d_forward(x, self.weight.value, self.y, shape, self.bias.map(|b| b.value));
        self.y
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        let x = self.x.expect("forward before backward");
        let shape = ConvShape { batch, ..self.shape };
        backend.conv2d_backward_weight(dy, x, self.weight.grad, shape);
        if let Some(b) = &self.bias {
            backend.bias_grad(dy, b.grad, Self::bias_shape(&shape));
        }
        match self.dx {
            Some(dx) => {
                backend.conv2d_backward_input(dy, self.weight.value, dx, shape);
                dx
            }
            None => dy,
        }
    }

    fn params(&self) -> Vec<Param> {
        std::iter::once(self.weight).chain(self.bias).collect()
    }

    fn probe(&self, points: &mut ProbePoints) {
        points.weight_grads.push((self.weight.grad, self.weight.len));
        points.bias_grads.push(self.bias.map(|b| (b.grad, b.len)));
    }
}
