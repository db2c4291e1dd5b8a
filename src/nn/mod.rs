//! Layers and models, written once against the [`Backend`] trait.
//!
//! Each layer is a hand-written forward/backward pair that keeps what its backward pass
//! needs (its input, the normalization statistics, the dropout mask), as llm.c does.
//! Buffers are allocated once for the largest batch the model will see; smaller batches
//! use a prefix. Training or evaluation is always an explicit argument.
//!
//! Tensors are NCHW; a fully connected layer's `[N, F]` is `[N, F, 1]` (S = 1), and
//! flattening a `[N, C, H, W]` block is free because the memory is already contiguous.

pub mod norm;

use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backend::{
    Activation, AdamHyper, Backend, ConvShape, MatmulShape, NormGeometry, NormGrads, NormMode, NormTensors, PoolKind,
    PoolShape, RunningStats, SgdHyper, TensorId, NORM_STAT_GRAD_WIDTH,
};
use crate::error::NormlabError;
use crate::words;
pub use norm::{LpOrder, NormKind};

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
        }
    }

    /// Whether the input holds token ids rather than pixel values.
    pub fn takes_tokens(&self) -> bool {
        matches!(self, Architecture::CharMlp { .. })
    }

    /// The hidden linear widths.
    pub fn hidden(&self) -> &[usize] {
        match self {
            Architecture::Mlp { hidden } | Architecture::Cnn { hidden, .. } | Architecture::CharMlp { hidden, .. } => {
                hidden
            }
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

/// Everything that determines a model's layers and initial weights (with the seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub architecture: Architecture,
    /// Input `(channels, height, width)`; an MLP flattens it.
    pub input: (usize, usize, usize),
    pub classes: usize,
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

impl ModelConfig {
    pub fn norm_of_block(&self, block: usize) -> NormKind {
        self.norms.get(block).or(self.norms.last()).copied().unwrap_or(NormKind::None)
    }
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
            architecture: Architecture::Mlp { hidden: c.hidden.clone() },
            input: (c.inputs, 1, 1),
            classes: c.classes,
            norms: vec![c.norm],
            placement: Placement::Before,
            activation: c.activation,
            dropout: 0.0,
            bias: c.bias,
            affine: true,
            norm_momentum: c.norm_momentum,
            norm_noise: 0.0,
            init_scale: 1.0,
        }
    }
}

/// Where a model keeps what a probe reads (see [`Model::probe_points`]).
#[derive(Clone, Debug, Default)]
pub struct ProbePoints {
    /// Each activation layer's output and its values per sample (`[batch, features]`).
    pub activations: Vec<(TensorId, usize)>,
    /// The gradient of each weight (embedding table, linear and conv weights) and its length.
    pub weight_grads: Vec<(TensorId, usize)>,
    /// The gradient of each linear and conv layer's bias, where it has one.
    pub bias_grads: Vec<Option<(TensorId, usize)>>,
    pub norms: Vec<NormProbePoint>,
}

/// One normalization layer's statistics.
#[derive(Clone, Copy, Debug)]
pub struct NormProbePoint {
    pub channels: usize,
    pub spatial: usize,
    /// The layer's output `[batch, channels, spatial]` (with γ = 1, β = 0 it is x̂).
    pub y: TensorId,
    /// Per statistic of the last forward pass: the mean and `1/sqrt(var + eps)`.
    pub mean: TensorId,
    pub rstd: TensorId,
    pub eps: f32,
    pub running: Option<RunningStats>,
    /// True when there is one statistic per channel (BatchNorm and its Lp variants), so
    /// that the first entries of `mean` and `rstd` are channels 0, 1, ….
    pub per_channel_stats: bool,
}

/// A learnable tensor with its gradient and optimizer state.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub value: TensorId,
    pub grad: TensorId,
    /// SGD's velocity or Adam's first moment.
    pub state1: TensorId,
    /// Adam's second moment (unused by SGD).
    pub state2: TensorId,
    pub len: usize,
}

