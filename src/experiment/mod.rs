//! Running an experiment: the small API the page, the native runner and the tests drive.
//!
//! ```text
//! let mut run = Run::new(backend, &config, &dataset)?;
//! run.train(&mut observer).await?;   // events: batch losses, epoch summaries, divergence
//! ```
//!
//! One training step records gather → forward → loss → backward → update and submits it
//! as one unit. Losses are read back a chunk of steps at a time, asynchronously, and the
//! read of one chunk overlaps the recording of the next, so the GPU never waits on the
//! page and the page never blocks on the GPU.

pub mod benchmark;
pub mod config;
pub mod demos;
pub mod pace;
pub mod presets;
pub mod stats;
pub mod verdict;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use config::ExperimentConfig;
pub use stats::Histogram;

use crate::backend::{Backend, ReadFuture, StepScalars, TensorId, METRICS_PER_SLOT};
use crate::data::{epoch_order, Dataset, Split};
use crate::error::NormlabError;
use crate::nn::{Architecture, Model, Phase, ProbePoints};
use crate::platform;
use crate::words;

/// Training steps the benchmark records per read-back (the run loop sizes its chunks by
/// time, up to [`MAX_CHUNK_STEPS`]).
const STEPS_PER_CHUNK: usize = 8;
/// Rows per forward pass when measuring test accuracy.
const EVAL_BATCH: usize = 500;

/// What a run reports while it trains.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Losses of consecutive training batches, starting at global batch `first_step`, with
    /// each step's global gradient norm before and after clipping.
    Losses {
        epoch: usize,
        first_step: usize,
        losses: Vec<f32>,
        grad_norms: Vec<(f32, f32)>,
        steps_per_epoch: usize,
    },
    Epoch(EpochSummary),
    /// The first batch whose loss was NaN or infinite (both counted from 1).
    Diverged {
        epoch: usize,
        batch: usize,
        step: usize,
    },
    /// Measurements inside the network (see [`ProbeSpec`]).
    Probe(ProbeReport),
    /// The epoch's training steps are done; its evaluation on the test split begins.
    Evaluating {
        epoch: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct EpochSummary {
    /// Counted from 1.
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
    /// Mean global gradient norm of the epoch's steps, before and after clipping.
    pub grad_norm: f32,
    pub grad_norm_clipped: f32,
    pub elapsed_secs: f64,
    /// The training split's accuracy in eval mode, when the run's probes ask for it.
    #[serde(default)]
    pub train_eval_accuracy: Option<f32>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// `not_learning`: both final numbers at chance, the other way to fail (decided by
    /// [`verdict::not_learning`]).
    Finished {
        final_test_accuracy: f32,
        not_learning: bool,
    },
    Diverged {
        epoch: usize,
        batch: usize,
    },
    /// Stopped by the student after `batch` batches of epoch `epoch` (both from 1; 0 when
    /// nothing had finished), the finished part kept.
    Stopped {
        #[serde(default)]
        epoch: usize,
        #[serde(default)]
        batch: usize,
    },
}

impl Outcome {
    /// Whether training failed: diverged, or finished without learning.
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Diverged { .. } | Outcome::Finished { not_learning: true, .. })
    }
}

/// What a run measures inside the network every `every_steps` training steps (rounded up
/// to the 8-step chunks in which losses are read back), for the lessons that look inside.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProbeSpec {
    pub every_steps: usize,
    /// Histograms of each activation layer's output over the last training batch:
    /// `(low, high, bins)`; values outside fall in the end bins.
    pub activation_histogram: Option<(f32, f32, usize)>,
    /// The L2 norm of every weight and bias gradient of the last step.
    pub grad_norms: bool,
    /// Batch and running statistics of the first this-many units of each normalization.
    pub norm_units: usize,
    /// Evaluate the test split in eval mode and with batch statistics (see [`Phase`]).
    pub evaluate: bool,
    /// Santurkar et al.'s measurements along the gradient (see [`Landscape`]), at these
    /// multiples of the learning rate.
    pub landscape: Option<Vec<f32>>,
    /// Their internal-covariate-shift measurement of every weight layer (see [`Shift`]).
    pub covariate_shift: bool,
    /// At the end of every epoch, also measure the training split's accuracy in eval mode
    /// (the training accuracy the generalization gap compares with), reported in
    /// [`EpochSummary::train_eval_accuracy`].
    pub train_accuracy_in_eval: bool,
}

/// One probe's measurements, each list in layer order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeReport {
    /// Training steps done when it was taken.
    pub step: usize,
    pub activations: Vec<ActivationStats>,
    pub weight_grad_norms: Vec<f32>,
    /// None for a layer without bias.
    pub bias_grad_norms: Vec<Option<f32>>,
    pub norms: Vec<NormUnitStats>,
    pub evaluation: Option<Evaluation>,
    pub landscape: Option<Landscape>,
    /// One entry per weight layer, in order.
    pub covariate_shift: Vec<Shift>,
}

/// How the loss and its gradient change along the gradient direction from the current
/// parameters w, on the batch of the last step (Santurkar, Tsipras, Ilyas & Madry 2018,
/// §3.1): the loss and gradient at w − η·g for each step η tried, g = ∇L(w).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Landscape {
    /// The smallest and largest loss over the steps tried ("loss landscape").
    pub loss_min: f32,
    pub loss_max: f32,
    /// max ‖∇L(w) − ∇L(w − η·g)‖ ("gradient predictiveness": small is predictive).
    pub gradient_change: f32,
    /// max ‖∇L(w) − ∇L(w − η·g)‖ / ‖η·g‖ ("effective β-smoothness").
    pub beta_smoothness: f32,
}

