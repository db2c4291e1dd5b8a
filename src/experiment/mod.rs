//! Running an experiment: the small API the page, the native runner and the tests drive.
//!
//! ```text
//! let mut run = Run::new(backend, &config, &dataset)?;
//! run.train(&mut observer).await?;   // events: batch losses, epoch summaries, divergence
//! ```
//!
//! - [`run`]: a [`Run`] (the model and the data on one backend), one training step,
//!   evaluation and prediction;
//! - [`train`]: the training loop, which reads losses back in chunks sized by time;
//! - [`probes`]: measurements inside the network while it trains;
//! - [`events`]: what a run reports, and the [`Observer`] that receives it;
//! - [`sampling`]: what a trained model makes (names, decision regions);
//! - [`positions`], [`blocks`]: inside a sequence model (the loss by position, a name
//!   alone and in a batch; attention maps, each block's gradient at initialisation);
//! - [`config`], [`presets`], [`catalog`]: the configuration, the lessons' configurations
//!   and their experiments, each defined once;
//! - [`remote`]: one run as an order and its answer, for training it in a Web Worker;
//! - [`pace`], [`verdict`], [`stats`], [`demos`], [`benchmark`]: timing, the one verdict
//!   rule, statistics, the lessons' small computations, the benchmark's measurement.
//!
//! One training step records gather → forward → loss → backward → update and submits it
//! as one unit. Losses are read back a chunk of steps at a time, asynchronously, and the
//! read of one chunk overlaps the recording of the next, so the GPU never waits on the
//! page and the page never blocks on the GPU.

pub mod benchmark;
pub mod blocks;
pub mod catalog;
pub mod config;
pub mod course_results;
pub mod demos;
pub mod events;
pub mod measured;
pub mod pace;
pub mod positions;
pub mod presets;
pub mod probes;
pub mod query;
pub mod recorder;
pub mod remote;
pub mod run;
pub mod sampling;
pub mod self_check;
pub mod stats;
pub mod train;
pub mod verdict;

pub use blocks::{read_typed_name, AttentionMaps, GradientsAtInit, TypedName};
pub use config::ExperimentConfig;
pub use events::{EpochSummary, Event, Observer, Outcome};
pub use positions::PositionLoss;
pub use probes::{Evaluation, Landscape, NormUnitStats, ProbeReport, ProbeSpec, Shift};
pub use recorder::Recorder;
pub use run::Run;
pub use sampling::{decision_grid, sample_names};
pub use stats::{ActivationStats, Histogram};

/// Training steps the benchmark records per read-back (the run loop sizes its chunks by
/// time, up to `train::MAX_CHUNK_STEPS`).
const STEPS_PER_CHUNK: usize = 8;
/// Rows per forward pass when measuring test accuracy.
const EVAL_BATCH: usize = 500;