impl Param {
    fn new<B: Backend>(backend: &mut B, init: &[f32], label: &str) -> Result<Self, NormlabError> {
        let len = init.len();
        let value = backend.alloc(len, label)?;
        backend.upload(value, init);
        Ok(Param {
            value,
            grad: backend.alloc(len, &format!("{label}.grad"))?,
            state1: backend.alloc(len, &format!("{label}.m"))?,
            state2: backend.alloc(len, &format!("{label}.v"))?,
            len,
        })
    }
}

/// `nn.Linear`: `y = x Wᵀ + b` with W stored `[out, in]`.
pub struct Linear {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Param,
    pub bias: Option<Param>,
    y: TensorId,
    /// None for the first layer, whose input needs no gradient.
    dx: Option<TensorId>,
    x: Option<TensorId>,
}

/// `nn.Conv2d(in, out, k, stride, padding)`; `shape.batch` is filled in per call.
pub struct Conv {
    pub shape: ConvShape,
    pub weight: Param,
    pub bias: Option<Param>,
    y: TensorId,
    dx: Option<TensorId>,
    x: Option<TensorId>,
}

/// A normalization layer over `[N, C, S]`.
pub struct Norm {
    pub kind: NormKind,
    pub channels: usize,
    pub spatial: usize,
    pub gamma: Param,
    pub beta: Param,
    /// Whether γ and β learn (otherwise they stay 1 and 0).
    pub affine: bool,
    pub running: Option<RunningStats>,
    pub momentum: Option<f32>,
    mean: TensorId,
    rstd: TensorId,
    stat_grad: TensorId,
    y: TensorId,
    dx: TensorId,
    /// Set by the forward pass for the backward pass: input, geometry and mode.
    last: Option<(TensorId, NormGeometry, NormMode)>,
}

pub struct ActivationLayer {
    pub kind: Activation,
    /// Values per sample.
    pub features: usize,
    x: Option<TensorId>,
    y: TensorId,
    dx: TensorId,
}

/// `nn.MaxPool2d` / `nn.AvgPool2d`; `shape.batch` is filled in per call.
pub struct Pool {
    pub shape: PoolShape,
    y: TensorId,
    argmax: TensorId,
    dx: TensorId,
}

/// `nn.Dropout(p)`: identity in eval mode.
pub struct Dropout {
    pub p: f32,
    pub features: usize,
    stream: u32,
    mask: TensorId,
    y: TensorId,
    dx: TensorId,
    /// Whether the last forward pass dropped anything (training), for the backward pass.
    active: bool,
}

/// Noisy BatchNorm's random per-channel scale and shift (training only).
pub struct ChannelNoise {
    pub strength: f32,
    pub channels: usize,
    pub spatial: usize,
    stream: u32,
    noise: TensorId,
    y: TensorId,
    dx: TensorId,
    active: bool,
}

/// `nn.Embedding(vocab, dim)` applied to each of `context` token ids per sample; the
/// embeddings of one sample are concatenated (`[N, context·dim]`).
///
/// The lookup is written as a product with one-hot rows, `onehot[N·context, vocab] ·
/// table[vocab, dim]`, so that its gradient `dtable = onehotᵀ · dy` is a plain matrix
/// product too: no scatter-add (which WGSL cannot do on floats without atomics).
pub struct Embedding {
    pub vocab: usize,
    pub dim: usize,
    pub context: usize,
    pub table: Param,
    /// The `vocab × vocab` identity, whose rows `gather_rows` picks as one-hot vectors.
    identity: TensorId,
    onehot: TensorId,
    y: TensorId,
}

pub enum Layer {
    Embedding(Embedding),
    Linear(Linear),
    Conv(Conv),
    Norm(Norm),
    Activation(ActivationLayer),
    Pool(Pool),
    /// `[N, C, H, W] → [N, C·H·W]`: nothing to compute in NCHW.
    Flatten,
    Dropout(Dropout),
    Noise(ChannelNoise),
}

