//! The course's stored results: a lesson experiment's full preset trained over several
//! seeds by one command (`normlab-run --reproduce-course`), one file per experiment under
//! `www/results/<experiment>.json`. What the lessons and the README state as measured is
//! read from these files, and a test checks that each was made with the configuration the
//! preset has now, so a changed preset cannot leave old numbers standing.
//!
//! A file keeps what made it (the seeds, the commit, the engine and the machine, the wall
//! time), and per run of the preset its configuration and, per seed, its epochs, outcome,
//! a thinned loss curve and its loss noise; the spread over seeds is computed from them
//! ([`VariantResults::final_accuracy`], [`VariantResults::epoch_band`]), never stored
//! apart from the numbers it comes from.

use serde::{Deserialize, Serialize};

use super::catalog::{Experiment, VariantKey};
use super::presets::Preset;
use super::{EpochSummary, ExperimentConfig, GradientsAtInit, Landscape, Outcome, ProbeReport, Shift};
use crate::chart::RunSeries;
use crate::error::Words;

/// The results format's version.
pub const RESULTS_VERSION: u32 = 1;
/// Batch losses kept per seed: enough to draw its curve faintly behind a live run.
pub const LOSSES_PER_SEED: usize = 200;
/// The seeds the course is reproduced over unless asked otherwise.
pub const DEFAULT_SEEDS: [u64; 3] = [1, 2, 3];

/// One experiment's full preset over several seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResults {
    pub version: u32,
    /// The experiment's name, as `--preset` takes it without the size (`high-lr`).
    pub experiment: String,
    /// Always `full`: the course's results are its full presets'.
    pub preset: String,
    pub seeds: Vec<u64>,
    /// The commit the runner was built from (`git describe`), `unknown` outside a checkout.
    pub commit: String,
    /// `cpu` or `gpu`, and the device in words.
    pub engine: String,
    pub device: String,
    /// The machine: architecture, operating system and cores.
    pub machine: String,
    /// When it was made (UTC, RFC 3339).
    pub made: String,
    /// The wall time of the whole experiment, every seed.
    pub wall_secs: f64,
    pub runs: Vec<VariantResults>,
}

/// One run of the preset over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantResults {
    /// The configuration at the preset's own seed; each seed's run differs only in `seed`.
    pub config: ExperimentConfig,
    pub seeds: Vec<SeedRun>,
}

/// One seed of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    pub seed: u64,
    pub outcome: Outcome,
    pub epochs: Vec<EpochSummary>,
    /// (epochs elapsed, loss), thinned to [`LOSSES_PER_SEED`].
    pub batch_losses: Vec<(f64, f32)>,
    pub loss_noise: Option<f32>,
    pub wall_secs: f64,
    /// Each transformer block's gradient norms before the first step, where the run
    /// measured them (lesson 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradients_at_init: Option<GradientsAtInit>,
    /// What the run's probes measured between steps, averaged (lesson 7), where it has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<ProbeMeans>,
}

impl SeedRun {
    /// A finished run's record, its curve thinned for storage, with its probes' reports
    /// averaged (`steps_per_epoch` tells the first epoch's from the later ones).
    pub fn new(
        seed: u64,
        outcome: Outcome,
        series: &RunSeries,
        loss_noise: Option<f32>,
        wall_secs: f64,
        probes: &[ProbeReport],
        steps_per_epoch: usize,
    ) -> Self {
        let thinned = series.thinned(LOSSES_PER_SEED);
        SeedRun {
            seed,
            outcome,
            epochs: series.epochs.clone(),
            batch_losses: thinned.batch_losses,
            loss_noise,
            wall_secs,
            gradients_at_init: series.gradients_at_init.clone(),
            probes: ProbeMeans::of(probes, steps_per_epoch),
        }
    }

    /// The last epoch's eval-mode test accuracy; None when the run diverged.
    pub fn final_accuracy(&self) -> Option<f32> {
        match self.outcome {
            Outcome::Finished { final_test_accuracy, .. } => Some(final_test_accuracy),
            _ => None,
        }
    }
}