/// Internal covariate shift as Santurkar et al. (2018, §2.2) measure it for one weight
/// layer: its gradient G at the current parameters against its gradient G′ after every
/// earlier layer has taken its gradient step, on the same batch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Shift {
    /// ‖G − G′‖.
    pub l2_distance: f32,
    /// cos(G, G′): 1 means the earlier layers' update left the layer's gradient alone.
    pub cosine: f32,
}

/// One activation layer's output over a batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActivationStats {
    pub histogram: Histogram,
    pub mean: f32,
    pub std: f32,
    /// The share of values with |a| > 0.99 (a saturated tanh).
    pub saturated: f32,
}

/// The first units of one normalization layer: the statistics of the last training batch
/// (variance biased, as used to normalize) and, for BatchNorm, the running estimates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NormUnitStats {
    pub batch_mean: Vec<f32>,
    pub batch_var: Vec<f32>,
    pub running_mean: Option<Vec<f32>>,
    pub running_var: Option<Vec<f32>>,
}

/// The test split's loss and accuracy in eval mode and with batch statistics.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub eval_loss: f32,
    pub eval_accuracy: f32,
    pub batch_stats_loss: f32,
    pub batch_stats_accuracy: f32,
}

/// Receives a run's events and may ask it to stop (checked between chunks of steps).
pub trait Observer {
    fn on_event(&mut self, event: &Event);
    fn should_stop(&self) -> bool {
        false
    }
}

/// A dataset split uploaded to the device.
struct DeviceSplit {
    images: TensorId,
    labels: TensorId,
    len: usize,
}

impl DeviceSplit {
    fn upload<B: Backend>(backend: &mut B, split: &Split, name: &str) -> Result<Self, NormlabError> {
        let images = backend.alloc(split.images.len(), &format!("{name} images"))?;
        backend.upload(images, &split.images);
        let labels = backend.alloc(split.labels.len(), &format!("{name} labels"))?;
        backend.upload(labels, &split.labels);
        Ok(DeviceSplit { images, labels, len: split.len })
    }
}

/// The first `n` rows of a fixed shuffle of `split`: the same subset whatever the run's seed.
fn subset(split: &Split, n: usize) -> Split {
    let features = split.images.len() / split.len.max(1);
    let mut order: Vec<usize> = (0..split.len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(0x5EED));
    order.truncate(n);
    Split {
        images: order.iter().flat_map(|&r| split.images[r * features..(r + 1) * features].iter().copied()).collect(),
        labels: order.iter().map(|&r| split.labels[r]).collect(),
        len: order.len(),
    }
}

/// Reads issued for a probe, resolved when the chunk they follow is read.
struct PendingProbe {
    step: usize,
    batch: usize,
    activations: Vec<(ReadFuture, usize)>,
    weight_grads: Vec<ReadFuture>,
    bias_grads: Vec<Option<ReadFuture>>,
    norms: Vec<PendingNormReads>,
    evaluation: Option<Evaluation>,
    landscape: Option<Landscape>,
    covariate_shift: Vec<Shift>,
}

/// The reads of one normalization layer's statistics, with what is needed to read them.
struct PendingNormReads {
    mean: ReadFuture,
    rstd: ReadFuture,
    running: Option<(ReadFuture, ReadFuture)>,
    point: crate::nn::NormProbePoint,
}

/// One experiment on one backend: the model, the data on the device, and its progress.
pub struct Run<B: Backend> {
    pub backend: B,
    pub config: ExperimentConfig,
    pub model: Model,
    train: DeviceSplit,
    test: DeviceSplit,
    features: usize,
    classes: usize,
    /// Row indices of the current batch (f32), and the gathered inputs and labels.
    batch_indices: TensorId,
    batch_x: TensorId,
    batch_y: TensorId,
    /// METRICS_PER_SLOT floats per step: loss, correct count, gradient norms.
    metrics: TensorId,
    metrics_len: usize,
    steps_taken: usize,
    probes: Option<ProbeSpec>,
}