impl Layer {
    /// A short description for model summaries.
    pub fn describe(&self) -> String {
        match self {
            Layer::Embedding(e) => format!("Embedding({}, {}) × {}", e.vocab, e.dim, e.context),
            Layer::Linear(l) => format!("Linear({}→{})", l.inputs, l.outputs),
            Layer::Conv(c) => format!(
                "Conv2d({}→{}, {}×{}, stride {}, pad {})",
                c.shape.in_channels,
                c.shape.out_channels,
                c.shape.kernel,
                c.shape.kernel,
                c.shape.stride,
                c.shape.padding
            ),
            Layer::Norm(n) => format!("{}({})", n.kind.name(), n.channels),
            Layer::Activation(a) => format!("{:?}", a.kind),
            Layer::Pool(p) => format!("{:?}Pool({})", p.shape.kind, p.shape.kernel),
            Layer::Flatten => "Flatten".into(),
            Layer::Dropout(d) => format!("Dropout({})", d.p),
            Layer::Noise(n) => format!("Noise({})", n.strength),
        }
    }
}

/// PyTorch's default initialisation of `nn.Linear` and `nn.Conv2d`: weight and bias
/// uniform in ±1/√fan_in (kaiming_uniform with a = √5).
fn uniform_init(rng: &mut ChaCha8Rng, fan_in: usize, len: usize) -> Vec<f32> {
    let bound = 1.0 / (fan_in as f32).sqrt();
    (0..len).map(|_| rng.random_range(-bound..bound)).collect()
}

/// `nn.Embedding`'s initialisation: standard normal entries (Box–Muller, so that every
/// backend and platform draws the same numbers from the same seed).
fn normal_init(rng: &mut ChaCha8Rng, len: usize) -> Vec<f32> {
    (0..len)
        .map(|_| {
            let u1: f64 = rng.random_range(f64::EPSILON..1.0);
            let u2: f64 = rng.random_range(0.0..1.0);
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
        })
        .collect()
}

fn scaled(mut weights: Vec<f32>, scale: f32) -> Vec<f32> {
    if scale != 1.0 {
        weights.iter_mut().for_each(|w| *w *= scale);
    }
    weights
}

/// A sequential network and the buffers for one batch of up to `max_batch` samples.
pub struct Model {
    pub layers: Vec<Layer>,
    pub config: ModelConfig,
    pub classes: usize,
    pub max_batch: usize,
    /// The gradient with respect to the logits, written by the loss.
    pub dlogits: TensorId,
}

/// Builds layers while tracking the per-sample shape `(channels, height, width)`.
struct Builder<'a, B: Backend> {
    backend: &'a mut B,
    rng: &'a mut ChaCha8Rng,
    config: &'a ModelConfig,
    max_batch: usize,
    shape: (usize, usize, usize),
    layers: Vec<Layer>,
}

