//! What a run reports while it trains, and how it ended.

use serde::{Deserialize, Serialize};

use super::probes::ProbeReport;

/// What a run reports while it trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Before the first step, when the probes ask for it.
    GradientsAtInit(crate::experiment::GradientsAtInit),
    /// The epoch's training steps are done; its evaluation on the test split begins.
    Evaluating {
        epoch: usize,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
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
    /// The held-out loss with the batch's statistics, when the run's probes ask for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss_batch_stats: Option<f32>,
    /// A sequence model's held-out loss at each position (eval mode), when asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub position_losses: Vec<crate::experiment::PositionLoss>,
    /// One held-out name's losses alone and in a batch, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_of_one: Option<crate::experiment::positions::BatchOfOne>,
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

/// Receives a run's events and may ask it to stop (checked between chunks of steps).
pub trait Observer {
    fn on_event(&mut self, event: &Event);
    fn should_stop(&self) -> bool {
        false
    }
}
