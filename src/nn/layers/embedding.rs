//! `nn.Embedding(vocab, dim)` applied to each of `context` token ids per sample; the
//! embeddings of one sample are concatenated (`[N, context·dim]`). For a sequence model
//! each row is one token of a sequence of `T`, and a learned position embedding
//! (`nn.Embedding(T, dim)` of the position) is added: `y[n·T + t] = table[x] + positions[t]`.
//!
//! The lookup is written as a product with one-hot rows, `onehot[N·context, vocab] ·
//! table[vocab, dim]`, so that its gradient `dtable = onehotᵀ · dy` is a plain matrix
//! product too: the scatter-add over the rows that hold each token, written as a sum that
//! one thread per table entry gathers (WGSL cannot add floats atomically). The positions
//! are added in the product's epilogue; their gradient sums each position over the batch.

use super::Layer;
use crate::backend::{Backend, Epilogue, MatmulShape, TensorId};
use crate::error::NormlabError;
use crate::nn::builder::Builder;
use crate::nn::config::Phase;
use crate::nn::param::{normal_init, Param, ParamRole};
use crate::nn::probe::ProbePoints;

pub struct Embedding {
    pub vocab: usize,
    pub dim: usize,
    pub context: usize,
    pub table: Param,
    /// The position embedding `[T, dim]` and T, for token rows of a sequence.
    pub positions: Option<(Param, usize)>,
    /// The `vocab × vocab` identity, whose rows `gather_rows` picks as one-hot vectors.
    identity: TensorId,
    onehot: TensorId,
    y: TensorId,
}

impl Embedding {
    /// The input `(context, 1, 1)` holds token ids below `vocab`.
    pub fn new(b: &mut Builder, vocab: usize, dim: usize) -> Result<Self, NormlabError> {
        let context = b.per_sample();
        let i = b.index();
        let init = normal_init(b.rng(), vocab * dim);
        let table = b.param(&init, ParamRole::Weight);
        let identity = b.alloc(vocab * vocab, &format!("layer{i}.identity"))?;
        let mut eye = vec![0.0; vocab * vocab];
        (0..vocab).for_each(|v| eye[v * vocab + v] = 1.0);
        b.upload(identity, &eye);
        let onehot = b.buffer(context * vocab, &format!("layer{i}.onehot"))?;
        let y = b.buffer(context * dim, &format!("layer{i}.y"))?;
        b.set_shape((context * dim, 1, 1));
        Ok(Embedding { vocab, dim, context, table, positions: None, identity, onehot, y })
    }

    /// One token per row, rows in sequences of `seq_len`, with a learned position embedding.
    pub fn with_positions(b: &mut Builder, vocab: usize, dim: usize, seq_len: usize) -> Result<Self, NormlabError> {
        let mut layer = Embedding::new(b, vocab, dim)?;
        assert_eq!(layer.context, 1, "a sequence's rows hold one token each");
        let init = normal_init(b.rng(), seq_len * dim);
        layer.positions = Some((b.param(&init, ParamRole::Weight), seq_len));
        Ok(layer)
    }
}

impl Layer for Embedding {
    fn describe(&self) -> String {
        match self.positions {
            Some((_, seq_len)) => {
                format!("Embedding({}, {}) + positions({seq_len}, {})", self.vocab, self.dim, self.dim)
            }
            None => format!("Embedding({}, {}) × {}", self.vocab, self.dim, self.context),
        }
    }

    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, _phase: Phase) -> TensorId {
        let rows = batch * self.context;
        backend.gather_rows(self.identity, x, self.onehot, rows, self.vocab);
        let shape = MatmulShape { m: rows, k: self.vocab, n: self.dim, trans_a: false, trans_b: false };
        let epilogue = match self.positions {
            Some((table, seq_len)) => Epilogue::positions(table.value, seq_len),
            None => Epilogue::NONE,
        };
        backend.matmul(self.onehot, self.table.value, self.y, shape, epilogue);
        self.y
    }

    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId {
        // dtable[vocab, dim] = onehotᵀ[vocab, N·context] · dy[N·context, dim]
        let rows = batch * self.context;
        let shape = MatmulShape { m: self.vocab, k: rows, n: self.dim, trans_a: true, trans_b: false };
        backend.matmul(self.onehot, dy, self.table.grad, shape, Epilogue::NONE);
        if let Some((positions, seq_len)) = self.positions {
            // dpositions[t] = Σ_n dy[n·T + t]: a bias over T·dim channels.
            backend.bias_grad(dy, positions.grad, (rows / seq_len, seq_len * self.dim, 1));
        }
        dy
    }

    fn params(&self) -> Vec<Param> {
        std::iter::once(self.table).chain(self.positions.map(|(p, _)| p)).collect()
    }

    fn probe(&self, points: &mut ProbePoints) {
        points.weight_grads.push((self.table.grad, self.table.len));
        if let Some((positions, _)) = self.positions {
            points.weight_grads.push((positions.grad, positions.len));
        }
    }
}
