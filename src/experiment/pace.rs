//! How long training takes on an engine: a short measurement of a model's steps on it
//! (the engine probe), the cost model made from that measurement, and the time left of a
//! job while it trains.
//!
//! The cost of a training step grows with the batch: `fixed + per_row · batch`
//! milliseconds (a fixed part for launching each op, a part for the arithmetic). An
//! evaluation pass costs a little per row. With those three numbers for one model family
//! on one engine, the time of any run of that family follows from its configuration
//! ([`RunWork`]), so the page can say how long a preset takes before it starts and pick
//! the faster engine for a job. While a job trains, [`JobClock`] replaces the predictions
//! with what the job measures, run by run.

use serde::{Deserialize, Serialize};

use super::{ExperimentConfig, ProbeSpec, Run};
use crate::backend::Backend;
use crate::data::Dataset;
use crate::error::NormlabError;
use crate::nn::Architecture;
use crate::platform::now_millis;

/// What one engine measured for one model family (see the module notes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepCost {
    pub fixed_millis: f64,
    pub per_row_millis: f64,
    /// Milliseconds per row of an evaluation pass (forward only).
    pub eval_row_millis: f64,
    /// False when only the smaller batch was measured: the fixed part is then the whole
    /// step at that batch and the per-row part is 0, so the cost is a lower bound for
    /// larger batches (enough to tell that an engine is slower).
    pub complete: bool,
}

impl StepCost {
    pub fn step_millis(&self, batch: usize) -> f64 {
        self.fixed_millis + self.per_row_millis * batch as f64
    }

    pub fn eval_millis(&self, rows: usize) -> f64 {
        self.eval_row_millis * rows as f64
    }
}

/// The batch sizes the probe times: one small (the fixed part shows) and one large (the
/// arithmetic shows).
pub const PROBE_BATCHES: (usize, usize) = (8, 64);
/// Rows of the probe's evaluation pass.
const PROBE_EVAL_ROWS: usize = 200;
/// Each batch size is timed over at least this long (or [`PROBE_MAX_STEPS`] steps).
const PROBE_MILLIS: f64 = 120.0;
const PROBE_MAX_STEPS: usize = 4;

/// A name for the model family of a configuration, under which its measured cost is
/// kept: the architecture's shape and the input's size (the normalizations, optimizer and
/// learning rate change a step's time far less than its shape).
pub fn family_key(config: &ExperimentConfig, dataset: &Dataset) -> String {
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    let shape = match &config.model.architecture {
        Architecture::Mlp { hidden } => format!("mlp:{}", join(hidden)),
        Architecture::Cnn { channels, hidden } => format!("cnn:{}/{}", join(channels), join(hidden)),
        Architecture::CharMlp { embed, hidden } => format!("char:{embed}/{}", join(hidden)),
        Architecture::Transformer { dim, heads, blocks, context, .. } => {
            format!("transformer:{dim}/{heads}/{blocks}/{context}")
        }
    };
    format!("{shape}@{}x{}x{}", dataset.channels, dataset.height, dataset.width)
}

/// Times `config`'s model on the engine `make` opens (a fresh backend per batch size):
/// one untimed warm-up step, then steps until [`PROBE_MILLIS`] have passed, at each of
/// [`PROBE_BATCHES`], and one evaluation pass. When `enough` says after the small batch
/// that its step time already settles the question (the engine is slower than another
/// whatever the batch), the large batch is skipped and the cost is a lower bound.
pub async fn measure_cost<B: Backend>(
    make: &mut dyn FnMut() -> B,
    config: &ExperimentConfig,
    dataset: &Dataset,
    enough: &dyn Fn(f64) -> bool,
) -> Result<StepCost, NormlabError> {
    let (small, large) = PROBE_BATCHES;
    let (small_millis, eval_row_millis) = time_steps(make(), config, dataset, small, true).await?;
    if enough(small_millis) {
        return Ok(StepCost { fixed_millis: small_millis, per_row_millis: 0.0, eval_row_millis, complete: false });
    }
    let (large_millis, _) = time_steps(make(), config, dataset, large, false).await?;
    let per_row_millis = ((large_millis - small_millis) / (large - small) as f64).max(0.0);
    let fixed_millis = (small_millis - per_row_millis * small as f64).max(0.0);
    Ok(StepCost { fixed_millis, per_row_millis, eval_row_millis, complete: true })
}