impl<B: Backend> Run<B> {
    /// Validates the settings, uploads the data and builds the model with weights drawn
    /// from the seed (identical on every backend).
    pub fn new(mut backend: B, config: &ExperimentConfig, dataset: &Dataset) -> Result<Self, NormlabError> {
        let subset_train;
        let train_split = match config.train_subset {
            Some(n) if n < dataset.train.len => {
                subset_train = subset(&dataset.train, n);
                &subset_train
            }
            _ => &dataset.train,
        };
        if config.batch_size == 0 || config.batch_size > train_split.len {
            let (batch, examples) = (config.batch_size, train_split.len);
            return Err(NormlabError::InvalidConfig(words!(
                "a batch of {batch} does not fit a training set of {examples} examples",
                "批大小 {batch} 放不进只有 {examples} 个样本的训练集"
            )));
        }
        if !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
            let lr = config.learning_rate;
            return Err(NormlabError::InvalidConfig(words!(
                "learning rate {lr} must be positive",
                "学习率 {lr} 必须为正数"
            )));
        }
        match (config.architecture.takes_tokens(), dataset.vocab) {
            (true, None) => {
                return Err(NormlabError::InvalidConfig(words!(
                    "the character-level model needs a text data set (first names), not images",
                    "字符级模型需要文本数据集（名字），不能用图像"
                )))
            }
            (false, Some(_)) => {
                return Err(NormlabError::InvalidConfig(words!(
                    "the first-names data set needs the character-level model (arch=char)",
                    "名字数据集需要字符级模型（arch=char）"
                )))
            }
            _ => {}
        }
        let test_split = match config.test_subset {
            Some(n) if n < dataset.test.len => Split {
                images: dataset.test.images[..n * dataset.features()].to_vec(),
                labels: dataset.test.labels[..n].to_vec(),
                len: n,
            },
            _ => dataset.test.clone(),
        };
        if let Architecture::Cnn { channels, .. } = &config.architecture {
            // Each conv block halves the image with its 2×2 pooling.
            let smallest = 1usize << channels.len();
            if dataset.height < smallest || dataset.width < smallest {
                let (pools, title, height, width) =
                    (channels.len(), config.dataset.title(), dataset.height, dataset.width);
                return Err(NormlabError::InvalidConfig(words!(
                    "the CNN's {pools} pooling steps need images of at least {smallest}×{smallest}; {title} has {height}×{width} inputs (use the MLP)",
                    "CNN 的 {pools} 次池化需要至少 {smallest}×{smallest} 的图像，而 {title} 的输入是 {height}×{width}（请改用 MLP）"
                )));
            }
        }
        let features = dataset.features();
        let classes = dataset.classes;
        // Evaluation runs in chunks of EVAL_BATCH over the test split and, for probes that
        // measure training accuracy in eval mode, over the training split too.
        let max_batch = config.batch_size.max(EVAL_BATCH.min(test_split.len.max(train_split.len)));
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let input = (dataset.channels, dataset.height, dataset.width);
        let model = Model::build(&mut backend, &config.model(input, classes), max_batch, &mut rng)?;
        // Training needs batch statistics from every batch it will see.
        model.check_batch(config.batch_size, Phase::Train)?;
        let train = DeviceSplit::upload(&mut backend, train_split, "train")?;
        let test = DeviceSplit::upload(&mut backend, &test_split, "test")?;
        let batch_indices = backend.alloc(max_batch, "batch indices")?;
        let batch_x = backend.alloc(max_batch * features, "batch x")?;
        let batch_y = backend.alloc(max_batch, "batch labels")?;
        // Enough slots for a chunk of steps and for evaluating either split in one go.
        let slots = MAX_CHUNK_STEPS.max(test_split.len.div_ceil(EVAL_BATCH)).max(train_split.len.div_ceil(EVAL_BATCH));
        let metrics_len = METRICS_PER_SLOT * slots;
        let metrics = backend.alloc(metrics_len, "metrics")?;
        Ok(Run {
            backend,
            config: config.clone(),
            model,
            train,
            test,
            features,
            classes,
            batch_indices,
            batch_x,
            batch_y,
            metrics,
            metrics_len,
            steps_taken: 0,
            probes: None,
        })
    }

    /// Measure inside the network while training (see [`ProbeSpec`]); reported as
    /// [`Event::Probe`].
    pub fn set_probes(&mut self, spec: ProbeSpec) {
        self.probes = Some(spec);
    }

    /// Batches per epoch (see [`ExperimentConfig::steps_per_epoch`]).
    pub fn steps_per_epoch(&self) -> usize {
        self.config.steps_per_epoch(self.train.len)
    }

    /// Steps in the whole run.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.config.epochs
    }

    /// Records and submits one training step on the given rows; its mean loss and correct
    /// count land in metrics slot `slot`.
    pub fn record_train_step(&mut self, rows: &[u32], slot: usize) -> Result<(), NormlabError> {
        let batch = rows.len();
        let indices: Vec<f32> = rows.iter().map(|&r| r as f32).collect();
        let learning_rate = self.config.learning_rate_at(self.steps_taken, self.total_steps());
        self.steps_taken += 1;
        self.backend.begin_step(StepScalars { learning_rate, step: self.steps_taken as u32 });
        self.backend.upload(self.batch_indices, &indices);
        self.backend.gather_rows(self.train.images, self.batch_indices, self.batch_x, batch, self.features);
        self.backend.gather_rows(self.train.labels, self.batch_indices, self.batch_y, batch, 1);
        let logits = self.model.forward(&mut self.backend, self.batch_x, batch, Phase::Train)?;
        self.backend.cross_entropy(
            logits,
            self.batch_y,
            Some(self.model.dlogits),
            self.metrics,
            slot,
            batch,
            self.classes,
        );
        self.model.backward(&mut self.backend, batch);
        let grads: Vec<(TensorId, usize)> = self.model.params().iter().map(|p| (p.grad, p.len)).collect();
        self.backend.clip_gradients(&grads, self.config.clip, self.metrics, slot);
        self.model.update(&mut self.backend, &self.config.optimizer);
        self.backend.submit();
        Ok(())
    }

    /// Waits for all recorded work and returns the metrics tensor (benchmarks use this to
    /// include the device's time).
    pub async fn read_metrics(&mut self) -> Result<Vec<f32>, NormlabError> {
        self.backend.read_later(self.metrics).await
    }

    /// Test-set loss and accuracy in eval mode (BatchNorm uses its running statistics).
    pub async fn evaluate(&mut self) -> Result<(f32, f32), NormlabError> {
        self.evaluate_in(Phase::Eval).await
    }

    /// Test-set loss and accuracy with the normalizations in `phase`: `Eval` (running
    /// statistics) or `BatchStats` (the statistics of each 500-row evaluation batch).
    pub async fn evaluate_in(&mut self, phase: Phase) -> Result<(f32, f32), NormlabError> {
        self.evaluate_split(false, phase, &|| false).await
    }

    /// Loss and accuracy of the training split (`train`) or the test split.
    async fn evaluate_split(
        &mut self,
        train: bool,
        phase: Phase,
        stop: &dyn Fn() -> bool,
    ) -> Result<(f32, f32), NormlabError> {
        assert!(phase != Phase::Train, "evaluation never trains");
        let split = if train { &self.train } else { &self.test };
        let (images, labels, len) = (split.images, split.labels, split.len);
        let batches = len.div_ceil(EVAL_BATCH);
        if METRICS_PER_SLOT * batches > self.metrics_len {
            return Err(NormlabError::InvalidConfig(words!(
                "{len} examples are more than one evaluation can measure at once",
                "{len} 个样本超过了一次评估能测量的数量"
            )));
        }
        for b in 0..batches {
            let start = b * EVAL_BATCH;
            let rows = EVAL_BATCH.min(len - start);
            let indices: Vec<f32> = (start..start + rows).map(|r| r as f32).collect();
            self.backend.upload(self.batch_indices, &indices);
            self.backend.gather_rows(images, self.batch_indices, self.batch_x, rows, self.features);
            self.backend.gather_rows(labels, self.batch_indices, self.batch_y, rows, 1);
            let logits = self.model.forward(&mut self.backend, self.batch_x, rows, phase)?;
            self.backend.cross_entropy(logits, self.batch_y, None, self.metrics, b, rows, self.classes);
        }
        self.backend.submit();
        let read = self.backend.read_later(self.metrics);
        let metrics = settle(read, stop).await?;
        let mut loss_sum = 0.0f64;
        let mut correct = 0.0f64;
        for b in 0..batches {
            let rows = EVAL_BATCH.min(len - b * EVAL_BATCH);
            loss_sum += metrics[METRICS_PER_SLOT * b] as f64 * rows as f64;
            correct += metrics[METRICS_PER_SLOT * b + 1] as f64;
        }
        Ok(((loss_sum / len as f64) as f32, (correct / len as f64) as f32))
    }

    /// The logits `[rows, classes]` of the model in eval mode for `rows` inputs given as
    /// rows of `features` values (pixels, or token ids for the character model).
    pub async fn predict(&mut self, inputs: &[f32], rows: usize) -> Result<Vec<f32>, NormlabError> {
        if rows == 0 || rows > self.model.max_batch || inputs.len() != rows * self.features {
            let (features, numbers, most) = (self.features, inputs.len(), self.model.max_batch);
            return Err(NormlabError::InvalidConfig(words!(
                "cannot predict {rows} rows of {features} values from {numbers} numbers (at most {most} rows)",
                "无法用 {numbers} 个数预测 {rows} 行、每行 {features} 个值（最多 {most} 行）"
            )));
        }
        self.backend.upload(self.batch_x, inputs);
        let logits = self.model.forward(&mut self.backend, self.batch_x, rows, Phase::Eval)?;
        self.backend.submit();
        let all = self.backend.read_later(logits).await?;
        Ok(all[..rows * self.classes].to_vec())
    }

    /// Every parameter's current values, in [`Model::params`] order.
    async fn read_params(&mut self, stop: &dyn Fn() -> bool) -> Result<Vec<Vec<f32>>, NormlabError> {
        let reads: Vec<ReadFuture> = self.model.params().iter().map(|p| self.backend.read_later(p.value)).collect();
        let mut values = Vec::new();
        for read in reads {
            values.push(settle(read, stop).await?);
        }
        Ok(values)
    }

    /// The loss on `rows` of the training split and every parameter's gradient, without
    /// updating anything: normalizations use the batch's statistics but leave their running
    /// estimates alone, and dropout is off (see [`Phase::BatchStats`]).
    async fn loss_and_gradients(
        &mut self,
        rows: &[u32],
        stop: &dyn Fn() -> bool,
    ) -> Result<(f32, Vec<Vec<f32>>), NormlabError> {
        let batch = rows.len();
        let indices: Vec<f32> = rows.iter().map(|&r| r as f32).collect();
        self.backend.upload(self.batch_indices, &indices);
        self.backend.gather_rows(self.train.images, self.batch_indices, self.batch_x, batch, self.features);
        self.backend.gather_rows(self.train.labels, self.batch_indices, self.batch_y, batch, 1);
        let logits = self.model.forward(&mut self.backend, self.batch_x, batch, Phase::BatchStats)?;
        let dlogits = self.model.dlogits;
        self.backend.cross_entropy(logits, self.batch_y, Some(dlogits), self.metrics, 0, batch, self.classes);
        self.model.backward(&mut self.backend, batch);
        self.backend.submit();
        let loss = self.backend.read_later(self.metrics);
        let reads: Vec<ReadFuture> = self.model.params().iter().map(|p| self.backend.read_later(p.grad)).collect();
        let loss = settle(loss, stop).await?[0];
        let mut grads = Vec::new();
        for read in reads {
            grads.push(settle(read, stop).await?);
        }
        Ok((loss, grads))
    }

    /// Sets every parameter to `values − eta·direction` for the parameters `which` (all
    /// others to `values`).
    fn displace(&mut self, values: &[Vec<f32>], direction: &[Vec<f32>], eta: f32, which: impl Fn(usize) -> bool) {
        for (i, p) in self.model.params().iter().enumerate() {
            if which(i) {
                let moved: Vec<f32> = values[i].iter().zip(&direction[i]).map(|(w, g)| w - eta * g).collect();
                self.backend.upload(p.value, &moved);
            } else {
                self.backend.upload(p.value, &values[i]);
            }
        }
    }

    /// See [`Landscape`]. `multiples` of the current learning rate are the steps tried.
    async fn landscape(
        &mut self,
        rows: &[u32],
        multiples: &[f32],
        stop: &dyn Fn() -> bool,
    ) -> Result<Landscape, NormlabError> {
        let learning_rate = self.config.learning_rate_at(self.steps_taken, self.total_steps());
        let values = self.read_params(stop).await?;
        let (loss, gradient) = self.loss_and_gradients(rows, stop).await?;
        let gradient_norm = stats::l2_norm(&gradient.concat());
        let mut result = Landscape { loss_min: loss, loss_max: loss, gradient_change: 0.0, beta_smoothness: 0.0 };
        for &multiple in multiples {
            let eta = learning_rate * multiple;
            self.displace(&values, &gradient, eta, |_| true);
            let (moved_loss, moved_gradient) = self.loss_and_gradients(rows, stop).await?;
            let change = stats::l2_distance(&gradient.concat(), &moved_gradient.concat());
            result.loss_min = result.loss_min.min(moved_loss);
            result.loss_max = result.loss_max.max(moved_loss);
            result.gradient_change = result.gradient_change.max(change);
            if eta * gradient_norm > 0.0 {
                result.beta_smoothness = result.beta_smoothness.max(change / (eta * gradient_norm));
            }
        }
        self.displace(&values, &gradient, 0.0, |_| false);
        Ok(result)
    }

    /// See [`Shift`]: for each weight layer, its gradient before and after every parameter
    /// before it in the network takes a plain gradient step of the current learning rate.
    async fn covariate_shift(&mut self, rows: &[u32], stop: &dyn Fn() -> bool) -> Result<Vec<Shift>, NormlabError> {
        let learning_rate = self.config.learning_rate_at(self.steps_taken, self.total_steps());
        let values = self.read_params(stop).await?;
        let (_, gradient) = self.loss_and_gradients(rows, stop).await?;
        let weights = self.model.weight_param_indices();
        let mut shifts = Vec::new();
        for &w in &weights {
            self.displace(&values, &gradient, learning_rate, |i| i < w);
            let (_, moved) = self.loss_and_gradients(rows, stop).await?;
            shifts.push(Shift {
                l2_distance: stats::l2_distance(&gradient[w], &moved[w]),
                cosine: stats::cosine(&gradient[w], &moved[w]),
            });
        }
        self.displace(&values, &gradient, 0.0, |_| false);
        Ok(shifts)
    }

    /// Issues the reads of a probe after the last recorded step (and evaluates, which
    /// waits for the device). `rows` is the last step's batch.
    async fn start_probe(
        &mut self,
        spec: &ProbeSpec,
        rows: &[u32],
        stop: &dyn Fn() -> bool,
    ) -> Result<PendingProbe, NormlabError> {
        let batch = rows.len();
        let ProbePoints { activations, weight_grads, bias_grads, norms } = self.model.probe_points();
        let backend = &mut self.backend;
        let mut pending = PendingProbe {
            step: self.steps_taken,
            batch,
            activations: Vec::new(),
            weight_grads: Vec::new(),
            bias_grads: Vec::new(),
            norms: Vec::new(),
            evaluation: None,
            landscape: None,
            covariate_shift: Vec::new(),
        };
        if spec.activation_histogram.is_some() {
            pending.activations = activations.iter().map(|&(t, features)| (backend.read_later(t), features)).collect();
        }
        if spec.grad_norms {
            pending.weight_grads = weight_grads.iter().map(|&(t, _)| backend.read_later(t)).collect();
            pending.bias_grads = bias_grads.iter().map(|b| b.map(|(t, _)| backend.read_later(t))).collect();
        }
        if spec.norm_units > 0 {
            for &point in &norms {
                pending.norms.push(PendingNormReads {
                    mean: backend.read_later(point.mean),
                    rstd: backend.read_later(point.rstd),
                    running: point.running.map(|r| (backend.read_later(r.mean), backend.read_later(r.var))),
                    point,
                });
            }
        }
        if spec.evaluate {
            let (eval_loss, eval_accuracy) = self.evaluate_split(false, Phase::Eval, stop).await?;
            let (batch_stats_loss, batch_stats_accuracy) = self.evaluate_split(false, Phase::BatchStats, stop).await?;
            pending.evaluation = Some(Evaluation { eval_loss, eval_accuracy, batch_stats_loss, batch_stats_accuracy });
        }
        // These move the parameters and put them back: after every read above.
        if let Some(multiples) = &spec.landscape {
            pending.landscape = Some(self.landscape(rows, multiples, stop).await?);
        }
        if spec.covariate_shift {
            pending.covariate_shift = self.covariate_shift(rows, stop).await?;
        }
        Ok(pending)
    }

    /// Turns a probe's reads into its report.
    async fn finish_probe(spec: &ProbeSpec, pending: PendingProbe) -> Result<ProbeReport, NormlabError> {
        let mut report = ProbeReport {
            step: pending.step,
            activations: Vec::new(),
            weight_grad_norms: Vec::new(),
            bias_grad_norms: Vec::new(),
            norms: Vec::new(),
            evaluation: pending.evaluation,
            landscape: pending.landscape,
            covariate_shift: pending.covariate_shift,
        };
        if let Some((low, high, bins)) = spec.activation_histogram {
            for (read, features) in pending.activations {
                let values = read.await?;
                let values = &values[..(pending.batch * features).min(values.len())];
                report.activations.push(stats::activation_stats(values, low, high, bins));
            }
        }
        for read in pending.weight_grads {
            report.weight_grad_norms.push(stats::l2_norm(&read.await?));
        }
        for read in pending.bias_grads {
            report.bias_grad_norms.push(match read {
                Some(read) => Some(stats::l2_norm(&read.await?)),
                None => None,
            });
        }
        for PendingNormReads { mean, rstd, running, point } in pending.norms {
            // Per-sample kinds (LayerNorm, GroupNorm, …) have no per-unit statistic: their
            // first entries belong to the first sample.
            let units = spec.norm_units.min(if point.per_channel_stats { point.channels } else { usize::MAX });
            let eps = point.eps;
            let mean = mean.await?;
            let rstd = rstd.await?;
            let units = units.min(mean.len());
            let mut stats = NormUnitStats {
                batch_mean: mean[..units].to_vec(),
                batch_var: rstd[..units].iter().map(|r| (1.0 / (r * r) - eps).max(0.0)).collect(),
                running_mean: None,
                running_var: None,
            };
            if let Some((running_mean, running_var)) = running {
                stats.running_mean = Some(running_mean.await?[..units].to_vec());
                stats.running_var = Some(running_var.await?[..units].to_vec());
            }
            report.norms.push(stats);
        }
        Ok(report)
    }

    /// Trains for the configured epochs, reporting to `observer`.
    ///
    /// Steps are recorded in chunks whose length follows the measured time of a step, so
    /// that losses come back (and progress moves) a few times a second whatever a step
    /// costs: the first chunk is one step, later ones about [`TARGET_CHUNK_MILLIS`] of
    /// work. While one chunk is read back the next is recorded, unless that would queue
    /// more than [`MAX_QUEUED_MILLIS`] of work on the device. Every wait for the device
    /// gives up as soon as `observer.should_stop()` says so (checked every few tens of
    /// milliseconds in the browser), and the run ends as stopped after its last finished
    /// batch: Stop never waits for queued work.
    pub async fn train(&mut self, observer: &mut dyn Observer) -> Result<Outcome, NormlabError> {
        let mut progress = TrainProgress::default();
        match self.train_epochs(observer, &mut progress).await {
            Err(NormlabError::Stopped) => Ok(Outcome::Stopped { epoch: progress.epoch, batch: progress.batch }),
            other => other,
        }
    }

    async fn train_epochs(
        &mut self,
        observer: &mut dyn Observer,
        progress: &mut TrainProgress,
    ) -> Result<Outcome, NormlabError> {
        let start_millis = platform::now_millis();
        let steps_per_epoch = self.steps_per_epoch();
        let batch_size = self.config.batch_size;
        let probes = self.probes.clone();
        let mut last_probe_step = 0usize;
        let mut final_accuracy = 0.0;
        let mut last_train_loss = f32::NAN;
        let mut pace = ChunkPace::default();
        for epoch in 0..self.config.epochs {
            let order = epoch_order(self.train.len, self.config.seed, epoch);
            let mut loss_sum = 0.0f64;
            let mut correct = 0.0f64;
            let mut norm_sums = (0.0f64, 0.0f64);
            let mut in_flight: Option<ChunkRead> = None;
            let mut step = 0;
            pace.new_epoch();
            loop {
                // Record the next chunk, unless the one in flight holds enough queued work.
                let queue_full = in_flight.as_ref().is_some_and(|c| !pace.may_queue_behind(c.len));
                let mut this_read = None;
                if step < steps_per_epoch && !queue_full {
                    let chunk_start = step;
                    let mut chunk = pace.chunk_steps().min(steps_per_epoch - step);
                    if let Some(spec) = &probes {
                        // End the chunk where the next probe is due, so that probes fall on
                        // the same steps however the chunks are sized.
                        let due = last_probe_step.saturating_add(spec.every_steps.max(1));
                        chunk = chunk.min(due.saturating_sub(self.steps_taken).max(1));
                    }
                    for slot in 0..chunk {
                        let rows = &order[step * batch_size..(step + 1) * batch_size];
                        self.record_train_step(rows, slot)?;
                        step += 1;
                    }
                    let read = self.backend.read_later(self.metrics);
                    let probe = match &probes {
                        Some(spec) if self.steps_taken >= last_probe_step + spec.every_steps.max(1) => {
                            last_probe_step = self.steps_taken;
                            let last = &order[(step - 1) * batch_size..step * batch_size];
                            Some(self.start_probe(spec, last, &|| observer.should_stop()).await?)
                        }
                        _ => None,
                    };
                    this_read = Some(ChunkRead { read, first: chunk_start, len: chunk, probe });
                }
                let Some(ChunkRead { read, first, len, probe }) = in_flight.take() else {
                    match this_read {
                        Some(chunk) => {
                            in_flight = Some(chunk);
                            continue;
                        }
                        None => break,
                    }
                };
                let metrics = settle(read, &|| observer.should_stop()).await?;
                pace.chunk_done(len, platform::now_millis());
                let slot = |i: usize| &metrics[METRICS_PER_SLOT * i..METRICS_PER_SLOT * (i + 1)];
                let losses: Vec<f32> = (0..len).map(|i| slot(i)[0]).collect();
                let grad_norms: Vec<(f32, f32)> = (0..len).map(|i| (slot(i)[2], slot(i)[3])).collect();
                if let Some(bad) = losses.iter().position(|l| !l.is_finite()) {
                    let batch = first + bad + 1;
                    let global = epoch * steps_per_epoch + batch;
                    observer.on_event(&Event::Losses {
                        epoch: epoch + 1,
                        first_step: epoch * steps_per_epoch + first,
                        losses: losses[..=bad].to_vec(),
                        grad_norms: grad_norms[..=bad].to_vec(),
                        steps_per_epoch,
                    });
                    observer.on_event(&Event::Diverged { epoch: epoch + 1, batch, step: global });
                    return Ok(Outcome::Diverged { epoch: epoch + 1, batch });
                }
                loss_sum += losses.iter().map(|&l| l as f64).sum::<f64>();
                correct += (0..len).map(|i| slot(i)[1] as f64).sum::<f64>();
                norm_sums.0 += grad_norms.iter().map(|n| n.0 as f64).sum::<f64>();
                norm_sums.1 += grad_norms.iter().map(|n| n.1 as f64).sum::<f64>();
                observer.on_event(&Event::Losses {
                    epoch: epoch + 1,
                    first_step: epoch * steps_per_epoch + first,
                    losses,
                    grad_norms,
                    steps_per_epoch,
                });
                *progress = TrainProgress { epoch: epoch + 1, batch: first + len };
                if let Some(pending) = probe {
                    let report = Self::finish_probe(probes.as_ref().expect("a probe has a spec"), pending).await?;
                    observer.on_event(&Event::Probe(report));
                }
                if observer.should_stop() {
                    return Err(NormlabError::Stopped);
                }
                in_flight = this_read;
                platform::yield_now().await;
            }
            observer.on_event(&Event::Evaluating { epoch: epoch + 1 });
            let (test_loss, test_accuracy) =
                self.evaluate_split(false, Phase::Eval, &|| observer.should_stop()).await?;
            let train_eval_accuracy = match &probes {
                Some(spec) if spec.train_accuracy_in_eval => {
                    Some(self.evaluate_split(true, Phase::Eval, &|| observer.should_stop()).await?.1)
                }
                _ => None,
            };
            final_accuracy = test_accuracy;
            let steps = steps_per_epoch.max(1) as f64;
            last_train_loss = (loss_sum / steps) as f32;
            observer.on_event(&Event::Epoch(EpochSummary {
                epoch: epoch + 1,
                train_loss: last_train_loss,
                train_accuracy: (correct / (steps * batch_size as f64)) as f32,
                test_loss,
                test_accuracy,
                grad_norm: (norm_sums.0 / steps) as f32,
                grad_norm_clipped: (norm_sums.1 / steps) as f32,
                elapsed_secs: (platform::now_millis() - start_millis) / 1000.0,
                train_eval_accuracy,
            }));
            if !test_loss.is_finite() {
                // Training stayed finite but the model in eval mode does not: it has
                // diverged all the same, as of the epoch's last batch.
                observer.on_event(&Event::Diverged {
                    epoch: epoch + 1,
                    batch: steps_per_epoch,
                    step: (epoch + 1) * steps_per_epoch,
                });
                return Ok(Outcome::Diverged { epoch: epoch + 1, batch: steps_per_epoch });
            }
            if observer.should_stop() {
                return Err(NormlabError::Stopped);
            }
        }
        let not_learning = verdict::not_learning(self.classes, last_train_loss, final_accuracy);
        Ok(Outcome::Finished { final_test_accuracy: final_accuracy, not_learning })
    }
}

