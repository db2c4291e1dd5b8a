//! Building a model from its configuration: the layers in order, each allocating its
//! buffers for the largest batch and drawing its initial weights from the run's seed, in
//! an order that is the same on every backend (so a seed means the same network).

use rand_chacha::ChaCha8Rng;

use super::config::{Architecture, ModelChoices, ModelConfig, NormPosition, Placement};
use super::layers::{
    ActivationLayer, ChannelNoise, Conv, Dropout, Embedding, Flatten, Layer, Linear, Norm, Pool, TransformerBlock,
};
use super::norm::NormKind;
use super::param::{Param, ParamArena, ParamRole};
use crate::backend::{Backend, TensorId};
use crate::error::NormlabError;

/// Where the builder puts what the layers ask for.
enum Target<'a> {
    /// A first pass that only lists the learnable parameters' lengths, so that their
    /// arenas can be made before the layers are (no tensor is made; the ids are dummies).
    Plan { lens: Vec<usize> },
    /// The real pass: tensors on the backend, learnable parameters as views of the arenas.
    Build { backend: &'a mut dyn Backend, arena: ParamArena, offsets: Vec<usize>, next: usize },
}

/// The id the planning pass hands out: never used on a backend.
const PLANNED: TensorId = TensorId(usize::MAX);

/// Builds layers while tracking the per-sample shape `(channels, height, width)`.
pub struct Builder<'a> {
    target: Target<'a>,
    rng: &'a mut ChaCha8Rng,
    config: &'a ModelConfig,
    max_batch: usize,
    /// The batch's targets, one per output row (see `Model::targets`).
    row_targets: TensorId,
    shape: (usize, usize, usize),
    layers: Vec<Box<dyn Layer>>,
}

impl<'a> Builder<'a> {
    /// The lengths of the learnable parameters the configuration's layers will have, in
    /// order, drawing from `rng` exactly as the real pass will (pass a copy).
    pub fn plan(
        rng: &'a mut ChaCha8Rng,
        config: &'a ModelConfig,
        max_batch: usize,
    ) -> Result<Vec<usize>, NormlabError> {
        let mut planner = Builder::with_target(Target::Plan { lens: Vec::new() }, rng, config, max_batch, PLANNED);
        planner.add_layers()?;
        match planner.target {
            Target::Plan { lens } => Ok(lens),
            Target::Build { .. } => unreachable!("a planner plans"),
        }
    }

    /// A builder whose learnable parameters go, in order, to the views at `offsets` of
    /// `arena` (from [`ParamArena::alloc`] for the lengths [`Builder::plan`] listed), for a
    /// model whose batch targets will be in `row_targets`.
    pub fn new(
        backend: &'a mut dyn Backend,
        (arena, offsets): (ParamArena, Vec<usize>),
        rng: &'a mut ChaCha8Rng,
        config: &'a ModelConfig,
        max_batch: usize,
        row_targets: TensorId,
    ) -> Self {
        Builder::with_target(Target::Build { backend, arena, offsets, next: 0 }, rng, config, max_batch, row_targets)
    }

    fn with_target(
        target: Target<'a>,
        rng: &'a mut ChaCha8Rng,
        config: &'a ModelConfig,
        max_batch: usize,
        row_targets: TensorId,
    ) -> Self {
        Builder { target, rng, config, max_batch, row_targets, shape: config.input, layers: Vec::new() }
    }

    /// The batch's targets, one per output row: a sequence model's BatchNorm reads them to
    /// leave padding out of its statistics.
    pub fn row_targets(&self) -> TensorId {
        self.row_targets
    }

    /// A new zero-filled tensor.
    pub fn alloc(&mut self, len: usize, label: &str) -> Result<TensorId, NormlabError> {
        match &mut self.target {
            Target::Plan { .. } => Ok(PLANNED),
            Target::Build { backend, .. } => backend.alloc(len, label),
        }
    }

    /// Sets a tensor's first values.
    pub fn upload(&mut self, tensor: TensorId, data: &[f32]) {
        if let Target::Build { backend, .. } = &mut self.target {
            backend.upload(tensor, data);
        }
    }

    /// A learnable parameter starting at `init`: the optimizer updates it.
    pub fn param(&mut self, init: &[f32], role: ParamRole) -> Param {
        let len = init.len();
        match &mut self.target {
            Target::Plan { lens } => {
                lens.push(len);
                Param { value: PLANNED, grad: PLANNED, state1: PLANNED, state2: PLANNED, len, role }
            }
            Target::Build { backend, arena, offsets, next } => {
                let offset = offsets[*next];
                *next += 1;
                Param::in_arena(&mut **backend, arena, offset, init, role)
            }
        }
    }