/// Milliseconds per training step at `batch` and, when `evaluate`, per evaluated row.
async fn time_steps<B: Backend>(
    backend: B,
    config: &ExperimentConfig,
    dataset: &Dataset,
    batch: usize,
    evaluate: bool,
) -> Result<(f64, f64), NormlabError> {
    let rows = (batch * (PROBE_MAX_STEPS + 2)).min(dataset.train.len);
    let probe = ExperimentConfig {
        batch_size: batch.min(rows),
        train_subset: Some(rows),
        test_subset: Some(PROBE_EVAL_ROWS.min(dataset.test.len)),
        epochs: 1,
        lr_drop: None,
        ..config.clone()
    };
    let mut run = Run::new(backend, &probe, dataset)?;
    let batch = probe.batch_size;
    let order: Vec<u32> = (0..rows as u32).collect();
    let rows_of = |step: usize| {
        let start = (step * batch) % (rows - batch + 1);
        &order[start..start + batch]
    };
    run.record_train_step(rows_of(0), 0)?;
    run.read_metrics().await?;
    let started = now_millis();
    let mut steps = 0;
    while steps < PROBE_MAX_STEPS && (steps == 0 || now_millis() - started < PROBE_MILLIS) {
        run.record_train_step(rows_of(steps + 1), 0)?;
        run.read_metrics().await?;
        steps += 1;
    }
    let step_millis = (now_millis() - started) / steps as f64;
    let mut eval_row_millis = 0.0;
    if evaluate {
        let started = now_millis();
        run.evaluate().await?;
        eval_row_millis = (now_millis() - started) / run.test.len.max(1) as f64;
    }
    Ok((step_millis, eval_row_millis))
}

/// The work of one run, counted in what takes time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunWork {
    pub batch: usize,
    pub steps: usize,
    /// Rows evaluated over the whole run: the test split after every epoch, and what the
    /// probes evaluate.
    pub eval_rows: usize,
    /// Forward and backward passes the probes make besides the training steps (each
    /// costs about a step).
    pub probe_passes: usize,
}

impl RunWork {
    /// The work of `config` on a data set of `train_len` and `test_len` examples, with
    /// `probes`.
    pub fn of(config: &ExperimentConfig, train_len: usize, test_len: usize, probes: Option<&ProbeSpec>) -> Self {
        let steps = config.steps_per_epoch(train_len) * config.epochs;
        let test_rows = config.test_subset.map_or(test_len, |n| n.min(test_len));
        let train_rows = config.train_subset.map_or(train_len, |n| n.min(train_len));
        let mut eval_rows = test_rows * config.epochs;
        let mut probe_passes = 0;
        if let Some(spec) = probes {
            let count = steps / spec.every_steps.max(1);
            if spec.evaluate {
                eval_rows += 2 * test_rows * count;
            }
            if spec.train_accuracy_in_eval {
                eval_rows += train_rows * config.epochs;
            }
            if let Some(multiples) = &spec.landscape {
                probe_passes += (1 + multiples.len()) * count;
            }
            if spec.covariate_shift {
                // One pass, then one more per weight layer (every block and the output).
                probe_passes += (2 + config.model.architecture.blocks()) * count;
            }
        }
        RunWork { batch: config.batch_size, steps, eval_rows, probe_passes }
    }

    /// Predicted milliseconds on an engine that measured `cost`.
    pub fn millis(&self, cost: &StepCost) -> f64 {
        (self.steps + self.probe_passes) as f64 * cost.step_millis(self.batch) + cost.eval_millis(self.eval_rows)
    }

    /// The share of [`RunWork::millis`] that is training steps (and probes between them).
    fn step_share(&self, cost: &StepCost) -> f64 {
        let total = self.millis(cost);
        if total > 0.0 {
            (self.steps + self.probe_passes) as f64 * cost.step_millis(self.batch) / total
        } else {
            1.0
        }
    }
}

/// The time left of a job while it trains. A job's runs train on `lanes` engines at once
/// (the CPU engine's workers; one lane on the GPU), each lane taking the next run when
/// its last one ends. Each run's time is first predicted from the engine's
/// [`StepCost`]; as the job goes, the prediction of a run in progress is replaced by what
/// it measures (its milliseconds per step, probes included, and per evaluated row), and
/// the runs still to come are scaled by how far the measurements so far are from their
/// predictions. The time left is when the last lane would finish, the runs to come taken
/// in order by the lane free first.
#[derive(Clone, Debug)]
pub struct JobClock {
    works: Vec<RunWork>,
    cost: StepCost,
    lanes: usize,
    runs: Vec<RunClock>,
    /// What the job measured over all runs so far, for the measured-over-predicted ratios.
    job_timed_steps: f64,
    job_step_millis: f64,
    job_predicted_step_millis: f64,
    job_eval_rows: usize,
    job_eval_millis: f64,
}

