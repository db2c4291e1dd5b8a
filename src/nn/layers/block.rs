//! A transformer block over token rows `[N·T, d]`: causal self-attention, then an MLP of
//! width 4·d, each inside a residual connection, with the model's normalization placed
//! before the branch (pre-norm, GPT-2) or after the addition (post-norm, the original
//! Transformer; Xiong et al. 2020 compare the two):
//!
//!   pre:   h = x + attention(norm₁(x)),   y = h + mlp(norm₂(h))
//!   post:  h = norm₁(x + attention(x)),   y = norm₂(h + mlp(h))
//!
//! Every addition is made where the branch's last product stores its output (the
//! product's epilogue), and in the backward pass the gradient along the skip path is added
//! where the branch's first op writes its input gradient: the block dispatches no
//! addition of its own.

use super::{ActivationLayer, Layer, Linear, Norm, SelfAttention};
use crate::backend::{Backend, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::{NormPosition, Phase};
use crate::nn::norm::NormKind;
use crate::nn::param::Param;
use crate::nn::probe::ProbePoints;

pub struct TransformerBlock {
    pub position: NormPosition,
    pub norm1: Option<Norm>,
    pub attention: SelfAttention,
    pub norm2: Option<Norm>,
    fc1: Linear,
    activation: ActivationLayer,
    fc2: Linear,
    /// The block's input and the residual stream between its two halves, from the last
    /// forward pass.
    x: Option<TensorId>,
    h: Option<TensorId>,
}

impl TransformerBlock {
    /// A block on rows of the current width `d`, in sequences of `seq_len`.
    pub fn new(
        b: &mut Builder,
        kind: NormKind,
        heads: usize,
        seq_len: usize,
        position: NormPosition,
    ) -> Result<Self, NormlabError> {
        let (dim, _, _) = b.shape();
        let bias = b.choices().bias;
        let norm = |b: &mut Builder| -> Result<Option<Norm>, NormlabError> {
            b.set_shape((dim, 1, 1));
            if kind == NormKind::None {
                Ok(None)
            } else {
                Norm::over_tokens(b, kind, seq_len).map(Some)
            }
        };
        let norm1 = if position == NormPosition::Pre { norm(b)? } else { None };
        let attention = SelfAttention::new(b, heads, seq_len, bias)?;
        let norm1 = if position == NormPosition::Post { norm(b)? } else { norm1 };
        let norm2 = if position == NormPosition::Pre { norm(b)? } else { None };
        let fc1 = Linear::new(b, 4 * dim, bias)?;
        let activation = ActivationLayer::new(b)?;
        let fc2 = Linear::new(b, dim, bias)?;
        let norm2 = if position == NormPosition::Post { norm(b)? } else { norm2 };
        b.set_shape((dim, 1, 1));
        Ok(TransformerBlock { position, norm1, attention, norm2, fc1, activation, fc2, x: None, h: None })
    }

    /// The weight of the MLP's output product (`W₂`, 4·d → d): the parameter whose gradient
    /// Xiong et al. (2020, Fig. 3) follow from block to block.
    pub fn mlp_output_weight(&self) -> Param {
        self.fc2.params()[0]
    }

    fn mlp_forward(
        &mut self,
        backend: &mut dyn Backend,
        x: TensorId,
        rows: usize,
        phase: Phase,
        residual: TensorId,
    ) -> TensorId {
        let hidden = self.fc1.forward(backend, x, rows, phase);
        let hidden = self.activation.forward(backend, hidden, rows, phase);
        self.fc2.forward_plus(backend, hidden, rows, Some(residual))
    }

    /// The MLP branch's input gradient, plus `residual` when given.
    fn mlp_backward(
        &mut self,
        backend: &mut dyn Backend,
        dy: TensorId,
        rows: usize,
        residual: Option<TensorId>,
    ) -> TensorId {
        let d = self.fc2.backward(backend, dy, rows);
        let d = self.activation.backward(backend, d, rows);
        self.fc1.backward_plus(backend, d, rows, residual)
    }
}

/// `norm(x)` when there is one, else `x`.
fn through(norm: &mut Option<Norm>, backend: &mut dyn Backend, x: TensorId, rows: usize, phase: Phase) -> TensorId {
    match norm {
        Some(n) => n.forward(backend, x, rows, phase),
        None => x,
    }
}

impl Layer for TransformerBlock {
    fn describe(&self) -> String {
        let norm = self.norm1.as_ref().map_or("no norm".to_string(), |n| n.describe());
        let place = match self.position {
            NormPosition::Pre => "pre",
            NormPosition::Post => "post",
        };
        format!("Block(attention ×{} heads, MLP {}, {place}-{norm})", self.attention.heads, 4 * self.attention.dim)
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, rows: usize, phase: Phase) -> TensorId {
        self.x = Some(x);
        match self.position {
            NormPosition::Pre => {
                let a = through(&mut self.norm1, backend, x, rows, phase);
                let h = self.attention.forward(backend, a, rows, phase, Some(x));
                self.h = Some(h);
                let m = through(&mut self.norm2, backend, h, rows, phase);
                self.mlp_forward(backend, m, rows, phase, h)
            }
            NormPosition::Post => {
                let s1 = self.attention.forward(backend, x, rows, phase, Some(x));
                let h = through(&mut self.norm1, backend, s1, rows, phase);
                self.h = Some(h);
                let s2 = self.mlp_forward(backend, h, rows, phase, h);
                through(&mut self.norm2, backend, s2, rows, phase)
            }
        }
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, rows: usize) -> TensorId {
        match self.position {
            NormPosition::Pre => {
                // dh = dy (skip) + the MLP branch's gradient through norm₂.
                let dh = match self.norm2.is_some() {
                    true => {
                        let dm = self.mlp_backward(backend, dy, rows, None);
                        self.norm2.as_mut().map(|n| n.backward_plus(backend, dm, Some(dy))).expect("norm₂")
                    }
                    false => self.mlp_backward(backend, dy, rows, Some(dy)),
                };
                match self.norm1.is_some() {
                    true => {
                        let da = self.attention.backward(backend, dh, rows, None);
                        self.norm1.as_mut().map(|n| n.backward_plus(backend, da, Some(dh))).expect("norm₁")
                    }
                    false => self.attention.backward(backend, dh, rows, Some(dh)),
                }
            }
            NormPosition::Post => {
                let ds2 = match &mut self.norm2 {
                    Some(n) => n.backward(backend, dy, rows),
                    None => dy,
                };
                let dh = self.mlp_backward(backend, ds2, rows, Some(ds2));
                let ds1 = match &mut self.norm1 {
                    Some(n) => n.backward(backend, dh, rows),
                    None => dh,
                };
                self.attention.backward(backend, ds1, rows, Some(ds1))
            }
        }
    }

    fn params(&self) -> Vec<Param> {
        // In PyTorch's order for a pre-norm block: ln_1, attn, ln_2, mlp.
        let norm1 = self.norm1.iter().flat_map(|n| n.params());
        let norm2 = self.norm2.iter().flat_map(|n| n.params());
        let mlp = self.fc1.params().into_iter().chain(self.fc2.params());
        match self.position {
            NormPosition::Pre => norm1.chain(self.attention.params()).chain(norm2).chain(mlp).collect(),
            NormPosition::Post => self.attention.params().into_iter().chain(norm1).chain(mlp).chain(norm2).collect(),
        }
    }

    fn probe(&self, points: &mut ProbePoints) {
        self.norm1.iter().for_each(|n| n.probe(points));
        self.attention.probe(points);
        self.norm2.iter().for_each(|n| n.probe(points));
        self.fc1.probe(points);
        self.activation.probe(points);
        self.fc2.probe(points);
    }

    fn norms(&self) -> Vec<&Norm> {
        self.norm1.iter().chain(self.norm2.iter()).collect()
    }

    fn as_block(&self) -> Option<&TransformerBlock> {
        Some(self)
    }
}