/// How far a run got: the last batch whose loss was read back (both from 1).
#[derive(Clone, Copy, Debug, Default)]
struct TrainProgress {
    epoch: usize,
    batch: usize,
}

/// A chunk of recorded steps whose metrics are being read back.
struct ChunkRead {
    read: ReadFuture,
    /// The chunk's first step within the epoch, and its length.
    first: usize,
    len: usize,
    /// The probe taken after it.
    probe: Option<PendingProbe>,
}

/// Aim for a read-back of losses about this often, so that progress moves and Stop is
/// heard whatever a step costs.
const TARGET_CHUNK_MILLIS: f64 = 250.0;
/// The most steps per chunk (the metrics tensor has a slot for each).
const MAX_CHUNK_STEPS: usize = 64;
/// Work recorded behind the chunk being read stays under this, so that what a stopped
/// run leaves on a GPU's queue ends soon and a read-back never waits long.
const MAX_QUEUED_MILLIS: f64 = 1000.0;

/// The measured time of a step, which sizes the chunks.
#[derive(Clone, Debug, Default)]
struct ChunkPace {
    /// Milliseconds per step, smoothed; None before the first chunk came back.
    step_millis: Option<f64>,
    /// When the last chunk came back (None: none yet, so its time included warming up).
    last_done: Option<f64>,
}