impl<B: Backend> Builder<'_, B> {
    fn per_sample(&self) -> usize {
        self.shape.0 * self.shape.1 * self.shape.2
    }

    fn buffer(&mut self, per_sample: usize, label: &str) -> Result<TensorId, NormlabError> {
        self.backend.alloc(self.max_batch * per_sample, label)
    }

    fn linear(&mut self, outputs: usize, with_bias: bool) -> Result<(), NormlabError> {
        let inputs = self.per_sample();
        let i = self.layers.len();
        let weight_init = scaled(uniform_init(self.rng, inputs, outputs * inputs), self.config.init_scale);
        let bias_init = uniform_init(self.rng, inputs, outputs);
        let weight = Param::new(self.backend, &weight_init, &format!("layer{i}.weight"))?;
        // The bias is drawn either way, so that switching it off leaves every other initial
        // value as it was (lesson 9 compares the two).
        let bias =
            if with_bias { Some(Param::new(self.backend, &bias_init, &format!("layer{i}.bias"))?) } else { None };
        let dx = if self.layers.is_empty() { None } else { Some(self.buffer(inputs, &format!("layer{i}.dx"))?) };
        let y = self.buffer(outputs, &format!("layer{i}.y"))?;
        self.layers.push(Layer::Linear(Linear { inputs, outputs, weight, bias, y, dx, x: None }));
        self.shape = (outputs, 1, 1);
        Ok(())
    }

    /// The input `(context, 1, 1)` holds token ids below `vocab`.
    fn embedding(&mut self, vocab: usize, dim: usize) -> Result<(), NormlabError> {
        let context = self.per_sample();
        let i = self.layers.len();
        let table = Param::new(self.backend, &normal_init(self.rng, vocab * dim), &format!("layer{i}.weight"))?;
        let identity = self.backend.alloc(vocab * vocab, &format!("layer{i}.identity"))?;
        let mut eye = vec![0.0; vocab * vocab];
        (0..vocab).for_each(|v| eye[v * vocab + v] = 1.0);
        self.backend.upload(identity, &eye);
        let onehot = self.buffer(context * vocab, &format!("layer{i}.onehot"))?;
        let y = self.buffer(context * dim, &format!("layer{i}.y"))?;
        self.layers.push(Layer::Embedding(Embedding { vocab, dim, context, table, identity, onehot, y }));
        self.shape = (context * dim, 1, 1);
        Ok(())
    }

    fn conv3x3(&mut self, out_channels: usize) -> Result<(), NormlabError> {
        let (c, h, w) = self.shape;
        let shape = ConvShape {
            batch: self.max_batch,
            in_channels: c,
            out_channels,
            height: h,
            width: w,
            kernel: 3,
            stride: 1,
            padding: 1,
        };
        let i = self.layers.len();
        let fan_in = c * 9;
        let weight_init = scaled(uniform_init(self.rng, fan_in, shape.weight_len()), self.config.init_scale);
        let bias_init = uniform_init(self.rng, fan_in, out_channels);
        let weight = Param::new(self.backend, &weight_init, &format!("layer{i}.weight"))?;
        let bias = if self.config.bias {
            Some(Param::new(self.backend, &bias_init, &format!("layer{i}.bias"))?)
        } else {
            None
        };
        let dx = if self.layers.is_empty() { None } else { Some(self.buffer(c * h * w, &format!("layer{i}.dx"))?) };
        let (oh, ow) = (shape.out_height(), shape.out_width());
        let y = self.buffer(out_channels * oh * ow, &format!("layer{i}.y"))?;
        self.layers.push(Layer::Conv(Conv { shape, weight, bias, y, dx, x: None }));
        self.shape = (out_channels, oh, ow);
        Ok(())
    }

    fn norm(&mut self, kind: NormKind) -> Result<(), NormlabError> {
        if kind == NormKind::None {
            return Ok(());
        }
        let (c, h, w) = self.shape;
        let spatial = h * w;
        // Validates the kind for this shape (e.g. GroupNorm's groups must divide C).
        let geometry = kind.geometry(self.max_batch, c, spatial, false)?.expect("not None");
        let i = self.layers.len();
        let affine_len = geometry.affine_len();
        let stats = self.max_batch * c;
        let running = if kind.has_running_stats() {
            let mean = self.backend.alloc(c, &format!("layer{i}.running_mean"))?;
            let var = self.backend.alloc(c, &format!("layer{i}.running_var"))?;
            self.backend.upload(var, &vec![1.0; c]);
            let batches_tracked = self.backend.alloc(1, &format!("layer{i}.num_batches_tracked"))?;
            Some(RunningStats { mean, var, batches_tracked })
        } else {
            None
        };
        let norm = Norm {
            kind,
            channels: c,
            spatial,
            gamma: Param::new(self.backend, &vec![1.0; affine_len], &format!("layer{i}.weight"))?,
            beta: Param::new(self.backend, &vec![0.0; affine_len], &format!("layer{i}.bias"))?,
            affine: self.config.affine,
            running,
            momentum: self.config.norm_momentum,
            mean: self.backend.alloc(stats, &format!("layer{i}.mean"))?,
            rstd: self.backend.alloc(stats, &format!("layer{i}.rstd"))?,
            stat_grad: self.backend.alloc(NORM_STAT_GRAD_WIDTH * stats, &format!("layer{i}.stat_grad"))?,
            y: self.buffer(c * spatial, &format!("layer{i}.y"))?,
            dx: self.buffer(c * spatial, &format!("layer{i}.dx"))?,
            last: None,
        };
        self.layers.push(Layer::Norm(norm));
        if self.config.norm_noise > 0.0 {
            let stream = self.rng.next_u32();
            let layer = Layer::Noise(ChannelNoise {
                strength: self.config.norm_noise,
                channels: c,
                spatial,
                stream,
                noise: self.backend.alloc(2 * c, &format!("layer{i}.noise"))?,
                y: self.buffer(c * spatial, &format!("layer{i}.noise_y"))?,
                dx: self.buffer(c * spatial, &format!("layer{i}.noise_dx"))?,
                active: false,
            });
            self.layers.push(layer);
        }
        Ok(())
    }

    fn activation(&mut self) -> Result<(), NormlabError> {
        let features = self.per_sample();
        let i = self.layers.len();
        let layer = Layer::Activation(ActivationLayer {
            kind: self.config.activation,
            features,
            x: None,
            y: self.buffer(features, &format!("layer{i}.y"))?,
            dx: self.buffer(features, &format!("layer{i}.dx"))?,
        });
        self.layers.push(layer);
        Ok(())
    }

    /// Normalization and activation in the configured order.
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

    fn max_pool2(&mut self) -> Result<(), NormlabError> {
        let (c, h, w) = self.shape;
        let shape = PoolShape {
            kind: PoolKind::Max,
            batch: self.max_batch,
            channels: c,
            height: h,
            width: w,
            kernel: 2,
            stride: 2,
        };
        let (oh, ow) = (shape.out_height(), shape.out_width());
        let i = self.layers.len();
        let layer = Layer::Pool(Pool {
            shape,
            y: self.buffer(c * oh * ow, &format!("layer{i}.y"))?,
            argmax: self.buffer(c * oh * ow, &format!("layer{i}.argmax"))?,
            dx: self.buffer(c * h * w, &format!("layer{i}.dx"))?,
        });
        self.layers.push(layer);
        self.shape = (c, oh, ow);
        Ok(())
    }

    fn dropout(&mut self) -> Result<(), NormlabError> {
        let p = self.config.dropout;
        if p <= 0.0 {
            return Ok(());
        }
        let features = self.per_sample();
        let i = self.layers.len();
        let stream = self.rng.next_u32();
        let layer = Layer::Dropout(Dropout {
            p,
            features,
            stream,
            mask: self.buffer(features, &format!("layer{i}.mask"))?,
            y: self.buffer(features, &format!("layer{i}.y"))?,
            dx: self.buffer(features, &format!("layer{i}.dx"))?,
            active: false,
        });
        self.layers.push(layer);
        Ok(())
    }
}

