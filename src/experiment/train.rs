//! The training loop: steps recorded in chunks whose length follows the measured time of
//! a step, losses read back a chunk at a time, an evaluation after every epoch, and a
//! stop that never waits for queued work.

use super::events::{EpochSummary, Event, Observer, Outcome};
use super::probes::PendingProbe;
use super::run::{settle, Run};
use super::verdict;
use crate::backend::{Backend, ReadFuture, METRICS_PER_SLOT};
use crate::data::epoch_order;
use crate::error::NormlabError;
use crate::nn::Phase;
use crate::platform;

impl<B: Backend> Run<B> {
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
        // Only specs that measure between steps take probes; the rest measure at epoch ends.
        let step_probes = probes.clone().filter(|spec| spec.measures_between_steps());
        let mut last_probe_step = 0usize;
        let mut final_accuracy = 0.0;
        let mut last_train_loss = f32::NAN;
        let mut pace = ChunkPace::default();
        if self.steps_taken == 0 && probes.as_ref().is_some_and(|p| p.gradients_at_init) {
            let order = epoch_order(self.train.len, self.config.seed, 0);
            let first = &order[..batch_size.min(order.len())];
            let measured = self.gradients_at_init(first, &|| observer.should_stop()).await?;
            observer.on_event(&Event::GradientsAtInit(measured));
        }
        for epoch in 0..self.config.epochs {
            let order = epoch_order(self.train.len, self.config.seed, epoch);
            let mut loss_sum = 0.0f64;
            let mut correct = 0.0f64;
            // The targets the loss counted over the epoch (a sequence's padding is not).
            let mut counted = 0.0f64;
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
                    if let Some(spec) = &step_probes {
                        // End the chunk where the next probe is due, so that probes fall on
                        // the same steps however the chunks are sized.
                        let due = last_probe_step.saturating_add(spec.every_steps.max(1));
                        chunk = chunk.min(due.saturating_sub(self.steps_taken).max(1));
                    }
                    for slot in 0..chunk {
                        let rows = &order[step * batch_size..(step + 1) * batch_size];
                        counted += rows.iter().map(|&r| self.train_counted[r as usize] as f64).sum::<f64>();
                        self.record_train_step(rows, slot)?;
                        step += 1;
                    }
                    let read = self.backend.read_later(self.metrics);
                    let probe = match &step_probes {
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
            let test_loss_batch_stats = match &probes {
                Some(spec) if spec.test_loss_batch_stats => {
                    Some(self.evaluate_split(false, Phase::BatchStats, &|| observer.should_stop()).await?.0)
                }
                _ => None,
            };
            let position_losses = match &probes {
                Some(spec) if spec.position_losses => {
                    self.losses_by_position(Phase::Eval, &|| observer.should_stop()).await?
                }
                _ => Vec::new(),
            };
            let batch_of_one = match &probes {
                Some(spec) if spec.batch_of_one => Some(self.batch_of_one(&|| observer.should_stop()).await?),
                _ => None,
            };
            final_accuracy = test_accuracy;
            let steps = steps_per_epoch.max(1) as f64;
            last_train_loss = (loss_sum / steps) as f32;
            observer.on_event(&Event::Epoch(EpochSummary {
                epoch: epoch + 1,
                train_loss: last_train_loss,
                train_accuracy: (correct / counted.max(1.0)) as f32,
                test_loss,
                test_accuracy,
                grad_norm: (norm_sums.0 / steps) as f32,
                grad_norm_clipped: (norm_sums.1 / steps) as f32,
                elapsed_secs: (platform::now_millis() - start_millis) / 1000.0,
                train_eval_accuracy,
                test_loss_batch_stats,
                position_losses,
                batch_of_one,
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
pub(super) const MAX_CHUNK_STEPS: usize = 64;
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