impl ChunkPace {
    fn chunk_steps(&self) -> usize {
        match self.step_millis {
            None => 1,
            Some(ms) => ((TARGET_CHUNK_MILLIS / ms.max(1e-3)).round() as usize).clamp(1, MAX_CHUNK_STEPS),
        }
    }

    /// Whether another chunk may be recorded while one of `in_flight` steps is still queued.
    fn may_queue_behind(&self, in_flight: usize) -> bool {
        match self.step_millis {
            // Until a step has been timed, keep one chunk at a time: it may be slow.
            None => false,
            Some(ms) => ms * (in_flight + self.chunk_steps()) as f64 <= MAX_QUEUED_MILLIS,
        }
    }

    /// A chunk of `steps` came back at `now`.
    fn chunk_done(&mut self, steps: usize, now: f64) {
        // The first chunk of a run (and of an epoch, after an evaluation) is not timed:
        // it includes compiling, first touches, or the evaluation before it.
        if let Some(previous) = self.last_done {
            let per_step = (now - previous).max(0.0) / steps.max(1) as f64;
            self.step_millis = Some(match self.step_millis {
                Some(old) => 0.7 * old + 0.3 * per_step,
                None => per_step,
            });
        }
        self.last_done = Some(now);
    }

    /// An epoch begins: the next chunk follows an evaluation, so it is not timed.
    fn new_epoch(&mut self) {
        self.last_done = None;
    }
}