/// One run's part of a [`JobClock`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum RunState {
    #[default]
    Waiting,
    Training,
    Done,
}

#[derive(Clone, Copy, Debug, Default)]
struct RunClock {
    state: RunState,
    /// Steps done; the steps and wall time that count for its pace (after its first
    /// chunk, whose time includes building the model and warming up); rows evaluated and
    /// the time that took.
    steps_done: usize,
    timed_steps: usize,
    step_millis_spent: f64,
    eval_rows_done: usize,
    eval_millis_spent: f64,
    /// When this run's clock last advanced.
    mark: f64,
}

impl JobClock {
    /// A clock for runs trained one after another.
    pub fn new(works: Vec<RunWork>, cost: StepCost, _now: f64) -> Self {
        let runs = vec![RunClock::default(); works.len()];
        JobClock {
            works,
            cost,
            lanes: 1,
            runs,
            job_timed_steps: 0.0,
            job_step_millis: 0.0,
            job_predicted_step_millis: 0.0,
            job_eval_rows: 0,
            job_eval_millis: 0.0,
        }
    }

    /// The same, for runs trained `lanes` at a time.
    pub fn with_lanes(self, lanes: usize) -> Self {
        JobClock { lanes: lanes.max(1), ..self }
    }

    /// The prediction for the whole job, before it starts.
    pub fn predicted_millis(&self) -> f64 {
        let each: Vec<f64> = self.works.iter().map(|w| w.millis(&self.cost)).collect();
        job_millis(&each, self.lanes)
    }

    /// Run `index` of the job begins. On one lane, every run before it is done.
    pub fn start_run(&mut self, index: usize, now: f64) {
        if self.lanes == 1 {
            self.runs.iter_mut().take(index).for_each(|r| r.state = RunState::Done);
        }
        if let Some(run) = self.runs.get_mut(index) {
            *run = RunClock { state: RunState::Training, mark: now, ..RunClock::default() };
        }
    }

    /// Run `index` has ended (finished, stopped or failed).
    pub fn finish_run(&mut self, index: usize) {
        if let Some(run) = self.runs.get_mut(index) {
            run.state = RunState::Done;
        }
    }

    /// `steps` of the run (the last one started, on one lane) are done, at `now`. The
    /// run's first report is not timed: it includes building the model and the engine's
    /// first touches.
    pub fn steps(&mut self, steps: usize, now: f64) {
        self.steps_of(self.latest(), steps, now);
    }

    /// `steps` of run `index` are done, at `now`.
    pub fn steps_of(&mut self, index: usize, steps: usize, now: f64) {
        let predicted_step = self.works.get(index).map_or(0.0, |w| self.cost.step_millis(w.batch));
        let Some(run) = self.runs.get_mut(index) else { return };
        let elapsed = (now - run.mark).max(0.0);
        let new_steps = steps.saturating_sub(run.steps_done);
        if run.steps_done > 0 {
            run.timed_steps += new_steps;
            run.step_millis_spent += elapsed;
            self.job_timed_steps += new_steps as f64;
            self.job_step_millis += elapsed;
            self.job_predicted_step_millis += new_steps as f64 * predicted_step;
        }
        run.steps_done = steps;
        run.mark = now;
    }

    /// An evaluation pass begins: the time since the last steps was theirs.
    pub fn evaluation_started(&mut self, now: f64) {
        self.evaluation_started_of(self.latest(), now);
    }

    pub fn evaluation_started_of(&mut self, index: usize, now: f64) {
        let Some(run) = self.runs.get_mut(index) else { return };
        let elapsed = (now - run.mark).max(0.0);
        run.step_millis_spent += elapsed;
        self.job_step_millis += elapsed;
        run.mark = now;
    }

    /// The evaluation pass of `rows` rows that began last is over.
    pub fn evaluation_finished(&mut self, rows: usize, now: f64) {
        self.evaluation_finished_of(self.latest(), rows, now);
    }

    pub fn evaluation_finished_of(&mut self, index: usize, rows: usize, now: f64) {
        let Some(run) = self.runs.get_mut(index) else { return };
        let elapsed = (now - run.mark).max(0.0);
        run.eval_rows_done += rows;
        run.eval_millis_spent += elapsed;
        self.job_eval_rows += rows;
        self.job_eval_millis += elapsed;
        run.mark = now;
    }

