//! Building a model from its configuration: the layers in order, each allocating its
//! buffers for the largest batch and drawing its initial weights from the run's seed, in
//! an order that is the same on every backend (so a seed means the same network).

use rand_chacha::ChaCha8Rng;

use super::config::{Architecture, ModelConfig, Placement};
use super::layers::{ActivationLayer, ChannelNoise, Conv, Dropout, Embedding, Flatten, Layer, Linear, Norm, Pool};
use super::norm::NormKind;
use crate::backend::{Backend, TensorId};
use crate::error::NormlabError;

/// Builds layers while tracking the per-sample shape `(channels, height, width)`.
pub struct Builder<'a> {
    backend: &'a mut dyn Backend,
    rng: &'a mut ChaCha8Rng,
    config: &'a ModelConfig,
    max_batch: usize,
    shape: (usize, usize, usize),
    layers: Vec<Box<dyn Layer>>,
}

impl<'a> Builder<'a> {
    pub fn new(
        backend: &'a mut dyn Backend,
        rng: &'a mut ChaCha8Rng,
        config: &'a ModelConfig,
        max_batch: usize,
    ) -> Self {
        Builder { backend, rng, config, max_batch, shape: config.input, layers: Vec::new() }
    }

    pub fn backend(&mut self) -> &mut dyn Backend {
        &mut *self.backend
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        self.rng
    }

    pub fn config(&self) -> &ModelConfig {
        self.config
    }

    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// The per-sample shape of the next layer's input.
    pub fn shape(&self) -> (usize, usize, usize) {
        self.shape
    }

    /// Values per sample of the next layer's input.
    pub fn per_sample(&self) -> usize {
        self.shape.0 * self.shape.1 * self.shape.2
    }

    /// The index the next layer will have (names its tensors).
    pub fn index(&self) -> usize {
        self.layers.len()
    }

    /// Whether the next layer is the first, whose input needs no gradient.
    pub fn is_first(&self) -> bool {
        self.layers.is_empty()
    }

    /// The next layer's output has this per-sample shape.
    pub fn set_shape(&mut self, shape: (usize, usize, usize)) {
        self.shape = shape;
    }

    /// A buffer of `per_sample` values for each sample of the largest batch.
    pub fn buffer(&mut self, per_sample: usize, label: &str) -> Result<TensorId, NormlabError> {
        self.backend.alloc(self.max_batch * per_sample, label)
    }

    fn push(&mut self, layer: impl Layer + 'static) {
        self.layers.push(Box::new(layer));
    }

    fn norm(&mut self, kind: NormKind) -> Result<(), NormlabError> {
        if kind == NormKind::None {
            return Ok(());
        }
        let layer = Norm::new(self, kind)?;
        self.push(layer);
        if self.config.norm_noise > 0.0 {
            let noise = ChannelNoise::new(self, self.config.norm_noise)?;
            self.push(noise);
        }
        Ok(())
    }

    fn activation(&mut self) -> Result<(), NormlabError> {
        let layer = ActivationLayer::new(self)?;
        self.push(layer);
        Ok(())
    }

    /// A block's normalization and activation, in the configured order.
    fn norm_and_activation(&mut self, kind: NormKind) -> Result<(), NormlabError> {
        match self.config.placement {
            Placement::Before => {
                self.norm(kind)?;
                self.activation()
            }
            Placement::After => {
                self.activation()?;
                self.norm(kind)
            }
        }
    }

    /// Every layer of the configured architecture:
    /// - MLP: `Linear → [norm] → activation [→ dropout]` per hidden width, then `Linear`;
    /// - CNN: `Conv3×3 → [norm] → activation → MaxPool2` per channel count, flatten, the
    ///   MLP's hidden blocks, `Linear`;
    /// - character model: `Embedding`, the MLP's hidden blocks, `Linear` over the vocabulary.
    pub fn build(mut self) -> Result<Vec<Box<dyn Layer>>, NormlabError> {
        let config = self.config;
        let hidden = match &config.architecture {
            Architecture::Mlp { hidden } => hidden.clone(),
            Architecture::CharMlp { embed, hidden } => {
                let layer = Embedding::new(&mut self, config.classes, *embed)?;
                self.push(layer);
                hidden.clone()
            }
            Architecture::Cnn { channels, hidden } => {
                for (block, &c) in channels.iter().enumerate() {
                    let conv = Conv::new_3x3(&mut self, c)?;
                    self.push(conv);
                    self.norm_and_activation(config.norm_of_block(block))?;
                    let pool = Pool::max_2x2(&mut self)?;
                    self.push(pool);
                }
                let flatten = Flatten::new(&mut self);
                self.push(flatten);
                hidden.clone()
            }
        };
        let first_linear_block = config.architecture.blocks() - hidden.len();
        for (i, &width) in hidden.iter().enumerate() {
            let linear = Linear::new(&mut self, width, config.bias)?;
            self.push(linear);
            self.norm_and_activation(config.norm_of_block(first_linear_block + i))?;
            if config.dropout > 0.0 {
                let dropout = Dropout::new(&mut self, config.dropout)?;
                self.push(dropout);
            }
        }
        let output = Linear::new(&mut self, config.classes, true)?;
        self.push(output);
        Ok(self.layers)
    }
}