/// Awaits a read-back unless the run is stopped first (see [`platform::unless_stopped`]).
async fn settle(read: ReadFuture, stop: &dyn Fn() -> bool) -> Result<Vec<f32>, NormlabError> {
    platform::unless_stopped(read, stop).await.unwrap_or(Err(NormlabError::Stopped))
}

/// The classes a trained model predicts over a `resolution × resolution` grid of 2-D
/// points spanning `extent` = (x from, x to, y from, y to), row by row from the top, with
/// the probability of each predicted class: the playground's decision-boundary view.
pub async fn decision_grid<B: Backend>(
    run: &mut Run<B>,
    extent: (f32, f32, f32, f32),
    resolution: usize,
) -> Result<Vec<(usize, f32)>, NormlabError> {
    if run.features != 2 {
        return Err(NormlabError::InvalidConfig(words!(
            "a decision boundary needs 2-D points",
            "决策边界需要二维的点"
        )));
    }
    let (x0, x1, y0, y1) = extent;
    let step = |from: f32, to: f32, i: usize| from + (to - from) * (i as f32 + 0.5) / resolution as f32;
    let points: Vec<f32> = (0..resolution)
        .flat_map(|row| (0..resolution).flat_map(move |col| [step(x0, x1, col), step(y1, y0, row)]))
        .collect();
    let mut cells = Vec::with_capacity(resolution * resolution);
    for chunk in points.chunks(2 * run.model.max_batch) {
        let rows = chunk.len() / 2;
        let logits = run.predict(chunk, rows).await?;
        for row in logits.chunks(run.classes) {
            let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|l| (l - top).exp()).sum();
            let class = row.iter().position(|&l| l == top).unwrap_or(0);
            cells.push((class, 1.0 / sum));
        }
    }
    Ok(cells)
}

