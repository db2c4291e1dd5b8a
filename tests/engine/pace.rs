//! What a student sees of a run's pace: Stop ends a run after its last finished batch and
//! says where; the time-left estimate of a job, replayed over a recorded job, is within
//! ±30 % of what the job then took, from a tenth of the way on.
//!
//! The job's timeline is recorded once on a real run (`cargo test --release --test engine
//! -- --ignored record_a_job_timeline` writes `tests/fixtures/job_timeline.json`), so that
//! the replay is deterministic and does not depend on how busy the test machine is.

use std::cell::Cell;
use std::sync::OnceLock;

use normlab::backend::engine::Engine;
use normlab::data::Dataset;
use normlab::experiment::pace::{measure_cost, JobClock, RunWork, StepCost};
use normlab::experiment::{Event, ExperimentConfig, Observer, Outcome, Run};
use normlab::nn::{Architecture, ModelChoices};
use normlab::platform::now_millis;
use serde::{Deserialize, Serialize};

fn fashion_mnist() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/fashion-mnist.nlds.gz");
        Dataset::from_nlds_gz(&std::fs::read(path).expect("the shipped data")).expect("it parses")
    })
}

/// Asks to stop once `after` batch losses have come back.
struct StopAfter {
    after: usize,
    seen: Cell<usize>,
}

impl Observer for StopAfter {
    fn on_event(&mut self, event: &Event) {
        if let Event::Losses { losses, .. } = event {
            self.seen.set(self.seen.get() + losses.len());
        }
    }
    fn should_stop(&self) -> bool {
        self.seen.get() >= self.after
    }
}

#[test]
fn a_stopped_run_ends_after_its_last_finished_batch_and_says_where() {
    let config = ExperimentConfig { epochs: 3, train_subset: Some(640), test_subset: Some(100), ..Default::default() };
    let mut run = Run::new(Engine::cpu().backend(), &config, fashion_mnist()).expect("valid");
    let mut observer = StopAfter { after: 13, seen: Cell::new(0) };
    let outcome = pollster::block_on(run.train(&mut observer)).expect("trains");
    // 10 batches an epoch: the 13th read back is the 3rd of epoch 2 (chunks may hold a
    // few more than asked for; what was read is where it stopped).
    let seen = observer.seen.get();
    assert!(seen >= 13, "{seen}");
    assert_eq!(
        outcome,
        Outcome::Stopped { epoch: 1 + (seen - 1) / 10, batch: 1 + (seen - 1) % 10 },
        "after {seen} batches"
    );
}

/// What a job reported, with when (milliseconds from its start).
#[derive(Serialize, Deserialize)]
struct Timeline {
    cost: StepCost,
    runs: Vec<RecordedRun>,
    /// When the last run ended.
    end_millis: f64,
}

#[derive(Serialize, Deserialize)]
struct RecordedRun {
    work: RunWork,
    eval_rows_per_epoch: usize,
    start_millis: f64,
    /// (when, what): `steps` done so far in the run, or the start and end of an evaluation.
    marks: Vec<(f64, Mark)>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
enum Mark {
    Steps(usize),
    EvaluationStarted,
    EvaluationFinished,
}

struct Marker {
    origin: f64,
    marks: Vec<(f64, Mark)>,
}

impl Observer for Marker {
    fn on_event(&mut self, event: &Event) {
        let now = now_millis() - self.origin;
        match event {
            Event::Losses { first_step, losses, steps_per_epoch, epoch, .. } => {
                let _ = (steps_per_epoch, epoch);
                self.marks.push((now, Mark::Steps(first_step + losses.len())))
            }
            Event::Evaluating { .. } => self.marks.push((now, Mark::EvaluationStarted)),
            Event::Epoch(_) => self.marks.push((now, Mark::EvaluationFinished)),
            _ => {}
        }
    }
}

/// The job the timeline records: the CNN, whose end-of-epoch evaluations are a large part
/// of its time, at two batch sizes (so the second run's time is predicted from the cost
/// model, not measured).
fn job() -> Vec<ExperimentConfig> {
    let base = ExperimentConfig {
        model: ModelChoices { architecture: Architecture::notes_cnn(), ..ModelChoices::default() },
        train_subset: Some(1280),
        test_subset: Some(1000),
        epochs: 3,
        ..ExperimentConfig::default()
    };
    vec![ExperimentConfig { batch_size: 64, ..base.clone() }, ExperimentConfig { batch_size: 32, ..base }]
}

#[test]
#[ignore = "records the fixture the time-left test replays; run by hand on a quiet machine"]
fn record_a_job_timeline() {
    let data = fashion_mnist();
    let configs = job();
    let cost = pollster::block_on(measure_cost(&mut || Engine::cpu().backend(), &configs[0], data, &|_| false))
        .expect("measures");
    let origin = now_millis();
    let mut runs = Vec::new();
    for config in &configs {
        let start_millis = now_millis() - origin;
        let mut run = Run::new(Engine::cpu().backend(), config, data).expect("valid");
        let mut marker = Marker { origin, marks: Vec::new() };
        pollster::block_on(run.train(&mut marker)).expect("trains");
        runs.push(RecordedRun {
            work: RunWork::of(config, data.train.len, data.test.len, None),
            eval_rows_per_epoch: config.test_subset.expect("set"),
            start_millis,
            marks: marker.marks,
        });
    }
    let timeline = Timeline { cost, runs, end_millis: now_millis() - origin };
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/job_timeline.json");
    std::fs::write(path, serde_json::to_string_pretty(&timeline).expect("serializes")).expect("writes");
}

#[test]
fn the_time_left_is_within_30_percent_of_what_the_job_then_took() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/job_timeline.json");
    let timeline: Timeline =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the recorded job")).expect("parses");
    let works: Vec<RunWork> = timeline.runs.iter().map(|r| r.work).collect();
    let total_steps: usize = works.iter().map(|w| w.steps).sum();
    let mut clock = JobClock::new(works, timeline.cost, 0.0);
    let mut done_before = 0;
    let mut checked = 0;
    let mut worst = 0.0f64;
    for (index, run) in timeline.runs.iter().enumerate() {
        clock.start_run(index, run.start_millis);
        for &(at, mark) in &run.marks {
            match mark {
                Mark::Steps(steps) => {
                    clock.steps(steps, at);
                    let progress = (done_before + steps) as f64 / total_steps as f64;
                    if (0.1..0.95).contains(&progress) {
                        let predicted = clock.millis_left(at);
                        let actual = timeline.end_millis - at;
                        let error = (predicted - actual) / actual;
                        assert!(
                            error.abs() <= 0.3,
                            "at {:.0} % of the job ({at:.0} ms): {predicted:.0} ms left predicted, {actual:.0} ms taken",
                            progress * 100.0
                        );
                        checked += 1;
                        worst = worst.max(error.abs());
                    }
                }
                Mark::EvaluationStarted => clock.evaluation_started(at),
                Mark::EvaluationFinished => clock.evaluation_finished(run.eval_rows_per_epoch, at),
            }
        }
        done_before += run.work.steps;
    }
    assert!(checked >= 10, "only {checked} points of the job were checked");
    eprintln!("time left over {checked} points of the job: worst error {:.0} %", worst * 100.0);
}