    /// A parameter the optimizer leaves alone (a norm's γ and β without `affine`): its
    /// gradient is still computed, outside the arenas.
    pub fn fixed_param(&mut self, init: &[f32], role: ParamRole, label: &str) -> Result<Param, NormlabError> {
        match &mut self.target {
            Target::Plan { .. } => {
                Ok(Param { value: PLANNED, grad: PLANNED, state1: PLANNED, state2: PLANNED, len: init.len(), role })
            }
            Target::Build { backend, .. } => Param::new(&mut **backend, init, role, label),
        }
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        self.rng
    }

    /// The model's choices (norms, activation, bias, initialisation scale, …).
    pub fn choices(&self) -> &ModelChoices {
        &self.config.choices
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
        self.alloc(self.max_batch * per_sample, label)
    }

    fn push(&mut self, layer: impl Layer + 'static) {
        self.layers.push(Box::new(layer));
    }

    fn norm(&mut self, kind: NormKind) -> Result<(), NormlabError> {
        if kind == NormKind::None {
            return Ok(());
        }
        let layer = Norm::new(self, kind, None)?;
        self.push(layer);
        if self.config.choices.norm_noise > 0.0 {
            let noise = ChannelNoise::new(self, self.config.choices.norm_noise)?;
            self.push(noise);
        }
        Ok(())
    }

    fn activation(&mut self) -> Result<(), NormlabError> {
        let layer = ActivationLayer::new(self)?;
        self.push(layer);
        Ok(())
    }

    /// A block's normalization and activation, in the configured order. A norm directly
    /// before its activation computes it in the same pass (one layer, the same math).
    fn norm_and_activation(&mut self, kind: NormKind) -> Result<(), NormlabError> {
        let fused = kind != NormKind::None && self.config.choices.norm_noise == 0.0;
        match self.config.choices.placement {
            Placement::Before if fused => {
                let layer = Norm::new(self, kind, Some(self.config.choices.activation))?;
                self.push(layer);
                Ok(())
            }
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
        self.add_layers()?;
        if let Target::Build { offsets, next, .. } = &self.target {
            assert_eq!(*next, offsets.len(), "the real pass made the parameters the plan listed");
        }
        Ok(self.layers)
    }

    /// The transformer: token and position embeddings, the blocks (each with the norm of
    /// its block), a final norm after pre-norm blocks (GPT-2's `ln_f`; post-norm blocks
    /// already end in one), and the head over the vocabulary. Every layer works on token
    /// rows: the builder's batch is sequences × `context`.
    fn add_transformer(
        &mut self,
        dim: usize,
        heads: usize,
        blocks: usize,
        context: usize,
        position: NormPosition,
    ) -> Result<(), NormlabError> {
        let vocab = self.config.classes;
        self.set_shape((1, 1, 1));
        let embedding = Embedding::with_positions(self, vocab, dim, context)?;
        self.push(embedding);
        for block in 0..blocks {
            let kind = self.config.choices.norm_of_block(block);
            let layer = TransformerBlock::new(self, kind, heads, context, position)?;
            self.push(layer);
        }
        let last = self.config.choices.norm_of_block(blocks.saturating_sub(1));
        if position == NormPosition::Pre && last != NormKind::None {
            let norm = Norm::over_tokens(self, last, context)?;
            self.push(norm);
        }
        let head = Linear::new(self, vocab, true)?;
        self.push(head);
        Ok(())
    }

    fn add_layers(&mut self) -> Result<(), NormlabError> {
        let config = self.config;
        let hidden = match &config.choices.architecture {
            &Architecture::Transformer { dim, heads, blocks, context, norm_position } => {
                return self.add_transformer(dim, heads, blocks, context, norm_position);
            }
            Architecture::Mlp { hidden } => hidden.clone(),
            Architecture::CharMlp { embed, hidden } => {
                let layer = Embedding::new(self, config.classes, *embed)?;
                self.push(layer);
                hidden.clone()
            }
            Architecture::Cnn { channels, hidden } => {
                for (block, &c) in channels.iter().enumerate() {
                    let conv = Conv::new_3x3(self, c)?;
                    self.push(conv);
                    self.norm_and_activation(config.choices.norm_of_block(block))?;
                    let pool = Pool::max_2x2(self)?;
                    self.push(pool);
                }
                let flatten = Flatten::new(self);
                self.push(flatten);
                hidden.clone()
            }
        };
        let first_linear_block = config.choices.architecture.blocks() - hidden.len();
        for (i, &width) in hidden.iter().enumerate() {
            let linear = Linear::new(self, width, config.choices.bias)?;
            self.push(linear);
            self.norm_and_activation(config.choices.norm_of_block(first_linear_block + i))?;
            if config.choices.dropout > 0.0 {
                let dropout = Dropout::new(self, config.choices.dropout)?;
                self.push(dropout);
            }
        }
        let output = Linear::new(self, config.classes, true)?;
        self.push(output);
        Ok(())
    }
}