/// Longest name [`sample_names`] writes before cutting it off.
const MAX_NAME_LEN: usize = 20;

/// Writes `count` new names with a trained character model (lesson 3): starting from the
/// context `...`, draw the next character from the softmax of the logits, slide the
/// context, until `.` ends the name. Eval mode, so BatchNorm uses its running statistics:
/// one name is a batch of one, which batch statistics could not normalize.
pub async fn sample_names<B: Backend>(run: &mut Run<B>, count: usize, seed: u64) -> Result<Vec<String>, NormlabError> {
    use crate::data::names::{character, CONTEXT};
    use rand::RngExt;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut contexts = vec![[0usize; CONTEXT]; count];
    let mut names = vec![String::new(); count];
    let mut finished = vec![false; count];
    for _ in 0..MAX_NAME_LEN {
        let inputs: Vec<f32> = contexts.iter().flat_map(|c| c.iter().map(|&t| t as f32)).collect();
        let logits = run.predict(&inputs, count).await?;
        let classes = logits.len() / count;
        for (r, row) in logits.chunks(classes).enumerate() {
            if finished[r] {
                continue;
            }
            let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let weights: Vec<f64> = row.iter().map(|&l| ((l - top) as f64).exp()).collect();
            let mut pick = rng.random_range(0.0..weights.iter().sum::<f64>());
            let next = weights.iter().position(|&w| {
                pick -= w;
                pick < 0.0
            });
            let next = next.unwrap_or(0);
            if next == 0 {
                finished[r] = true;
            } else {
                names[r].push(character(next));
                contexts[r].rotate_left(1);
                contexts[r][CONTEXT - 1] = next;
            }
        }
        if finished.iter().all(|&f| f) {
            break;
        }
    }
    Ok(names)
}

/// An observer that keeps every event; handy for tests and the runner.
#[derive(Default)]
pub struct Recorder {
    pub events: Vec<Event>,
}

impl Recorder {
    pub fn losses(&self) -> Vec<f32> {
        self.events
            .iter()
            .flat_map(|e| match e {
                Event::Losses { losses, .. } => losses.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    pub fn epochs(&self) -> Vec<EpochSummary> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Epoch(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Observer for Recorder {
    fn on_event(&mut self, event: &Event) {
        self.events.push(event.clone());
    }
}
