//! What a run measures inside the network while it trains (lessons 1, 3, 7 and 9): the
//! specification, the reports, and the passes that take them. Every probe reads after the
//! chunk of steps it follows; the landscape and covariate-shift probes move the
//! parameters along the gradient and put them back, so training is not perturbed.

use serde::{Deserialize, Serialize};

use super::run::{settle, Run, SplitName};
use super::stats::{self, ActivationStats};
use crate::backend::{Backend, ReadFuture};
use crate::error::NormlabError;
use crate::nn::{Phase, ProbePoints};

/// What a run measures inside the network every `every_steps` training steps (rounded up
/// to the 8-step chunks in which losses are read back), for the lessons that look inside.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
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
    /// At the end of every epoch, also measure a sequence model's held-out loss at each
    /// position in eval mode, in [`EpochSummary::position_losses`].
    pub position_losses: bool,
    /// At the end of every epoch, also measure the held-out loss with the batch's
    /// statistics (BatchNorm in training mode), in [`EpochSummary::test_loss_batch_stats`].
    pub test_loss_batch_stats: bool,
    /// At the end of every epoch, also measure one held-out name's losses alone and in a
    /// batch, in [`EpochSummary::batch_of_one`].
    pub batch_of_one: bool,
    /// Before the first step, measure each transformer block's gradient on the first batch
    /// (see [`GradientsAtInit`](super::GradientsAtInit)), reported as
    /// [`Event::GradientsAtInit`](super::Event::GradientsAtInit).
    pub gradients_at_init: bool,
}

impl ProbeSpec {
    /// Whether it measures anything every `every_steps` (the rest is measured at the end
    /// of each epoch).
    pub fn measures_between_steps(&self) -> bool {
        self.activation_histogram.is_some()
            || self.grad_norms
            || self.norm_units > 0
            || self.evaluate
            || self.landscape.is_some()
            || self.covariate_shift
    }
}

/// One probe's measurements, each list in layer order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// ‖G − G′‖.
    pub l2_distance: f32,
    /// cos(G, G′): 1 means the earlier layers' update left the layer's gradient alone.
    pub cosine: f32,
}

/// The first units of one normalization layer: the statistics of the last training batch
/// (variance biased, as used to normalize) and, for BatchNorm, the running estimates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormUnitStats {
    pub batch_mean: Vec<f32>,
    pub batch_var: Vec<f32>,
    pub running_mean: Option<Vec<f32>>,
    pub running_var: Option<Vec<f32>>,
}

/// The test split's loss and accuracy in eval mode and with batch statistics.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub eval_loss: f32,
    pub eval_accuracy: f32,
    pub batch_stats_loss: f32,
    pub batch_stats_accuracy: f32,
}

/// Reads issued for a probe, resolved when the chunk they follow is read.
pub(super) struct PendingProbe {
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

impl<B: Backend> Run<B> {
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
    pub(super) async fn loss_and_gradients(
        &mut self,
        rows: &[u32],
        stop: &dyn Fn() -> bool,
    ) -> Result<(f32, Vec<Vec<f32>>), NormlabError> {
        let batch = rows.len();
        let indices: Vec<f32> = rows.iter().map(|&r| r as f32).collect();
        self.gather_batch(SplitName::Train, &indices);
        let logits = self.model.forward(&mut self.backend, self.batch_x, batch, Phase::BatchStats);
        let dlogits = self.model.dlogits;
        // A sequence model's loss is over every target of every sequence (padding ignored).
        let targets = batch * self.targets;
        self.backend.cross_entropy(logits, self.batch_y, Some(dlogits), self.metrics, 0, targets, self.classes);
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
    pub(super) async fn start_probe(
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
    pub(super) async fn finish_probe(spec: &ProbeSpec, pending: PendingProbe) -> Result<ProbeReport, NormlabError> {
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
}