    /// The run started last.
    fn latest(&self) -> usize {
        self.runs.iter().rposition(|r| r.state != RunState::Waiting).unwrap_or(0)
    }

    /// Measured over predicted step time so far in the job (1 before anything is measured).
    fn step_ratio(&self) -> f64 {
        if self.job_timed_steps > 0.0 && self.job_predicted_step_millis > 0.0 {
            self.job_step_millis / self.job_predicted_step_millis
        } else {
            1.0
        }
    }

    fn eval_row_millis(&self) -> f64 {
        if self.job_eval_rows > 0 {
            self.job_eval_millis / self.job_eval_rows as f64
        } else {
            self.cost.eval_row_millis * self.step_ratio()
        }
    }

    /// Milliseconds left of a run in progress at `now`.
    fn run_left(&self, index: usize, now: f64) -> f64 {
        let (work, run) = (&self.works[index], &self.runs[index]);
        let since_mark = (now - run.mark).max(0.0);
        // A run's own pace once it has timed a few steps; before, the prediction scaled by
        // how the job's measurements compare with their predictions.
        let step_millis = if run.timed_steps >= 2 {
            run.step_millis_spent / run.timed_steps as f64
        } else {
            self.cost.step_millis(work.batch) * self.step_ratio()
        };
        let steps_left = (work.steps + work.probe_passes).saturating_sub(run.steps_done) as f64;
        let evals_left = work.eval_rows.saturating_sub(run.eval_rows_done) as f64;
        (steps_left * step_millis + evals_left * self.eval_row_millis() - since_mark).max(0.0)
    }

    /// Milliseconds left of the job at `now`.
    pub fn millis_left(&self, now: f64) -> f64 {
        let ratio = self.step_ratio();
        let eval_ratio =
            if self.cost.eval_row_millis > 0.0 { self.eval_row_millis() / self.cost.eval_row_millis } else { 1.0 };
        let mut lanes: Vec<f64> = (0..self.runs.len())
            .filter(|&i| self.runs[i].state == RunState::Training)
            .map(|i| self.run_left(i, now))
            .collect();
        lanes.resize(lanes.len().max(self.lanes), 0.0);
        let waiting: Vec<f64> = (0..self.runs.len())
            .filter(|&i| self.runs[i].state == RunState::Waiting)
            .map(|i| {
                let w = &self.works[i];
                let share = w.step_share(&self.cost);
                w.millis(&self.cost) * (share * ratio + (1.0 - share) * eval_ratio)
            })
            .collect();
        finish_time(&lanes, &waiting)
    }
}

/// How long a job whose runs take `each` milliseconds lasts on `lanes` engines at once,
/// each lane taking the next run in order when its last one ends (the CPU's workers; one
/// lane on the GPU). The page's estimates and its choice of engine both use it, so that a
/// CPU with eight workers is weighed as eight engines, not one.
pub fn job_millis(each: &[f64], lanes: usize) -> f64 {
    finish_time(&vec![0.0; lanes.max(1)], each)
}

