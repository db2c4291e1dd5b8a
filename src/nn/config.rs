//! What a model is made of: its architecture and the choices of each block, the optimizer,
//! and the training phase a forward pass runs in. Plain data (serializable), so that the
//! whole experiment fits in one URL.

use serde::{Deserialize, Serialize};

use super::norm::NormKind;
use crate::backend::{Activation, AdamHyper};

/// Train or eval, as `model.train()` / `model.eval()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Train,
    Eval,
    /// A forward pass that normalizes with the statistics of the batch in hand, as in
    /// training, but leaves the running estimates alone and drops nothing (dropout and
    /// channel noise off): the "train-mode loss" of a held-out set, to set beside eval mode.
    BatchStats,
}

/// `torch.optim.SGD` or `torch.optim.Adam`, with what stays fixed during a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Optimizer {
    Sgd { momentum: f32, weight_decay: f32 },
    Adam { beta1: f32, beta2: f32, eps: f32, weight_decay: f32 },
}

impl Optimizer {
    pub fn sgd_momentum() -> Self {
        Optimizer::Sgd { momentum: 0.9, weight_decay: 0.0 }
    }
    pub fn adam() -> Self {
        let d = AdamHyper::default();
        Optimizer::Adam { beta1: d.beta1, beta2: d.beta2, eps: d.eps, weight_decay: d.weight_decay }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adam { .. } => "adam",
        }
    }
}

/// The shape of the network between its input and its class logits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Architecture {
    /// `Linear → [norm] → activation [→ dropout]` per hidden width, then `Linear`.
    Mlp { hidden: Vec<usize> },
    /// `Conv3×3(pad 1) → [norm] → activation → MaxPool2` per channel count, flatten, then
    /// the hidden linear blocks of an MLP and the output `Linear`.
    Cnn { channels: Vec<usize>, hidden: Vec<usize> },
    /// A character-level MLP (Bengio et al. 2003, as in makemore): each of the input's
    /// token ids (a context of previous characters) is looked up in a shared embedding
    /// table of `embed` numbers per token, the embeddings are concatenated, then the
    /// hidden linear blocks of an MLP and the output `Linear` over the vocabulary.
    #[serde(rename = "char")]
    CharMlp { embed: usize, hidden: Vec<usize> },
    /// A character-level causal transformer over whole sequences of `context` tokens:
    /// token and learned position embeddings of `dim` numbers, `blocks` blocks (causal
    /// self-attention with `heads` heads, then an MLP of width 4·dim, each inside a
    /// residual connection with the model's normalization placed as `norm_position`
    /// says), a final normalization and a linear head over the vocabulary at every position.
    Transformer { dim: usize, heads: usize, blocks: usize, context: usize, norm_position: NormPosition },
}

/// Where a transformer block's normalizations sit relative to its residual connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormPosition {
    /// Pre-norm (GPT-2): `h = x + attention(norm(x))`, `y = h + mlp(norm(h))`; the residual
    /// path carries the input untouched from the embeddings to the head.
    #[default]
    Pre,
    /// Post-norm (the original Transformer): `h = norm(x + attention(x))`,
    /// `y = norm(h + mlp(h))`.
    Post,
}

impl Architecture {
    /// The CNN of the source notes: conv(1→32)-conv(32→64)-linear(64·7·7→128)-linear(128→10).
    pub fn notes_cnn() -> Self {
        Architecture::Cnn { channels: vec![32, 64], hidden: vec![128] }
    }

    /// How many blocks can carry a normalization (conv blocks, then hidden linear blocks).
    pub fn blocks(&self) -> usize {
        match self {
            Architecture::Mlp { hidden } | Architecture::CharMlp { hidden, .. } => hidden.len(),
            Architecture::Cnn { channels, hidden } => channels.len() + hidden.len(),
            Architecture::Transformer { blocks, .. } => *blocks,
        }
    }

    /// Whether the input holds token ids rather than pixel values.
    pub fn takes_tokens(&self) -> bool {
        matches!(self, Architecture::CharMlp { .. } | Architecture::Transformer { .. })
    }