impl Model {
    /// Allocates every buffer for batches of up to `max_batch` samples and initialises the
    /// parameters from `rng`, exactly as the same seed would on any backend.
    pub fn build<B: Backend>(
        backend: &mut B,
        config: &ModelConfig,
        max_batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NormlabError> {
        if !(0.0..1.0).contains(&config.dropout) {
            let p = config.dropout;
            return Err(NormlabError::InvalidConfig(words!(
                "dropout {p} must be in [0, 1)",
                "dropout 概率 {p} 必须在 [0, 1) 之内"
            )));
        }
        let mut b = Builder { backend, rng, config, max_batch, shape: config.input, layers: Vec::new() };
        if !(config.init_scale.is_finite() && config.init_scale > 0.0) {
            let scale = config.init_scale;
            return Err(NormlabError::InvalidConfig(words!(
                "the initialisation scale {scale} must be positive",
                "初始化倍数 {scale} 必须为正数"
            )));
        }
        let hidden = match &config.architecture {
            Architecture::Mlp { hidden } => hidden.clone(),
            Architecture::CharMlp { embed, hidden } => {
                b.embedding(config.classes, *embed)?;
                hidden.clone()
            }
            Architecture::Cnn { channels, hidden } => {
                for (block, &c) in channels.iter().enumerate() {
                    b.conv3x3(c)?;
                    b.norm_and_activation(config.norm_of_block(block))?;
                    b.max_pool2()?;
                }
                b.layers.push(Layer::Flatten);
                hidden.clone()
            }
        };
        let first_linear_block = config.architecture.blocks() - hidden.len();
        for (i, &width) in hidden.iter().enumerate() {
            b.linear(width, config.bias)?;
            b.norm_and_activation(config.norm_of_block(first_linear_block + i))?;
            b.dropout()?;
        }
        b.linear(config.classes, true)?;
        let layers = b.layers;
        let dlogits = backend.alloc(max_batch * config.classes, "dlogits")?;
        Ok(Model { layers, config: config.clone(), classes: config.classes, max_batch, dlogits })
    }

    /// An MLP (see [`MlpConfig`]).
    pub fn mlp<B: Backend>(
        backend: &mut B,
        config: &MlpConfig,
        max_batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NormlabError> {
        Self::build(backend, &ModelConfig::from(config), max_batch, rng)
    }

    /// Every learnable parameter, in layer order (weight, bias; γ, β), as PyTorch's
    /// `named_parameters()` lists them.
    pub fn params(&self) -> Vec<Param> {
        let mut out = Vec::new();
        for layer in &self.layers {
            match layer {
                Layer::Embedding(e) => out.push(e.table),
                Layer::Linear(Linear { weight, bias, .. }) | Layer::Conv(Conv { weight, bias, .. }) => {
                    out.push(*weight);
                    out.extend(*bias);
                }
                Layer::Norm(n) if n.affine => {
                    out.push(n.gamma);
                    out.push(n.beta);
                }
                _ => {}
            }
        }
        out
    }

    /// Where each weight (embedding table, linear or conv weight) stands in [`Model::params`].
    pub fn weight_param_indices(&self) -> Vec<usize> {
        let mut indices = Vec::new();
        let mut next = 0;
        for layer in &self.layers {
            match layer {
                Layer::Embedding(_) => {
                    indices.push(next);
                    next += 1;
                }
                Layer::Linear(Linear { bias, .. }) | Layer::Conv(Conv { bias, .. }) => {
                    indices.push(next);
                    next += 1 + bias.is_some() as usize;
                }
                Layer::Norm(n) if n.affine => next += 2,
                _ => {}
            }
        }
        indices
    }

    /// The tensors a probe may read after a training step (see `experiment::ProbeSpec`),
    /// each list in layer order.
    pub fn probe_points(&self) -> ProbePoints {
        let mut points = ProbePoints::default();
        for layer in &self.layers {
            match layer {
                Layer::Activation(a) => points.activations.push((a.y, a.features)),
                Layer::Embedding(e) => points.weight_grads.push((e.table.grad, e.table.len)),
                Layer::Linear(Linear { weight, bias, .. }) | Layer::Conv(Conv { weight, bias, .. }) => {
                    points.weight_grads.push((weight.grad, weight.len));
                    points.bias_grads.push(bias.map(|b| (b.grad, b.len)));
                }
                Layer::Norm(n) => points.norms.push(NormProbePoint {
                    channels: n.channels,
                    spatial: n.spatial,
                    y: n.y,
                    mean: n.mean,
                    rstd: n.rstd,
                    eps: n.kind.eps(),
                    running: n.running,
                    per_channel_stats: n.kind.has_running_stats(),
                }),
                _ => {}
            }
        }
        points
    }

    /// Checks a training batch size against every normalization before anything runs
    /// (BatchNorm cannot estimate a variance from one value per channel).
    pub fn check_batch(&self, batch: usize, phase: Phase) -> Result<(), NormlabError> {
        for layer in &self.layers {
            if let Layer::Norm(n) = layer {
                n.kind.geometry(batch, n.channels, n.spatial, phase != Phase::Eval)?;
            }
        }
        Ok(())
    }

    /// Records the forward pass of `batch` samples of `x`; returns the logits tensor.
    pub fn forward<B: Backend>(
        &mut self,
        backend: &mut B,
        x: TensorId,
        batch: usize,
        phase: Phase,
    ) -> Result<TensorId, NormlabError> {
        assert!(batch <= self.max_batch, "batch larger than the buffers were made for");
        let training = phase == Phase::Train;
        let batch_stats = phase != Phase::Eval;
        let mut h = x;
        for layer in &mut self.layers {
            h = match layer {
                Layer::Embedding(e) => {
                    let rows = batch * e.context;
                    backend.gather_rows(e.identity, h, e.onehot, rows, e.vocab);
                    let shape = MatmulShape { m: rows, k: e.vocab, n: e.dim, trans_a: false, trans_b: false };
                    backend.matmul(e.onehot, e.table.value, e.y, shape);
                    e.y
                }
                Layer::Linear(l) => {
                    l.x = Some(h);
                    let shape = MatmulShape { m: batch, k: l.inputs, n: l.outputs, trans_a: false, trans_b: true };
                    backend.matmul(h, l.weight.value, l.y, shape);
                    if let Some(b) = &l.bias {
                        backend.bias_add(l.y, b.value, (batch, l.outputs, 1));
                    }
                    l.y
                }
                Layer::Conv(c) => {
                    c.x = Some(h);
                    let shape = ConvShape { batch, ..c.shape };
                    backend.conv2d_forward(h, c.weight.value, c.y, shape);
                    if let Some(b) = &c.bias {
                        backend.bias_add(
                            c.y,
                            b.value,
                            (batch, shape.out_channels, shape.out_height() * shape.out_width()),
                        );
                    }
                    c.y
                }
                Layer::Norm(n) => {
                    let geometry =
                        n.kind.geometry(batch, n.channels, n.spatial, batch_stats)?.expect("a Norm layer has a kind");
                    let mode = if batch_stats { NormMode::Train { momentum: n.momentum } } else { NormMode::Eval };
                    let mut tensors = n.tensors(h);
                    if phase == Phase::BatchStats {
                        // Batch statistics, running estimates untouched.
                        tensors.running = None;
                    }
                    backend.norm_forward(&geometry, mode, &tensors);
                    n.last = Some((h, geometry, mode));
                    n.y
                }
                Layer::Activation(a) => {
                    a.x = Some(h);
                    backend.activation_forward(a.kind, h, a.y, batch * a.features);
                    a.y
                }
                Layer::Pool(p) => {
                    backend.pool_forward(h, p.y, p.argmax, PoolShape { batch, ..p.shape });
                    p.y
                }
                Layer::Flatten => h,
                Layer::Dropout(d) => {
                    d.active = training;
                    if training {
                        backend.dropout_forward(h, d.y, d.mask, batch * d.features, d.p, d.stream);
                        d.y
                    } else {
                        h
                    }
                }
                Layer::Noise(n) => {
                    n.active = training;
                    if training {
                        backend.channel_noise_forward(
                            h,
                            n.y,
                            n.noise,
                            (batch, n.channels, n.spatial),
                            n.strength,
                            n.stream,
                        );
                        n.y
                    } else {
                        h
                    }
                }
            };
        }
        Ok(h)
    }

    /// Records the backward pass from `self.dlogits`, filling every parameter's gradient.
    pub fn backward<B: Backend>(&mut self, backend: &mut B, batch: usize) {
        let mut dy = self.dlogits;
        for layer in self.layers.iter_mut().rev() {
            match layer {
                Layer::Embedding(e) => {
                    // dtable[vocab, dim] = onehotᵀ[vocab, N·context] · dy[N·context, dim]
                    let rows = batch * e.context;
                    let shape = MatmulShape { m: e.vocab, k: rows, n: e.dim, trans_a: true, trans_b: false };
                    backend.matmul(e.onehot, dy, e.table.grad, shape);
                }
                Layer::Linear(l) => {
                    let x = l.x.expect("forward before backward");
                    // dW[out, in] = dyᵀ[out, N] · x[N, in]
                    let dw = MatmulShape { m: l.outputs, k: batch, n: l.inputs, trans_a: true, trans_b: false };
                    backend.matmul(dy, x, l.weight.grad, dw);
                    if let Some(b) = &l.bias {
                        backend.bias_grad(dy, b.grad, (batch, l.outputs, 1));
                    }
                    if let Some(dx) = l.dx {
                        // dx[N, in] = dy[N, out] · W[out, in]
                        let shape = MatmulShape { m: batch, k: l.outputs, n: l.inputs, trans_a: false, trans_b: false };
                        backend.matmul(dy, l.weight.value, dx, shape);
                        dy = dx;
                    }
                }
                Layer::Conv(c) => {
                    let x = c.x.expect("forward before backward");
                    let shape = ConvShape { batch, ..c.shape };
                    backend.conv2d_backward_weight(dy, x, c.weight.grad, shape);
                    if let Some(b) = &c.bias {
                        backend.bias_grad(
                            dy,
                            b.grad,
                            (batch, shape.out_channels, shape.out_height() * shape.out_width()),
                        );
                    }
                    if let Some(dx) = c.dx {
                        backend.conv2d_backward_input(dy, c.weight.value, dx, shape);
                        dy = dx;
                    }
                }
                Layer::Norm(n) => {
                    let (x, geometry, mode) = n.last.expect("forward before backward");
                    let grads =
                        NormGrads { dy, dx: n.dx, dgamma: n.gamma.grad, dbeta: n.beta.grad, stat_grad: n.stat_grad };
                    backend.norm_backward(&geometry, mode, &n.tensors(x), &grads);
                    dy = n.dx;
                }
                Layer::Activation(a) => {
                    let x = a.x.expect("forward before backward");
                    backend.activation_backward(a.kind, x, a.y, dy, a.dx, batch * a.features);
                    dy = a.dx;
                }
                Layer::Pool(p) => {
                    backend.pool_backward(dy, p.argmax, p.dx, PoolShape { batch, ..p.shape });
                    dy = p.dx;
                }
                Layer::Flatten => {}
                Layer::Dropout(d) => {
                    if d.active {
                        backend.dropout_backward(dy, d.mask, d.dx, batch * d.features);
                        dy = d.dx;
                    }
                }
                Layer::Noise(n) => {
                    if n.active {
                        backend.channel_noise_backward(dy, n.noise, n.dx, (batch, n.channels, n.spatial));
                        dy = n.dx;
                    }
                }
            }
        }
    }

    /// Records one optimizer update of every parameter.
    pub fn update<B: Backend>(&self, backend: &mut B, optimizer: &Optimizer) {
        for p in self.params() {
            match *optimizer {
                Optimizer::Sgd { momentum, weight_decay } => {
                    backend.sgd_step(p.value, p.grad, p.state1, p.len, SgdHyper { momentum, weight_decay })
                }
                Optimizer::Adam { beta1, beta2, eps, weight_decay } => backend.adam_step(
                    p.value,
                    p.grad,
                    p.state1,
                    p.state2,
                    p.len,
                    AdamHyper { beta1, beta2, eps, weight_decay },
                ),
            }
        }
    }
}

impl Norm {
    fn tensors(&self, x: TensorId) -> NormTensors {
        NormTensors {
            x,
            y: self.y,
            gamma: self.gamma.value,
            beta: self.beta.value,
            mean: self.mean,
            rstd: self.rstd,
            running: self.running,
        }
    }
}
