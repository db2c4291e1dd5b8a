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

pub mod config;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use config::ExperimentConfig;

use crate::backend::{Backend, ReadFuture, StepScalars, TensorId, METRICS_PER_SLOT};
use crate::data::{epoch_order, ImageDataset, Split};
use crate::error::NormlabError;
use crate::nn::{Model, Phase};
use crate::platform;

/// Training steps per read-back of their losses.
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
}

#[derive(Clone, Debug, PartialEq, Serialize)]
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
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Finished { final_test_accuracy: f32 },
    Diverged { epoch: usize, batch: usize },
    Stopped,
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
    steps_taken: usize,
}

impl<B: Backend> Run<B> {
    /// Validates the settings, uploads the data and builds the model with weights drawn
    /// from the seed (identical on every backend).
    pub fn new(mut backend: B, config: &ExperimentConfig, dataset: &ImageDataset) -> Result<Self, NormlabError> {
        if config.batch_size == 0 || config.batch_size > dataset.train.len {
            return Err(NormlabError::InvalidConfig(format!(
                "a batch of {} does not fit a training set of {} images",
                config.batch_size, dataset.train.len
            )));
        }
        if !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
            return Err(NormlabError::InvalidConfig(format!(
                "learning rate {} must be positive",
                config.learning_rate
            )));
        }
        let features = dataset.features();
        let classes = dataset.classes;
        let max_batch = config.batch_size.max(EVAL_BATCH.min(dataset.test.len));
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let input = (dataset.channels, dataset.height, dataset.width);
        let model = Model::build(&mut backend, &config.model(input, classes), max_batch, &mut rng)?;
        // Training needs batch statistics from every batch it will see.
        model.check_batch(config.batch_size, Phase::Train)?;
        let train = DeviceSplit::upload(&mut backend, &dataset.train, "train")?;
        let test = DeviceSplit::upload(&mut backend, &dataset.test, "test")?;
        let batch_indices = backend.alloc(max_batch, "batch indices")?;
        let batch_x = backend.alloc(max_batch * features, "batch x")?;
        let batch_y = backend.alloc(max_batch, "batch labels")?;
        let slots = STEPS_PER_CHUNK.max(dataset.test.len.div_ceil(EVAL_BATCH));
        let metrics = backend.alloc(METRICS_PER_SLOT * slots, "metrics")?;
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
            steps_taken: 0,
        })
    }

    /// Batches per epoch: the last incomplete batch is dropped (`drop_last=True`), so that
    /// BatchNorm never sees a batch of one.
    pub fn steps_per_epoch(&self) -> usize {
        let full = self.train.len / self.config.batch_size;
        self.config.max_batches_per_epoch.map_or(full, |cap| cap.min(full))
    }

    /// Records and submits one training step on the given rows; its mean loss and correct
    /// count land in metrics slot `slot`.
    pub fn record_train_step(&mut self, rows: &[u32], slot: usize) -> Result<(), NormlabError> {
        let batch = rows.len();
        let indices: Vec<f32> = rows.iter().map(|&r| r as f32).collect();
        self.steps_taken += 1;
        self.backend
            .begin_step(StepScalars { learning_rate: self.config.learning_rate, step: self.steps_taken as u32 });
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
        let batches = self.test.len.div_ceil(EVAL_BATCH);
        for b in 0..batches {
            let start = b * EVAL_BATCH;
            let rows = EVAL_BATCH.min(self.test.len - start);
            let indices: Vec<f32> = (start..start + rows).map(|r| r as f32).collect();
            self.backend.upload(self.batch_indices, &indices);
            self.backend.gather_rows(self.test.images, self.batch_indices, self.batch_x, rows, self.features);
            self.backend.gather_rows(self.test.labels, self.batch_indices, self.batch_y, rows, 1);
            let logits = self.model.forward(&mut self.backend, self.batch_x, rows, Phase::Eval)?;
            self.backend.cross_entropy(logits, self.batch_y, None, self.metrics, b, rows, self.classes);
        }
        self.backend.submit();
        let metrics = self.backend.read_later(self.metrics).await?;
        let mut loss_sum = 0.0f64;
        let mut correct = 0.0f64;
        for b in 0..batches {
            let rows = EVAL_BATCH.min(self.test.len - b * EVAL_BATCH);
            loss_sum += metrics[METRICS_PER_SLOT * b] as f64 * rows as f64;
            correct += metrics[METRICS_PER_SLOT * b + 1] as f64;
        }
        Ok(((loss_sum / self.test.len as f64) as f32, (correct / self.test.len as f64) as f32))
    }

    /// Trains for the configured epochs, reporting to `observer`.
    pub async fn train(&mut self, observer: &mut dyn Observer) -> Result<Outcome, NormlabError> {
        let start_millis = platform::now_millis();
        let steps_per_epoch = self.steps_per_epoch();
        let batch_size = self.config.batch_size;
        let mut final_accuracy = 0.0;
        for epoch in 0..self.config.epochs {
            let order = epoch_order(self.train.len, self.config.seed, epoch);
            let mut loss_sum = 0.0f64;
            let mut correct = 0.0f64;
            let mut norm_sums = (0.0f64, 0.0f64);
            // The read of the previous chunk: (future, first step of the chunk, its length).
            let mut in_flight: Option<(ReadFuture, usize, usize)> = None;
            let mut step = 0;
            loop {
                let chunk_start = step;
                while step < steps_per_epoch && step - chunk_start < STEPS_PER_CHUNK {
                    let rows = &order[step * batch_size..(step + 1) * batch_size];
                    self.record_train_step(rows, step - chunk_start)?;
                    step += 1;
                }
                let recorded = step - chunk_start;
                let this_read = if recorded > 0 {
                    Some((self.backend.read_later(self.metrics), chunk_start, recorded))
                } else {
                    None
                };
                if let Some((read, first, len)) = in_flight.take() {
                    let metrics = read.await?;
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
                    if observer.should_stop() {
                        if let Some((read, _, _)) = this_read {
                            // Let the recorded work finish so the backend stays consistent.
                            let _ = read.await;
                        }
                        return Ok(Outcome::Stopped);
                    }
                }
                in_flight = this_read;
                if in_flight.is_none() {
                    break;
                }
                platform::yield_now().await;
            }
            let (test_loss, test_accuracy) = self.evaluate().await?;
            final_accuracy = test_accuracy;
            let steps = steps_per_epoch.max(1) as f64;
            observer.on_event(&Event::Epoch(EpochSummary {
                epoch: epoch + 1,
                train_loss: (loss_sum / steps) as f32,
                train_accuracy: (correct / (steps * batch_size as f64)) as f32,
                test_loss,
                test_accuracy,
                grad_norm: (norm_sums.0 / steps) as f32,
                grad_norm_clipped: (norm_sums.1 / steps) as f32,
                elapsed_secs: (platform::now_millis() - start_millis) / 1000.0,
            }));
            if observer.should_stop() {
                return Ok(Outcome::Stopped);
            }
        }
        Ok(Outcome::Finished { final_test_accuracy: final_accuracy })
    }
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