    /// How many predictions the model makes per example: one per position for a
    /// sequence model, else one.
    pub fn outputs_per_example(&self) -> usize {
        match self {
            Architecture::Transformer { context, .. } => *context,
            _ => 1,
        }
    }

    /// The hidden linear widths.
    pub fn hidden(&self) -> &[usize] {
        match self {
            Architecture::Mlp { hidden } | Architecture::Cnn { hidden, .. } | Architecture::CharMlp { hidden, .. } => {
                hidden
            }
            Architecture::Transformer { .. } => &[],
        }
    }
}

/// Where a block's normalization sits relative to its activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// `linear → norm → activation`, as in the original BatchNorm paper.
    #[default]
    Before,
    /// `linear → activation → norm`.
    After,
}

/// The choices that make a network, apart from the shape of its data: what an experiment
/// says about its model ([`crate::experiment::ExperimentConfig::model`]), and with the
/// data's shape a [`ModelConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelChoices {
    pub architecture: Architecture,
    /// The normalization of each block, in block order; a block beyond the list uses the
    /// last entry, and an empty list means none.
    pub norms: Vec<NormKind>,
    pub placement: Placement,
    pub activation: Activation,
    /// Dropout probability after each hidden linear block's activation (0: none).
    pub dropout: f32,
    /// Bias on the hidden linear and conv layers (redundant right before a normalization,
    /// lesson 9). The output layer always has its bias, as in PyTorch practice.
    pub bias: bool,
    /// Learnable γ and β on normalization layers.
    pub affine: bool,
    /// Running-statistics momentum; None is PyTorch's cumulative average.
    pub norm_momentum: Option<f32>,
    /// Strength of "noisy BatchNorm" (a random per-channel scale and shift after each
    /// normalization, new every step; Santurkar et al. 2018). 0: off.
    pub norm_noise: f32,
    /// Multiplies every linear and conv weight drawn by PyTorch's default initialisation
    /// (1: the default). Lesson 1 uses a bad scale on purpose.
    pub init_scale: f32,
}

impl Default for ModelChoices {
    /// The lab's default network: the MLP 256-256 with BatchNorm before each ReLU, at
    /// PyTorch's defaults (bias, γ and β, momentum 0.1, its initialisation).
    fn default() -> Self {
        ModelChoices {
            architecture: Architecture::Mlp { hidden: vec![256, 256] },
            norms: vec![NormKind::Batch],
            placement: Placement::Before,
            activation: Activation::Relu,
            dropout: 0.0,
            bias: true,
            affine: true,
            norm_momentum: Some(0.1),
            norm_noise: 0.0,
            init_scale: 1.0,
        }
    }
}

impl ModelChoices {
    pub fn norm_of_block(&self, block: usize) -> NormKind {
        self.norms.get(block).or(self.norms.last()).copied().unwrap_or(NormKind::None)
    }
}

/// Everything that determines a model's layers and initial weights (with the seed): the
/// choices, and the shape of the data they are made for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(flatten)]
    pub choices: ModelChoices,
    /// Input `(channels, height, width)`; an MLP flattens it.
    pub input: (usize, usize, usize),
    pub classes: usize,
}

/// A multi-layer perceptron configuration, kept for tests and small experiments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    pub inputs: usize,
    pub hidden: Vec<usize>,
    pub classes: usize,
    pub norm: NormKind,
    pub activation: Activation,
    pub bias: bool,
    pub norm_momentum: Option<f32>,
}

impl From<&MlpConfig> for ModelConfig {
    fn from(c: &MlpConfig) -> Self {
        ModelConfig {
            choices: ModelChoices {
                architecture: Architecture::Mlp { hidden: c.hidden.clone() },
                norms: vec![c.norm],
                activation: c.activation,
                bias: c.bias,
                norm_momentum: c.norm_momentum,
                ..ModelChoices::default()
            },
            input: (c.inputs, 1, 1),
            classes: c.classes,
        }
    }
}
