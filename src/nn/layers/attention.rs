//! Multi-head causal self-attention over token rows (`[N·T, d]`), as in GPT-2's `attn`:
//! `qkv = x·W_qkvᵀ + b` (`d → 3d`), each head attends to the positions at or before its
//! own (`att = softmax(q·kᵀ/√Dh + causal mask)`, `out = att·v`), and `y = out·W_oᵀ + b`
//! (`d → d`). Part of a transformer block, which adds the residual in the output
//! projection's epilogue.

use super::{Layer, Linear};
use crate::backend::{AttentionShape, Backend, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;
use crate::nn::param::Param;
use crate::nn::probe::ProbePoints;

pub struct SelfAttention {
    pub heads: usize,
    pub seq_len: usize,
    pub dim: usize,
    qkv: Linear,
    projection: Linear,
    /// `[N, heads, T, T]`: the last forward's attention, which its backward reads.
    pub att: TensorId,
    /// The scores' gradient (backward scratch, as long as `att`).
    dpre: TensorId,
    /// `[N·T, d]`: the heads' outputs side by side, the projection's input.
    out: TensorId,
    /// `[N·T, 3d]`: the gradient of `qkv`.
    dqkv: TensorId,
}

impl SelfAttention {
    /// Attention over rows of the current width `d`, in sequences of `seq_len`.
    pub fn new(b: &mut Builder, heads: usize, seq_len: usize, with_bias: bool) -> Result<Self, NormlabError> {
        let dim = b.per_sample();
        if heads == 0 || !dim.is_multiple_of(heads) {
            return Err(NormlabError::InvalidConfig(crate::words!(
                "{heads} attention heads do not divide the width {dim}",
                "{heads} 个注意力头不能整除宽度 {dim}"
            )));
        }
        let i = b.index();
        let qkv = Linear::new(b, 3 * dim, with_bias)?;
        // [N, H, T, T] per sample: the buffers hold max_batch rows of tokens, so
        // max_batch / T sequences.
        let sequences = b.max_batch().div_ceil(seq_len);
        let att_len = sequences * heads * seq_len * seq_len;
        let att = b.alloc(att_len, &format!("layer{i}.att"))?;
        let dpre = b.alloc(att_len, &format!("layer{i}.dpre"))?;
        let dqkv = b.buffer(3 * dim, &format!("layer{i}.dqkv"))?;
        let out = b.buffer(dim, &format!("layer{i}.attention_out"))?;
        b.set_shape((dim, 1, 1));
        let projection = Linear::new(b, dim, with_bias)?;
        Ok(SelfAttention { heads, seq_len, dim, qkv, projection, att, dpre, out, dqkv })
    }

    pub fn shape(&self, rows: usize) -> AttentionShape {
        AttentionShape {
            batch: rows / self.seq_len,
            seq_len: self.seq_len,
            heads: self.heads,
            head_dim: self.dim / self.heads,
        }
    }

    /// `y = attention(x) + residual` for `rows` token rows.
    pub fn forward(
        &mut self,
        backend: &mut dyn Backend,
        x: TensorId,
        rows: usize,
        phase: Phase,
        residual: Option<TensorId>,
    ) -> TensorId {
        let qkv = self.qkv.forward(backend, x, rows, phase);
        backend.attention_forward(qkv, self.att, self.out, self.shape(rows));
        self.projection.forward_plus(backend, self.out, rows, residual)
    }

    /// The input gradient from the output's, plus `residual`.
    pub fn backward(
        &mut self,
        backend: &mut dyn Backend,
        dy: TensorId,
        rows: usize,
        residual: Option<TensorId>,
    ) -> TensorId {
        let dout = self.projection.backward(backend, dy, rows);
        let qkv = self.qkv.output();
        backend.attention_backward(qkv, self.att, dout, self.dpre, self.dqkv, self.shape(rows));
        self.qkv.backward_plus(backend, self.dqkv, rows, residual)
    }

    pub fn params(&self) -> Vec<Param> {
        self.qkv.params().into_iter().chain(self.projection.params()).collect()
    }

    pub fn probe(&self, points: &mut ProbePoints) {
        self.qkv.probe(points);
        self.projection.probe(points);
    }
}
