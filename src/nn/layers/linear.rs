//! `nn.Linear`: `y = x Wᵀ + b`, with W stored `[out, in]` as in PyTorch.

use super::Layer;
use crate::backend::{Backend, Epilogue, MatmulShape, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;
use crate::nn::param::{scaled, uniform_init, Param, ParamRole};
use crate::nn::probe::ProbePoints;

pub struct Linear {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Param,
    pub bias: Option<Param>,
    y: TensorId,
    /// None for the first layer, whose input needs no gradient.
    dx: Option<TensorId>,
    /// The last forward's input, for the weight gradient.
    x: Option<TensorId>,
}

impl Linear {
    /// A layer from the current width to `outputs`, initialised as PyTorch does (and
    /// scaled by the configuration's `init_scale`).
    pub fn new(b: &mut Builder, outputs: usize, with_bias: bool) -> Result<Self, NormlabError> {
        let inputs = b.per_sample();
        let i = b.index();
        let scale = b.choices().init_scale;
        let weight_init = scaled(uniform_init(b.rng(), inputs, outputs * inputs), scale);
        let bias_init = uniform_init(b.rng(), inputs, outputs);
        let weight = b.param(&weight_init, ParamRole::Weight);
        // The bias is drawn either way, so that switching it off leaves every other initial
        // value as it was (lesson 9 compares the two).
        let bias = if with_bias { Some(b.param(&bias_init, ParamRole::Bias)) } else { None };
        let dx = if b.is_first() { None } else { Some(b.buffer(inputs, &format!("layer{i}.dx"))?) };
        let y = b.buffer(outputs, &format!("layer{i}.y"))?;
        b.set_shape((outputs, 1, 1));
        Ok(Linear { inputs, outputs, weight, bias, y, dx, x: None })
    }
}

impl Layer for Linear {
    fn describe(&self) -> String {
        format!("Linear({}→{})", self.inputs, self.outputs)
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, _phase: Phase) -> TensorId {
        self.forward_plus(backend, x, batch, None)
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        self.backward_plus(backend, dy, batch, None)
    }

    fn params(&self) -> Vec<Param> {
        std::iter::once(self.weight).chain(self.bias).collect()
    }

    fn probe(&self, points: &mut ProbePoints) {
        points.weight_grads.push((self.weight.grad, self.weight.len));
        points.bias_grads.push(self.bias.map(|b| (b.grad, b.len)));
    }
}

impl Linear {
    /// The output of the last forward pass.
    pub fn output(&self) -> TensorId {
        self.y
    }

    /// The forward pass of `rows` rows, with `residual` (`[rows, outputs]`) added to the
    /// output in the product's epilogue: the skip path of a residual connection.
    pub fn forward_plus(
        &mut self,
        backend: &mut dyn Backend,
        x: TensorId,
        rows: usize,
        residual: Option<TensorId>,
    ) -> TensorId {
        self.x = Some(x);
        let shape = MatmulShape { m: rows, k: self.inputs, n: self.outputs, trans_a: false, trans_b: true };
        let epilogue = Epilogue::maybe_bias(self.bias.map(|b| b.value)).plus(residual);
        backend.matmul(x, self.weight.value, self.y, shape, epilogue);
        self.y
    }

    /// The backward pass, with `residual` (`[rows, inputs]`) added to the input gradient:
    /// the gradient that reaches the input along a residual connection's skip path.
    pub fn backward_plus(
        &mut self,
        backend: &mut dyn Backend,
        dy: TensorId,
        batch: usize,
        residual: Option<TensorId>,
    ) -> TensorId {
        let x = self.x.expect("forward before backward");
        // dW[out, in] = dyᵀ[out, N] · x[N, in]
        let dw = MatmulShape { m: self.outputs, k: batch, n: self.inputs, trans_a: true, trans_b: false };
        backend.matmul(dy, x, self.weight.grad, dw, Epilogue::NONE);
        if let Some(b) = &self.bias {
            backend.bias_grad(dy, b.grad, (batch, self.outputs, 1));
        }
        match self.dx {
            Some(dx) => {
                // dx[N, in] = dy[N, out] · W[out, in]
                let shape = MatmulShape { m: batch, k: self.outputs, n: self.inputs, trans_a: false, trans_b: false };
                backend.matmul(dy, self.weight.value, dx, shape, Epilogue::NONE.plus(residual));
                dx
            }
            None => {
                assert!(residual.is_none(), "a first layer has no input gradient to add to");
                dy
            }
        }
    }
}
