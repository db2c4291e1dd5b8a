//! Timing a training step: one measurement shared by the native benchmark command
//! (`normlab-bench`) and the page's benchmark hook (driven by `tools/bench/browser_bench.mjs`
//! against TensorFlow.js), so that both time exactly the same thing.
//!
//! A step is what [`Run::record_train_step`] records: gathering the batch from the data
//! resident on the device, forward, cross-entropy, backward, the gradient norm and Adam.
//! Steps are timed in blocks: one warm-up block, then `blocks` blocks of `steps_per_block`
//! steps, each ending with a read-back so that the device's work is inside the time. The
//! figure is the median block's milliseconds per step. The peers (`tools/bench/`) use the
//! same models, batch rows and blocks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::presets::{sequence_norms, Preset};
use super::{ExperimentConfig, Run};
use crate::backend::engine::AnyBackend;
use crate::backend::Backend;
use crate::data::DatasetId;
use crate::error::NormlabError;
use crate::nn::{Architecture, ModelChoices, NormKind, NormPosition};
use crate::platform::now_millis;

/// The models of the benchmark, all trained with Adam at lr 1e-3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchModel {
    /// The notes' CNN: conv3x3(1→32)-BN-ReLU-pool2, conv3x3(32→64)-BN-ReLU-pool2,
    /// linear(3136→128)-BN-ReLU, linear(128→10). 422 090 parameters.
    Cnn,
    /// The MLP 784-256-256-10 with BatchNorm after each hidden linear layer. 270 346 parameters.
    Mlp,
    /// Lesson 11's transformer on whole names: 2 pre-LayerNorm blocks of width 64, 4 heads,
    /// 16 positions, always at the lesson's batch of 32 names.
    Transformer,
}

impl BenchModel {
    pub const ALL: [BenchModel; 3] = [BenchModel::Cnn, BenchModel::Mlp, BenchModel::Transformer];

    pub fn label(self) -> &'static str {
        match self {
            BenchModel::Cnn => "CNN+BN",
            BenchModel::Mlp => "MLP+BN",
            BenchModel::Transformer => "Transformer+LN",
        }
    }

    /// The data set it trains on.
    pub fn dataset(self) -> DatasetId {
        match self {
            BenchModel::Cnn | BenchModel::Mlp => DatasetId::FashionMnist,
            BenchModel::Transformer => DatasetId::NameSequences,
        }
    }

    /// The batch sizes it is timed at, of those asked for: the transformer only at its
    /// lesson's batch, whatever is asked.
    pub fn batches(self, asked: &[usize]) -> Vec<usize> {
        match self {
            BenchModel::Cnn | BenchModel::Mlp => asked.to_vec(),
            BenchModel::Transformer => vec![TRANSFORMER_BATCH],
        }
    }

    /// The experiment that times this model at `batch` (Fashion-MNIST, BatchNorm, Adam;
    /// the transformer on names, with LayerNorm).
    pub fn config(self, batch: usize) -> ExperimentConfig {
        let architecture = match self {
            BenchModel::Cnn => Architecture::notes_cnn(),
            BenchModel::Mlp => Architecture::Mlp { hidden: vec![256, 256] },
            BenchModel::Transformer => {
                let lesson = sequence_norms(NormKind::Layer, NormPosition::Pre, Preset::Full);
                return ExperimentConfig { batch_size: batch, ..lesson };
            }
        };
        ExperimentConfig {
            model: ModelChoices { architecture, ..ModelChoices::default() },
            batch_size: batch,
            ..ExperimentConfig::default()
        }
    }
}

/// Lesson 11's batch of names.
const TRANSFORMER_BATCH: usize = 32;

/// How many steps are timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchSchedule {
    pub steps_per_block: usize,
    /// Timed blocks, after one untimed warm-up block.
    pub blocks: usize,
}

/// What one model at one batch size measured on one backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    /// The median block's milliseconds per step.
    pub ms_per_step: f64,
    pub images_per_s: f64,
    /// Every timed block's milliseconds per step, in order.
    pub block_ms: Vec<f64>,
    /// Queue submissions and dispatches per step (GPU backends).
    pub submissions_per_step: Option<f64>,
    pub dispatches_per_step: Option<f64>,
    pub parameters: usize,
    /// The loss of the last step (the model really trains: it should fall).
    pub final_loss: f32,
}

/// Rows of step `i`: consecutive runs of the data in order, wrapping around. Which rows
/// does not change the time; the peers use the same rule so that they see the same images.
pub fn batch_rows(step: usize, batch: usize, train_len: usize) -> Vec<u32> {
    let span = train_len.saturating_sub(batch).max(1);
    let start = (step * batch) % span;
    (start..start + batch).map(|r| r as u32).collect()
}

