//! A sequential network: its layers, the buffers for one batch of up to `max_batch`
//! samples, and the three passes a training step records (forward, backward, update).

use rand_chacha::ChaCha8Rng;

use super::builder::Builder;
use super::config::{MlpConfig, ModelConfig, Optimizer, Phase};
use super::layers::{Layer, Norm};
use super::param::{Param, ParamArena, ParamRole};
use super::probe::ProbePoints;
use crate::backend::{AdamHyper, Backend, SgdHyper, TensorId};
use crate::error::NormlabError;
use crate::words;

pub struct Model {
    pub layers: Vec<Box<dyn Layer>>,
    pub config: ModelConfig,
    pub classes: usize,
    pub max_batch: usize,
    /// Rows the layers see per example: a sequence model's layers work on every token of
    /// every sequence (`[N·T, d]`), the others on one row per example.
    pub rows_per_example: usize,
    /// The gradient with respect to the logits, written by the loss.
    pub dlogits: TensorId,
    /// The batch's targets, one per output row (a class, or −1 for a padding token), which
    /// the run gathers and the loss reads; a sequence model's BatchNorm reads them too.
    pub targets: TensorId,
    /// Every learnable parameter, its gradient and its optimizer state.
    pub arena: ParamArena,
}

impl Model {
    /// Allocates every buffer for batches of up to `max_batch` samples and initialises the
    /// parameters from `rng`, exactly as the same seed would on any backend.
    pub fn build(
        backend: &mut dyn Backend,
        config: &ModelConfig,
        max_batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NormlabError> {
        // p = 1 drops everything, as nn.Dropout(1.0) does.
        if !(0.0..=1.0).contains(&config.choices.dropout) {
            let p = config.choices.dropout;
            return Err(NormlabError::InvalidConfig(words!(
                "dropout {p} must be in [0, 1]",
                "dropout 概率 {p} 必须在 [0, 1] 之内"
            )));
        }
        if !(config.choices.init_scale.is_finite() && config.choices.init_scale > 0.0) {
            let scale = config.choices.init_scale;
            return Err(NormlabError::InvalidConfig(words!(
                "the initialisation scale {scale} must be positive",
                "初始化倍数 {scale} 必须为正数"
            )));
        }
        let rows_per_example = config.choices.architecture.outputs_per_example();
        let max_rows = max_batch * rows_per_example;
        let lens = Builder::plan(&mut rng.clone(), config, max_rows)?;
        let (arena, offsets) = ParamArena::alloc(backend, &lens)?;
        let targets = backend.alloc(max_rows, "batch targets")?;
        let layers = Builder::new(backend, (arena, offsets), rng, config, max_rows, targets).build()?;
        let dlogits = backend.alloc(max_rows * config.classes, "dlogits")?;
        let classes = config.classes;
        Ok(Model { layers, config: config.clone(), classes, max_batch, rows_per_example, dlogits, targets, arena })
    }

    /// An MLP (see [`MlpConfig`]).
    pub fn mlp(
        backend: &mut dyn Backend,
        config: &MlpConfig,
        max_batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NormlabError> {
        Self::build(backend, &ModelConfig::from(config), max_batch, rng)
    }

    /// Every learnable parameter, in layer order (weight, bias; γ, β), as PyTorch's
    /// `named_parameters()` lists them.
    pub fn params(&self) -> Vec<Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }

    /// Where each weight (embedding table, linear or conv weight) stands in [`Model::params`].
    pub fn weight_param_indices(&self) -> Vec<usize> {
        self.params().iter().enumerate().filter(|(_, p)| p.role == ParamRole::Weight).map(|(i, _)| i).collect()
    }

    /// The normalization layers, in order.
    pub fn norms(&self) -> impl Iterator<Item = &Norm> {
        self.layers.iter().flat_map(|l| l.norms())
    }

    /// The tensors a probe may read after a training step (see `experiment::ProbeSpec`),
    /// each list in layer order.
    pub fn probe_points(&self) -> ProbePoints {
        let mut points = ProbePoints::default();
        self.layers.iter().for_each(|l| l.probe(&mut points));
        points
    }

    /// Checks a training batch size against every normalization before anything runs
    /// (BatchNorm cannot estimate a variance from one value per channel).
    pub fn check_training_batch(&self, batch: usize) -> Result<(), NormlabError> {
        self.norms().try_for_each(|n| n.check_training_batch(batch))
    }

    /// Records the forward pass of `batch` samples of `x`; returns the logits tensor
    /// (`[batch · rows_per_example, classes]`).
    pub fn forward(&mut self, backend: &mut dyn Backend, x: TensorId, batch: usize, phase: Phase) -> TensorId {
        assert!(batch <= self.max_batch, "batch larger than the buffers were made for");
        let rows = batch * self.rows_per_example;
        self.layers.iter_mut().fold(x, |h, layer| layer.forward(backend, h, rows, phase))
    }

    /// Records the backward pass from `self.dlogits`, filling every parameter's gradient.
    pub fn backward(&mut self, backend: &mut dyn Backend, batch: usize) {
        let dlogits = self.dlogits;
        let rows = batch * self.rows_per_example;
        self.layers.iter_mut().rev().fold(dlogits, |dy, layer| layer.backward(backend, dy, rows));
    }

    /// Records one optimizer update of every learnable parameter: one op over the arenas.
    pub fn update(&self, backend: &mut dyn Backend, optimizer: &Optimizer) {
        let a = self.arena;
        match *optimizer {
            Optimizer::Sgd { momentum, weight_decay } => {
                backend.sgd_step(a.values, a.grads, a.state1, a.len, SgdHyper { momentum, weight_decay })
            }
            Optimizer::Adam { beta1, beta2, eps, weight_decay } => backend.adam_step(
                a.values,
                a.grads,
                a.state1,
                a.state2,
                a.len,
                AdamHyper { beta1, beta2, eps, weight_decay },
            ),
        }
    }
}
