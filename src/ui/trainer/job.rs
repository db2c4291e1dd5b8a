//! What a job is made of and what it shows: the runs a live piece asks for, the events it
//! hears back, and the job's phase and progress.

use crate::experiment::catalog::Variant;
use crate::experiment::remote::RunOrder;
use crate::experiment::{ExperimentConfig, ProbeReport, ProbeSpec};
use crate::platform;
use crate::ui::device::EngineKind;

/// One run a live piece asks for.
#[derive(Clone)]
pub struct RunRequest {
    pub config: ExperimentConfig,
    /// The legend's label, already in the page's language.
    pub label: String,
    pub probes: Option<ProbeSpec>,
    /// How many names to sample from the trained model (the character model only).
    pub sample_names: usize,
    /// Compute the decision regions of the trained model (2-D data only).
    pub boundary: bool,
    /// Hand the trained model to the piece ([`JobEvent::Trained`]) instead of dropping it.
    pub keep_model: bool,
}

impl RunRequest {
    /// What the engine is asked to do, wherever it trains.
    pub fn order(&self) -> RunOrder {
        RunOrder {
            config: self.config.clone(),
            probes: self.probes.clone(),
            sample_names: self.sample_names,
            boundary: self.boundary.then_some((BOUNDARY_EXTENT, BOUNDARY_RESOLUTION)),
            keep_model: self.keep_model,
        }
    }

    pub fn new(config: ExperimentConfig, label: String) -> Self {
        RunRequest { config, label, probes: None, sample_names: 0, boundary: false, keep_model: false }
    }

    /// One run of a lesson's experiment, with what it probes.
    pub fn of_variant(variant: Variant, label: String) -> Self {
        RunRequest { probes: variant.probes, ..Self::new(variant.config, label) }
    }
}

/// The square the decision-boundary view covers, and its cells per side.
pub const BOUNDARY_EXTENT: (f32, f32, f32, f32) = (-2.0, 2.0, -2.0, 2.0);
pub const BOUNDARY_RESOLUTION: usize = 60;

/// What a job tells the live piece that started it, besides the run records.
#[derive(Clone, Debug)]
pub enum JobEvent {
    Started {
        run: usize,
        record: u64,
    },
    Probe {
        run: usize,
        report: ProbeReport,
    },
    Names {
        run: usize,
        names: Vec<String>,
    },
    /// See `experiment::decision_grid`.
    Boundary {
        cells: Vec<(usize, f32)>,
    },
    /// The run's trained model, when its request asked to keep it.
    Trained {
        run: usize,
        model: super::TrainedModel,
    },
}

/// What the job is doing now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JobPhase {
    /// Fetching and parsing the data sets.
    #[default]
    Loading,
    /// Timing a few steps of the model on each engine, to pick the faster.
    Measuring,
    /// Uploading the data and building the model on the engine.
    Building,
    Training,
    /// The epoch's test-set evaluation.
    Evaluating,
    /// Stop was pressed; the run in progress is being closed.
    Stopping,
}

/// How far the current job is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub phase: JobPhase,
    pub steps_done: usize,
    pub steps_total: usize,
    pub steps_per_sec: f64,
    /// Milliseconds left of the job as estimated at `updated_millis` (None: not known yet).
    pub millis_left: Option<f64>,
    pub updated_millis: f64,
    /// When the job started (`platform::now_millis`), and the time paused in a hidden tab
    /// before it started (so that elapsed time leaves pauses out).
    pub started_millis: f64,
    pub paused_before: f64,
    /// The first and last run of the job being trained now (from 1; several train at
    /// once on the CPU's workers), and how many runs it has.
    pub run: usize,
    pub run_last: usize,
    pub runs: usize,
    /// Threads training the job's runs at once (the CPU's workers), 1 on the page's own.
    pub threads: usize,
    /// The run's epoch (from 1) and how many it has (shown while one run trains).
    pub epoch: usize,
    pub epochs: usize,
    /// Which engine the job trains on (once chosen).
    pub engine: Option<EngineKind>,
}

impl Progress {
    /// Milliseconds the job has run, pauses in a hidden tab left out.
    pub fn elapsed_millis(&self, now: f64) -> f64 {
        (now - self.started_millis - (platform::paused_millis() - self.paused_before)).max(0.0)
    }

    /// Milliseconds left at `now`, counting down from the last estimate.
    pub fn left_millis(&self, now: f64) -> Option<f64> {
        let paused_since = 0.0;
        self.millis_left.map(|left| (left - (now - self.updated_millis - paused_since)).max(0.0))
    }
}
