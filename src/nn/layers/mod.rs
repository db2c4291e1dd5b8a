//! The layers, one file each, behind one trait. A layer is a hand-written forward and
//! backward pair over the [`Backend`] trait that keeps what its backward pass needs in its
//! own named fields (its input, the normalization statistics, the dropout mask), as llm.c
//! does. Buffers are allocated once, when the model is built, for the largest batch it
//! will see; smaller batches use a prefix.
//!
//! Adding a layer is one new file here and one line in `nn::builder`.

mod activation;
mod attention;
mod block;
mod conv;
mod dropout;
mod embedding;
mod flatten;
mod linear;
mod noise;
mod norm;
mod pool;

pub use activation::ActivationLayer;
pub use attention::SelfAttention;
pub use block::TransformerBlock;
pub use conv::Conv;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use linear::Linear;
pub use noise::ChannelNoise;
pub use norm::Norm;
pub use pool::Pool;

use super::config::Phase;
use super::param::Param;
use super::probe::ProbePoints;
use crate::backend::{Backend, TensorId};

/// One layer of a sequential network (`nn.Module`'s forward and backward, written out).
pub trait Layer {
    /// A short description for model summaries: "Linear(784→256)".
    fn describe(&self) -> String;

    /// Records the forward pass of `batch` samples of `x` in `phase`; returns the output.
    fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, phase: Phase) -> TensorId;

    /// Records the backward pass of the last forward, from the gradient `dy` of its output:
    /// fills the layer's parameter gradients and returns the gradient of its input (for a
    /// first layer, whose input needs none, `dy` itself).
    fn backward(&mut self, backend: &mut dyn Backend, dy: TensorId, batch: usize) -> TensorId;

    /// The layer's learnable tensors, in the order PyTorch's `named_parameters()` lists
    /// them (weight, bias; γ, β).
    fn params(&self) -> Vec<Param> {
        Vec::new()
    }

    /// Adds what the layer shows to probes.
    fn probe(&self, _points: &mut ProbePoints) {}

    /// The layer as a normalization, for tests and demos that reach its tensors.
    fn as_norm(&self) -> Option<&Norm> {
        None
    }

    /// The layer as a transformer block, for what lesson 11 shows inside one (its
    /// attention, its parameters' gradient).
    fn as_block(&self) -> Option<&TransformerBlock> {
        None
    }

    /// The normalizations in the layer: itself, or those of the layers it is made of.
    fn norms(&self) -> Vec<&Norm> {
        self.as_norm().into_iter().collect()
    }
}