/// A run's probe reports, averaged over the first epoch and over the epochs after it:
/// Santurkar et al.'s landscape along the gradient (lesson 7's smoothness experiment) and
/// the internal covariate shift of each weight layer (its noisy-BatchNorm experiment).
/// Each pair is (first epoch, later epochs); None where no probe fell there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeMeans {
    #[serde(default, skip_serializing_if = "is_unmeasured")]
    pub loss_range: (Option<f32>, Option<f32>),
    #[serde(default, skip_serializing_if = "is_unmeasured")]
    pub gradient_change: (Option<f32>, Option<f32>),
    #[serde(default, skip_serializing_if = "is_unmeasured")]
    pub beta_smoothness: (Option<f32>, Option<f32>),
    /// Per weight layer, over the first epoch: the mean cosine of G and G′ and ‖G − G′‖.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shift_cosine: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shift_distance: Vec<f32>,
}

fn is_unmeasured(pair: &(Option<f32>, Option<f32>)) -> bool {
    pair.0.is_none() && pair.1.is_none()
}

impl ProbeMeans {
    /// None when the reports hold neither measurement.
    pub fn of(reports: &[ProbeReport], steps_per_epoch: usize) -> Option<ProbeMeans> {
        let first = |r: &&ProbeReport| r.step <= steps_per_epoch.max(1);
        let mean = |values: Vec<f32>| {
            let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).map(f64::from).collect();
            (!finite.is_empty()).then(|| (finite.iter().sum::<f64>() / finite.len() as f64) as f32)
        };
        let split = |value: fn(&Landscape) -> f32| {
            let of = |early: bool| {
                mean(
                    reports
                        .iter()
                        .filter(|r| first(r) == early)
                        .filter_map(|r| r.landscape.as_ref())
                        .map(value)
                        .collect(),
                )
            };
            (of(true), of(false))
        };
        let early: Vec<&ProbeReport> = reports.iter().filter(first).filter(|r| !r.covariate_shift.is_empty()).collect();
        let layers = early.iter().map(|r| r.covariate_shift.len()).min().unwrap_or(0);
        let per_layer = |value: fn(&Shift) -> f32| -> Vec<f32> {
            (0..layers).filter_map(|l| mean(early.iter().map(|r| value(&r.covariate_shift[l])).collect())).collect()
        };
        let means = ProbeMeans {
            loss_range: split(|l| l.loss_max - l.loss_min),
            gradient_change: split(|l| l.gradient_change),
            beta_smoothness: split(|l| l.beta_smoothness),
            shift_cosine: per_layer(|s| s.cosine),
            shift_distance: per_layer(|s| s.l2_distance),
        };
        (means != ProbeMeans::default()).then_some(means)
    }
}

/// The mean and range of a value over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// How many seeds had a value (a diverged run has no accuracy).
    pub count: usize,
}

impl Spread {
    /// The same spread of the values times `factor` (a share as a percentage).
    pub fn scaled(self, factor: f64) -> Spread {
        Spread { mean: self.mean * factor, min: self.min * factor, max: self.max * factor, count: self.count }
    }

    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            return None;
        }
        let count = values.len();
        Some(Spread {
            mean: values.iter().sum::<f64>() / count as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            count,
        })
    }
}

impl VariantResults {
    /// The final test accuracy over the seeds that finished.
    pub fn final_accuracy(&self) -> Option<Spread> {
        Spread::of(self.seeds.iter().filter_map(|s| s.final_accuracy()).map(f64::from))
    }

    /// `value` of each epoch over the seeds that reached it: (epoch, spread), in order.
    pub fn epoch_band(&self, value: impl Fn(&EpochSummary) -> f32) -> Vec<(usize, Spread)> {
        let epochs = self.seeds.iter().map(|s| s.epochs.len()).max().unwrap_or(0);
        (0..epochs)
            .filter_map(|i| {
                let spread = Spread::of(self.seeds.iter().filter_map(|s| s.epochs.get(i)).map(|e| value(e) as f64))?;
                Some((i + 1, spread))
            })
            .collect()
    }
}