/// When the last of `lanes` (each busy for the given milliseconds) is done, if the runs
/// of `waiting` go in order to the lane free first.
fn finish_time(lanes: &[f64], waiting: &[f64]) -> f64 {
    let mut lanes = lanes.to_vec();
    if lanes.is_empty() {
        lanes.push(0.0);
    }
    for &millis in waiting {
        let free = lanes.iter_mut().min_by(|a, b| a.total_cmp(b)).expect("at least one lane");
        *free += millis;
    }
    lanes.into_iter().fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COST: StepCost = StepCost { fixed_millis: 2.0, per_row_millis: 0.5, eval_row_millis: 0.1, complete: true };

    #[test]
    fn a_run_costs_its_steps_evaluations_and_probes() {
        let config = ExperimentConfig { train_subset: Some(1000), epochs: 3, ..ExperimentConfig::default() };
        let probes = ProbeSpec { every_steps: usize::MAX, train_accuracy_in_eval: true, ..ProbeSpec::default() };
        let work = RunWork::of(&config, 10_000, 2_000, Some(&probes));
        // 1 000 training images at batch 64: 15 steps an epoch.
        assert_eq!(work.steps, 15 * config.epochs);
        // The test split and the training subset in eval mode, every epoch.
        assert_eq!(work.eval_rows, (2_000 + 1_000) * config.epochs);
        let expected = work.steps as f64 * (2.0 + 0.5 * 64.0) + work.eval_rows as f64 * 0.1;
        assert!((work.millis(&COST) - expected).abs() < 1e-9);
    }

    #[test]
    fn the_clock_follows_what_the_job_measures() {
        let works = vec![
            RunWork { batch: 64, steps: 100, eval_rows: 1000, probe_passes: 0 },
            RunWork { batch: 64, steps: 100, eval_rows: 1000, probe_passes: 0 },
        ];
        let mut clock = JobClock::new(works, COST, 0.0);
        // Predicted: 100 × 34 + 1000 × 0.1 = 3 500 ms a run.
        assert!((clock.millis_left(0.0) - 7000.0).abs() < 1e-6);
        // The device is twice as slow as predicted: 68 ms a step (the first report, which
        // includes building the model, is not timed).
        clock.start_run(0, 0.0);
        clock.steps(1, 500.0);
        clock.steps(50, 500.0 + 49.0 * 68.0);
        let left = clock.millis_left(500.0 + 49.0 * 68.0);
        // 50 steps × 68 + 1000 rows × 0.2 (scaled like the steps) + the next run × 2.
        let expected = 50.0 * 68.0 + 1000.0 * 0.2 + 7000.0;
        assert!((left - expected).abs() / expected < 1e-6, "{left} vs {expected}");
    }

    #[test]
    fn a_job_on_several_lanes_lasts_as_long_as_its_busiest_lane() {
        // Sixteen equal runs: two lanes take half the time of one, eight an eighth.
        let equal = [1000.0; 16];
        assert_eq!(job_millis(&equal, 1), 16_000.0);
        assert_eq!(job_millis(&equal, 2), 8_000.0);
        assert_eq!(job_millis(&equal, 8), 2_000.0);
        // More lanes than runs: the longest run sets the time; no lane is no faster than one.
        assert_eq!(job_millis(&[3000.0, 1000.0], 8), 3000.0);
        assert_eq!(job_millis(&[3000.0, 1000.0], 0), 4000.0);
        // In order, to the lane free first: 4 and 1 start, 1 frees its lane for 2 and then
        // 3 (1 + 2 + 3 = 6 > 4), so the job ends at 6, not at the 5 a better packing gives.
        assert_eq!(job_millis(&[4000.0, 1000.0, 2000.0, 3000.0], 2), 6000.0);
    }

    #[test]
    fn runs_on_several_lanes_end_when_the_busiest_lane_does() {
        let run = RunWork { batch: 64, steps: 100, eval_rows: 1000, probe_passes: 0 };
        // 3 500 ms a run, as above.
        let clock = JobClock::new(vec![run; 5], COST, 0.0).with_lanes(2);
        // Runs 1, 3, 5 on one lane and 2, 4 on the other.
        assert!((clock.predicted_millis() - 3.0 * 3500.0).abs() < 1e-6);
        assert!((clock.millis_left(0.0) - 3.0 * 3500.0).abs() < 1e-6);
        let mut clock = clock;
        // Both lanes start; the first run has measured twice the predicted pace, the
        // second nothing yet (its prediction follows the job's ratio, also 2).
        clock.start_run(0, 0.0);
        clock.start_run(1, 0.0);
        clock.steps_of(0, 1, 100.0);
        clock.steps_of(0, 51, 100.0 + 50.0 * 68.0);
        let now = 100.0 + 50.0 * 68.0;
        let first_left = 49.0 * 68.0 + 1000.0 * 0.2;
        let second_left = 100.0 * 68.0 + 1000.0 * 0.2 - now;
        let each_later = 7000.0;
        // Lane 1 frees first and takes run 3 then run 5; lane 2 takes run 4.
        let (lane1, lane2) = (first_left, second_left);
        let mut lanes: [f64; 2] = [lane1, lane2];
        for _ in 0..3 {
            let free = if lanes[0] <= lanes[1] { 0 } else { 1 };
            lanes[free] += each_later;
        }
        let expected = lanes[0].max(lanes[1]);
        let left = clock.millis_left(now);
        assert!((left - expected).abs() / expected < 1e-6, "{left} vs {expected}");
        // Finished runs cost nothing more; the clock ends at zero.
        for i in 0..5 {
            clock.start_run(i, now);
            clock.finish_run(i);
        }
        assert_eq!(clock.millis_left(now), 0.0);
    }
}