/// Times training steps of `run` (see the module notes). `counters` reads the backend's
/// (submissions, dispatches) so far, where it counts them.
pub async fn time_training_steps<B: Backend>(
    run: &mut Run<B>,
    schedule: BenchSchedule,
    counters: impl Fn(&Run<B>) -> Option<(u64, u64)>,
) -> Result<StepTiming, NormlabError> {
    let batch = run.config.batch_size;
    let steps = schedule.steps_per_block.max(1);
    let mut block_ms = Vec::new();
    let mut counts = None;
    let mut final_loss = f32::NAN;
    for block in 0..=schedule.blocks.max(1) {
        let before = counters(run);
        let started = now_millis();
        for i in 0..steps {
            let rows = batch_rows(block * steps + i, batch, run.train.len);
            run.record_train_step(&rows, i % super::STEPS_PER_CHUNK)?;
        }
        let metrics = run.read_metrics().await?;
        let elapsed = now_millis() - started;
        final_loss = metrics[((steps - 1) % super::STEPS_PER_CHUNK) * crate::backend::METRICS_PER_SLOT];
        if block > 0 {
            block_ms.push(elapsed / steps as f64);
        }
        if let (Some(a), Some(b)) = (before, counters(run)) {
            // The read-back adds one submission per block; count only the steps'.
            counts = Some(((b.0 - a.0).saturating_sub(1) as f64 / steps as f64, (b.1 - a.1) as f64 / steps as f64));
        }
    }
    let mut sorted = block_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let ms_per_step = sorted[sorted.len() / 2];
    Ok(StepTiming {
        ms_per_step,
        images_per_s: batch as f64 / (ms_per_step / 1000.0),
        block_ms,
        submissions_per_step: counts.map(|c| c.0),
        dispatches_per_step: counts.map(|c| c.1),
        parameters: run.model.params().iter().map(|p| p.len).sum(),
        final_loss,
    })
}

/// GPU time per kernel of one training step, from timestamps around every dispatch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KernelProfile {
    /// Per WGSL entry point, longest first.
    pub kernels: Vec<KernelShare>,
    /// The sum over kernels: how long the GPU is busy per step.
    pub busy_ms_per_step: f64,
    /// The wall time per step of the profiled steps (timestamps add a little work).
    pub wall_ms_per_step: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KernelShare {
    pub kernel: &'static str,
    pub ms_per_step: f64,
    pub dispatches_per_step: f64,
}

/// Times every dispatch of `steps` more training steps of `run` (after
/// [`time_training_steps`]: timestamps add a little work, so they are taken apart from the
/// timed blocks). Fails where the device has no timestamp queries.
pub async fn profile_kernels(run: &mut Run<AnyBackend>, steps: usize) -> Result<KernelProfile, NormlabError> {
    run.backend.start_kernel_timing()?;
    let (batch, steps) = (run.config.batch_size, steps.max(1));
    let started = now_millis();
    for i in 0..steps {
        let rows = batch_rows(i, batch, run.train.len);
        run.record_train_step(&rows, i % super::STEPS_PER_CHUNK)?;
    }
    let times = run.backend.kernel_times().await?;
    let wall_ms_per_step = (now_millis() - started) / steps as f64;
    let mut by_kernel: BTreeMap<&'static str, (f64, usize)> = BTreeMap::new();
    for t in &times {
        let entry = by_kernel.entry(t.kernel).or_default();
        entry.0 += t.nanos;
        entry.1 += 1;
    }
    let mut kernels: Vec<KernelShare> = by_kernel
        .into_iter()
        .map(|(kernel, (nanos, count))| KernelShare {
            kernel,
            ms_per_step: nanos / 1e6 / steps as f64,
            dispatches_per_step: count as f64 / steps as f64,
        })
        .collect();
    kernels.sort_by(|a, b| b.ms_per_step.total_cmp(&a.ms_per_step));
    let busy_ms_per_step = kernels.iter().map(|k| k.ms_per_step).sum();
    Ok(KernelProfile { kernels, busy_ms_per_step, wall_ms_per_step })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rows_are_consecutive_and_stay_inside_the_data() {
        for step in 0..500 {
            let rows = batch_rows(step, 64, 1000);
            assert_eq!(rows.len(), 64);
            assert!(rows.windows(2).all(|w| w[1] == w[0] + 1));
            assert!(*rows.last().unwrap() < 1000);
        }
        assert_eq!(batch_rows(1, 64, 1000)[0], 64);
    }

    #[test]
    fn the_models_have_the_parameter_counts_the_peers_check() {
        use crate::backend::cpu::CpuBackend;
        use crate::data::{Dataset, Split};
        // Only the shapes matter: blank 28×28 images.
        let split = Split { images: vec![0.0; 128 * 784], labels: vec![0.0; 128], len: 128 };
        let dataset = Dataset {
            train: split.clone(),
            test: split,
            channels: 1,
            height: 28,
            width: 28,
            classes: 10,
            pixel_mean: 0.0,
            pixel_std: 1.0,
            vocab: None,
        };
        for (model, expected) in [(BenchModel::Cnn, 422_090), (BenchModel::Mlp, 270_346)] {
            let run = Run::new(CpuBackend::new(), &model.config(64), &dataset).unwrap();
            let count: usize = run.model.params().iter().map(|p| p.len).sum();
            assert_eq!(count, expected, "{model:?}");
        }
    }
}