impl ExperimentResults {
    /// One line: a preset of 32 runs over 3 seeds stays a few hundred kilobytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<ExperimentResults, Words> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| crate::words!("the results file is not readable ({e})", "结果文件无法读取（{e}）"))?;
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != RESULTS_VERSION as u64 {
            return Err(crate::words!(
                "the results file is of format {version}; this lab reads format {RESULTS_VERSION}",
                "结果文件的格式是 {version}；当前实验室读取格式 {RESULTS_VERSION}"
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| crate::words!("the results file is damaged ({e})", "结果文件已损坏（{e}）"))
    }

    /// The name of the list of stored experiments under `www/results/`: the page reads it
    /// first, so that it never asks for a file that is not there.
    pub const INDEX: &'static str = "index.json";

    /// Every results file in `dir` (the index aside), read and checked to hold the
    /// experiment its name says; an error names the file.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_dir(dir: &std::path::Path) -> Result<Vec<ExperimentResults>, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<std::path::PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let mut all = Vec::new();
        for path in paths {
            let is_index = path.file_name().is_some_and(|n| n == Self::INDEX);
            if path.extension().is_none_or(|e| e != "json") || is_index {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let results = Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let named = Experiment::parse(&results.experiment).map(Self::file_name);
            if named.as_deref() != path.file_name().and_then(|n| n.to_str()) {
                return Err(format!("{} holds the results of {}", path.display(), results.experiment));
            }
            all.push(results);
        }
        Ok(all)
    }

    /// The file's name under `www/results/`.
    pub fn file_name(experiment: Experiment) -> String {
        format!("{}.json", experiment.name())
    }

    /// How the stored runs differ from what the experiment's full preset trains now, in
    /// words: a run added, removed or changed (every setting but the seed). Empty when
    /// they match.
    pub fn differences_from_preset(&self) -> Vec<String> {
        let Some(experiment) = Experiment::parse(&self.experiment) else {
            return vec![format!("there is no experiment called {}", self.experiment)];
        };
        let mut problems = Vec::new();
        if self.preset != Preset::Full.name() {
            problems.push(format!("made at the {} preset, not the full one", self.preset));
        }
        let now: Vec<ExperimentConfig> = experiment.variants(Preset::Full).into_iter().map(|v| v.config).collect();
        if now.len() != self.runs.len() {
            problems.push(format!("{} runs stored, the preset has {}", self.runs.len(), now.len()));
        }
        for (i, (stored, current)) in self.runs.iter().zip(&now).enumerate() {
            if &stored.config != current {
                problems.push(format!(
                    "run {}: stored \u{201c}{}\u{201d}, the preset now trains \u{201c}{}\u{201d}",
                    i + 1,
                    stored.config.label(),
                    current.label()
                ));
            }
            let seeds: Vec<u64> = stored.seeds.iter().map(|s| s.seed).collect();
            if seeds != self.seeds {
                problems.push(format!("run {}: seeds {seeds:?}, the file says {:?}", i + 1, self.seeds));
            }
        }
        problems
    }

    /// The stored run that `key` names in the full preset (the stored runs are in the
    /// preset's order, as [`Self::differences_from_preset`] checks).
    pub fn run_keyed(&self, key: VariantKey) -> Option<&VariantResults> {
        let experiment = Experiment::parse(&self.experiment)?;
        let index = experiment.variants(Preset::Full).iter().position(|v| v.key == key)?;
        self.runs.get(index)
    }

    /// The stored run whose configuration is `config` but for its seed.
    pub fn run_like(&self, config: &ExperimentConfig) -> Option<&VariantResults> {
        self.runs.iter().find(|r| ExperimentConfig { seed: config.seed, ..r.config.clone() } == *config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(i: usize, accuracy: f32) -> EpochSummary {
        EpochSummary {
            epoch: i,
            train_loss: 1.0,
            train_accuracy: accuracy,
            test_loss: 1.0,
            test_accuracy: accuracy,
            grad_norm: 1.0,
            grad_norm_clipped: 1.0,
            elapsed_secs: 1.0,
            train_eval_accuracy: None,
            test_loss_batch_stats: None,
            position_losses: vec![],
            batch_of_one: None,
        }
    }

    fn seed(seed: u64, accuracies: &[f32]) -> SeedRun {
        let epochs: Vec<EpochSummary> = accuracies.iter().enumerate().map(|(i, &a)| epoch(i + 1, a)).collect();
        let last = *accuracies.last().unwrap();
        SeedRun {
            seed,
            outcome: Outcome::Finished { final_test_accuracy: last, not_learning: false },
            epochs,
            batch_losses: vec![],
            loss_noise: None,
            wall_secs: 1.0,
            gradients_at_init: None,
            probes: None,
        }
    }

    #[test]
    fn probes_are_averaged_over_the_first_epoch_and_the_later_ones() {
        let report = |step: usize, range: f32, cosine: f32| ProbeReport {
            step,
            activations: vec![],
            weight_grad_norms: vec![],
            bias_grad_norms: vec![],
            norms: vec![],
            evaluation: None,
            landscape: Some(Landscape {
                loss_min: 1.0,
                loss_max: 1.0 + range,
                gradient_change: range * 2.0,
                beta_smoothness: f32::NAN,
            }),
            covariate_shift: vec![Shift { l2_distance: 1.0, cosine }, Shift { l2_distance: 3.0, cosine: 0.5 }],
        };
        // 100 steps an epoch: steps 50 and 100 are the first epoch's, 150 a later one's.
        let means = ProbeMeans::of(&[report(50, 1.0, 0.2), report(100, 2.0, 0.4), report(150, 4.0, 0.9)], 100).unwrap();
        assert_eq!(means.loss_range, (Some(1.5), Some(4.0)));
        assert_eq!(means.gradient_change, (Some(3.0), Some(8.0)));
        // A value that is never finite is not measured.
        assert_eq!(means.beta_smoothness, (None, None));
        assert!((means.shift_cosine[0] - 0.3).abs() < 1e-6 && means.shift_cosine[1] == 0.5);
        assert_eq!(means.shift_distance, vec![1.0, 3.0]);
        assert_eq!(ProbeMeans::of(&[], 100), None);
    }

    fn stored(experiment: Experiment) -> ExperimentResults {
        let runs = experiment
            .variants(Preset::Full)
            .into_iter()
            .map(|v| VariantResults { config: v.config, seeds: vec![seed(1, &[0.5, 0.7]), seed(2, &[0.6, 0.8])] })
            .collect();
        ExperimentResults {
            version: RESULTS_VERSION,
            experiment: experiment.name().into(),
            preset: "full".into(),
            seeds: vec![1, 2],
            commit: "test".into(),
            engine: "cpu".into(),
            device: "CPU".into(),
            machine: "test".into(),
            made: "2026-12-02T00:00:00Z".into(),
            wall_secs: 1.0,
            runs,
        }
    }

    #[test]
    fn the_spread_over_seeds_is_their_mean_and_range() {
        let results = stored(Experiment::HighLr);
        let run = &results.runs[0];
        let accuracy = run.final_accuracy().unwrap();
        assert!((accuracy.mean - 0.75).abs() < 1e-6 && accuracy.count == 2);
        assert!((accuracy.min - 0.7).abs() < 1e-6 && (accuracy.max - 0.8).abs() < 1e-6);
        let band = run.epoch_band(|e| e.test_accuracy);
        assert_eq!(band.len(), 2);
        assert!((band[0].1.mean - 0.55).abs() < 1e-6 && (band[0].1.min - 0.5).abs() < 1e-6);
        // A diverged seed has no accuracy and does not count.
        let mut with_failure = run.clone();
        with_failure.seeds[0].outcome = Outcome::Diverged { epoch: 1, batch: 3 };
        assert_eq!(with_failure.final_accuracy().map(|s| s.count), Some(1));
        assert!(Spread::of([f64::NAN]).is_none());
    }

    #[test]
    fn stored_results_read_back_and_match_their_preset() {
        let results = stored(Experiment::HighLr);
        let read = ExperimentResults::from_json(&results.to_json()).unwrap();
        assert_eq!(read, results);
        assert!(read.differences_from_preset().is_empty(), "{:?}", read.differences_from_preset());
        let at_seed_5 = ExperimentConfig { seed: 5, ..results.runs[1].config.clone() };
        assert_eq!(read.run_like(&at_seed_5).map(|r| &r.config), Some(&results.runs[1].config));
        // A quick run of the experiment finds the full run of the same key.
        let quick = &Experiment::HighLr.variants(Preset::Quick)[1];
        assert_eq!(read.run_keyed(quick.key).map(|r| &r.config), Some(&results.runs[1].config));
    }

    #[test]
    fn a_changed_preset_shows_as_a_difference() {
        let mut results = stored(Experiment::HighLr);
        results.runs[0].config.epochs += 1;
        let problems = results.differences_from_preset();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("run 1: stored"), "{problems:?}");
        results.runs.pop();
        assert!(results.differences_from_preset().iter().any(|p| p.contains("runs stored, the preset has")));
        let newer = results.to_json().replacen("\"version\":1", "\"version\":2", 1);
        assert!(ExperimentResults::from_json(&newer).unwrap_err().to_string().contains("format 2"));
    }
}
