//! A run: the model and the data on one backend, one training step, evaluation and
//! prediction. The training loop is in `train`, the probes in `probes`.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::probes::ProbeSpec;
use super::train::MAX_CHUNK_STEPS;
use super::{ExperimentConfig, EVAL_BATCH};
use crate::backend::{Backend, ReadFuture, StepScalars, TensorId, METRICS_PER_SLOT};
use crate::data::{Dataset, Split};
use crate::error::NormlabError;
use crate::nn::{Architecture, Model, Phase};
use crate::platform;
use crate::words;

/// A dataset split uploaded to the device.
/// Which split of the data set a batch comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SplitName {
    Train,
    Test,
}

#[derive(Clone, Copy)]
pub(super) struct DeviceSplit {
    pub(super) images: TensorId,
    pub(super) labels: TensorId,
    pub(super) len: usize,
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

/// How many targets of each example the loss counts (a sequence's padding positions are
/// not counted), kept on the host to weigh each batch's mean.
fn counted_targets(split: &Split) -> Vec<u32> {
    let per_example = split.labels.len() / split.len.max(1);
    split.labels.chunks(per_example.max(1)).map(|t| t.iter().filter(|&&l| l >= 0.0).count() as u32).collect()
}

/// The first `n` rows of a fixed shuffle of `split`: the same subset whatever the run's seed.
fn subset(split: &Split, n: usize) -> Split {
    let features = split.images.len() / split.len.max(1);
    let targets = split.labels.len() / split.len.max(1);
    let mut order: Vec<usize> = (0..split.len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(0x5EED));
    order.truncate(n);
    let rows = |values: &[f32], width: usize| -> Vec<f32> {
        order.iter().flat_map(|&r| values[r * width..(r + 1) * width].iter().copied()).collect()
    };
    Split { images: rows(&split.images, features), labels: rows(&split.labels, targets), len: order.len() }
}

/// The sequences of `split` whose names have at most `letters` letters (a name of k
/// letters has k + 1 counted targets: its letters and the end token).
fn names_of_at_most(split: &Split, letters: usize) -> Split {
    let features = split.images.len() / split.len.max(1);
    let targets = split.labels.len() / split.len.max(1);
    let keep: Vec<usize> =
        counted_targets(split).iter().enumerate().filter(|(_, &c)| c as usize <= letters + 1).map(|(r, _)| r).collect();
    let rows = |values: &[f32], width: usize| -> Vec<f32> {
        keep.iter().flat_map(|&r| values[r * width..(r + 1) * width].iter().copied()).collect()
    };
    Split { images: rows(&split.images, features), labels: rows(&split.labels, targets), len: keep.len() }
}

/// One experiment on one backend: the model, the data on the device, and its progress.
pub struct Run<B: Backend> {
    pub backend: B,
    pub config: ExperimentConfig,
    pub model: Model,
    pub(super) train: DeviceSplit,
    pub(super) test: DeviceSplit,
    pub(super) features: usize,
    pub(super) classes: usize,
    /// Targets per example (one class, or one per position of a sequence), and how many of
    /// each example's the loss counts, per split.
    pub(super) targets: usize,
    pub(super) train_counted: Vec<u32>,
    pub(super) test_counted: Vec<u32>,
    /// Row indices of the current batch (f32), and the gathered inputs and labels.
    pub(super) batch_indices: TensorId,
    pub(super) batch_x: TensorId,
    pub(super) batch_y: TensorId,
    /// METRICS_PER_SLOT floats per step: loss, correct count, gradient norms.
    pub(super) metrics: TensorId,
    pub(super) metrics_len: usize,
    pub(super) steps_taken: usize,
    pub(super) probes: Option<ProbeSpec>,
}

impl<B: Backend> Run<B> {
    /// Validates the settings, uploads the data and builds the model with weights drawn
    /// from the seed (identical on every backend).
    pub fn new(mut backend: B, config: &ExperimentConfig, dataset: &Dataset) -> Result<Self, NormlabError> {
        let short_names;
        let all_train = match config.train_max_letters {
            Some(_) if dataset.targets_per_example() == 1 => {
                return Err(NormlabError::InvalidConfig(words!(
                    "letters= keeps the names up to a length: it needs whole names (data=name-sequences)",
                    "letters= 只保留一定长度以内的名字：它需要整个名字（data=name-sequences）"
                )))
            }
            Some(letters) => {
                short_names = names_of_at_most(&dataset.train, letters);
                &short_names
            }
            None => &dataset.train,
        };
        let subset_train;
        let train_split = match config.train_subset {
            Some(n) if n < all_train.len => {
                subset_train = subset(all_train, n);
                &subset_train
            }
            _ => all_train,
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
        let targets = dataset.targets_per_example();
        let outputs = config.model.architecture.outputs_per_example();
        if dataset.vocab.is_some() && config.model.architecture.takes_tokens() && targets != outputs {
            let title = config.dataset.title();
            return Err(NormlabError::InvalidConfig(if outputs > 1 {
                words!(
                    "the transformer reads whole names (data=name-sequences), not {title}",
                    "Transformer 读取整个名字（data=name-sequences），而不是 {title}"
                )
            } else {
                words!(
                    "the character-level MLP reads 3-letter contexts (data=names), not {title}",
                    "字符级 MLP 读取 3 个字母的上下文（data=names），而不是 {title}"
                )
            }));
        }
        match (config.model.architecture.takes_tokens(), dataset.vocab) {
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
                labels: dataset.test.labels[..n * targets].to_vec(),
                len: n,
            },
            _ => dataset.test.clone(),
        };
        if let Architecture::Cnn { channels, .. } = &config.model.architecture {
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
        let model = Model::build(&mut backend, &config.model_config(input, classes), max_batch, &mut rng)?;
        // Training needs batch statistics from every batch it will see.
        model.check_training_batch(config.batch_size)?;
        let train = DeviceSplit::upload(&mut backend, train_split, "train")?;
        let test = DeviceSplit::upload(&mut backend, &test_split, "test")?;
        let batch_indices = backend.alloc(max_batch, "batch indices")?;
        let batch_x = backend.alloc(max_batch * features, "batch x")?;
        // The model's own targets buffer (its sequence BatchNorm reads the padding there).
        let batch_y = model.targets;
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
            targets,
            train_counted: counted_targets(train_split),
            test_counted: counted_targets(&test_split),
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
        self.gather_batch(SplitName::Train, &indices);
        let logits = self.model.forward(&mut self.backend, self.batch_x, batch, Phase::Train);
        self.backend.cross_entropy(
            logits,
            self.batch_y,
            Some(self.model.dlogits),
            self.metrics,
            slot,
            batch * self.targets,
            self.classes,
        );
        self.model.backward(&mut self.backend, batch);
        // The whole gradient arena at once: its gaps are zero and add nothing to any norm.
        let grads = [(self.model.arena.grads, self.model.arena.len)];
        self.backend.clip_gradients(&grads, self.config.clip, self.metrics, slot);
        self.model.update(&mut self.backend, &self.config.optimizer);
        self.backend.submit();
        Ok(())
    }

    /// Makes `indices` (row numbers of the split, as f32) the batch: their inputs gathered
    /// into `batch_x` and their labels into `batch_y`, on the device.
    pub(super) fn gather_batch(&mut self, split: SplitName, indices: &[f32]) {
        let rows = indices.len();
        let DeviceSplit { images, labels, .. } = match split {
            SplitName::Train => self.train,
            SplitName::Test => self.test,
        };
        self.backend.upload(self.batch_indices, indices);
        let (x, y, indices) = (self.batch_x, self.batch_y, self.batch_indices);
        self.backend.gather_batch(images, labels, indices, x, y, rows, (self.features, self.targets));
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
    pub(super) async fn evaluate_split(
        &mut self,
        train: bool,
        phase: Phase,
        stop: &dyn Fn() -> bool,
    ) -> Result<(f32, f32), NormlabError> {
        assert!(phase != Phase::Train, "evaluation never trains");
        let which = if train { SplitName::Train } else { SplitName::Test };
        let len = if train { self.train.len } else { self.test.len };
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
            self.gather_batch(which, &indices);
            let logits = self.model.forward(&mut self.backend, self.batch_x, rows, phase);
            let targets = rows * self.targets;
            self.backend.cross_entropy(logits, self.batch_y, None, self.metrics, b, targets, self.classes);
        }
        self.backend.submit();
        let read = self.backend.read_later(self.metrics);
        let metrics = settle(read, stop).await?;
        // Each batch's mean is over its counted targets: weigh it by them.
        let counted = if train { &self.train_counted } else { &self.test_counted };
        let mut loss_sum = 0.0f64;
        let mut correct = 0.0f64;
        for b in 0..batches {
            let start = b * EVAL_BATCH;
            let targets: u32 = counted[start..(start + EVAL_BATCH).min(len)].iter().sum();
            loss_sum += metrics[METRICS_PER_SLOT * b] as f64 * targets as f64;
            correct += metrics[METRICS_PER_SLOT * b + 1] as f64;
        }
        let total: u64 = counted.iter().map(|&c| c as u64).sum();
        Ok(((loss_sum / total as f64) as f32, (correct / total as f64) as f32))
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
        let logits = self.model.forward(&mut self.backend, self.batch_x, rows, Phase::Eval);
        self.backend.submit();
        let all = self.backend.read_later(logits).await?;
        Ok(all[..rows * self.model.rows_per_example * self.classes].to_vec())
    }
}

/// Awaits a read-back unless the run is stopped first (see [`platform::unless_stopped`]).
pub(super) async fn settle(read: ReadFuture, stop: &dyn Fn() -> bool) -> Result<Vec<f32>, NormlabError> {
    platform::unless_stopped(read, stop).await.unwrap_or(Err(NormlabError::Stopped))
}
