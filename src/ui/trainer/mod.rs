//! Training from the page: one job at a time (a job is one or more runs that a live piece
//! starts together). Before a job the engine is picked (see [`super::device`]), measuring
//! the model's speed on each engine where that is not known yet. Runs report into the
//! shared [`RunStore`]; the job's progress (phase, steps, time elapsed and left) and a
//! Stop button are shared by every lesson, so a run keeps going, and stays stoppable, when
//! the student moves to another lesson.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::device::{kind_of, Decision, DeviceState, Engine};
use super::fetch::load_dataset;
use super::i18n::{error_words, Lang};
use super::runs::RunStore;
use crate::backend::engine::AnyBackend;
use crate::chart::RunSeries;
use crate::data::Dataset;
use crate::error::NormlabError;
use crate::experiment::pace::{family_key, measure_cost, JobClock, RunWork, StepCost};
use crate::experiment::presets::Preset;
use crate::experiment::stats::loss_noise;
use crate::experiment::{decision_grid, sample_names, Event, ExperimentConfig, Observer, Outcome, ProbeSpec, Run};
use crate::platform;
use crate::records::{RunRecord, RunStatus};

mod job;
mod kept;
mod observer;

pub use job::{JobEvent, JobPhase, Progress, RunRequest, BOUNDARY_EXTENT, BOUNDARY_RESOLUTION};
pub use kept::TrainedModel;
pub use observer::job_error_words;
use observer::JobObserver;

/// The longest the page waits between redraws of a training run's charts.
const FLUSH_MILLIS: f64 = 250.0;

/// The part of a job a lost device interrupted, kept so the student can train it again.
#[derive(Clone)]
struct Unfinished {
    group: String,
    preset: Option<Preset>,
    runs: Vec<RunRequest>,
    /// Index, within the original job, of the first run here.
    first: usize,
    on_event: Rc<dyn Fn(JobEvent)>,
}

/// Why a job ended early: the error, and the index of the run it ended.
struct JobError {
    run: usize,
    error: NormlabError,
}

#[derive(Clone, Copy)]
pub struct Trainer {
    /// The group (live piece) whose job is training, if any.
    pub busy: RwSignal<Option<String>>,
    pub progress: RwSignal<Progress>,
    /// Ticks four times a second while a job runs, so that elapsed and remaining time move.
    pub tick: RwSignal<u64>,
    /// The last message for a group: (group, error, is_error).
    pub message: RwSignal<Option<(String, NormlabError, bool)>>,
    stop: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    /// What a lost device interrupted (see [`Trainer::restart`]).
    unfinished: StoredValue<Option<Unfinished>, LocalStorage>,
    /// The group whose job a lost device interrupted, while it can be trained again.
    pub restartable: RwSignal<Option<String>>,
    /// Measurements asked for by estimates, waiting for the page to be idle.
    wanted: StoredValue<Rc<RefCell<Vec<ExperimentConfig>>>, LocalStorage>,
    measuring: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    device: DeviceState,
    store: RunStore,
}

impl Trainer {
    pub fn new(device: DeviceState, store: RunStore) -> Self {
        let trainer = Trainer {
            busy: RwSignal::new(None),
            progress: RwSignal::new(Progress::default()),
            tick: RwSignal::new(0),
            message: RwSignal::new(None),
            stop: StoredValue::new_local(Rc::new(Cell::new(false))),
            unfinished: StoredValue::new_local(None),
            restartable: RwSignal::new(None),
            wanted: StoredValue::new_local(Rc::default()),
            measuring: StoredValue::new_local(Rc::default()),
            device,
            store,
        };
        // A quarter-second tick keeps the shown elapsed second within a
        // quarter of the true one even when one timer fires late.
        browser::every(250, move || {
            if trainer.busy.get_untracked().is_some() {
                trainer.tick.update(|t| *t += 1);
            }
        });
        // Measurements asked for before WebGPU answered start once it has.
        Effect::new(move |_| {
            if device.ready() {
                trainer.measure_wanted();
            }
        });
        trainer
    }

    pub fn is_busy(&self) -> bool {
        self.busy.get().is_some()
    }

    /// Asks the job in progress to stop: the page says "stopping…" at once, and the run
    /// ends within a fraction of a second, keeping what it finished.
    pub fn stop(&self) {
        self.stop.get_value().set(true);
        self.progress.update(|p| p.phase = JobPhase::Stopping);
    }

    /// The message for `group`, if the last one was its.
    pub fn message_for(&self, group: &str) -> Option<(NormlabError, bool)> {
        self.message.get().filter(|(g, _, _)| g == group).map(|(_, error, is_error)| (error, is_error))
    }

    /// Starts `runs` for `group` one after another, at `preset` (None: the playground's own
    /// settings). Refused (false) while another job runs.
    pub fn start(
        &self,
        group: &str,
        preset: Option<Preset>,
        runs: Vec<RunRequest>,
        on_event: impl Fn(JobEvent) + 'static,
    ) -> bool {
        self.start_at(group, preset, runs, 0, Rc::new(on_event))
    }

    /// Trains again what a lost device interrupted: the interrupted run from its start and
    /// the job's runs after it, with the same seeds (so the same curves), on the device
    /// found since.
    pub fn restart(&self) -> bool {
        match self.unfinished.get_value() {
            Some(job) => self.start_at(&job.group, job.preset, job.runs, job.first, job.on_event),
            None => false,
        }
    }

    fn start_at(
        &self,
        group: &str,
        preset: Option<Preset>,
        runs: Vec<RunRequest>,
        first: usize,
        on_event: Rc<dyn Fn(JobEvent)>,
    ) -> bool {
        if self.busy.get_untracked().is_some() || runs.is_empty() {
            return false;
        }
        let stop = Rc::new(Cell::new(false));
        self.stop.set_value(stop.clone());
        self.busy.set(Some(group.to_string()));
        self.message.set(None);
        self.unfinished.set_value(None);
        self.restartable.set(None);
        let now = platform::now_millis();
        self.progress.set(Progress {
            runs: runs.len(),
            run: 1,
            started_millis: now,
            paused_before: platform::paused_millis(),
            updated_millis: now,
            ..Progress::default()
        });
        let trainer = *self;
        let group = group.to_string();
        spawn_local(async move {
            // A background measurement in progress finishes first (one engine user at a time).
            if trainer.measuring.get_value().get() {
                trainer.progress.update(|p| p.phase = JobPhase::Measuring);
            }
            while trainer.measuring.get_value().get() {
                platform::sleep_millis(50).await;
            }
            let result = trainer.run_job(&group, preset, &runs, first, &stop, on_event.as_ref()).await;
            if let Err(JobError { run, error }) = result {
                if let NormlabError::DeviceLost(reason) = &error {
                    trainer.device.recover(reason.clone());
                    trainer.unfinished.set_value(Some(Unfinished {
                        group: group.clone(),
                        preset,
                        runs: runs[run..].to_vec(),
                        first: first + run,
                        on_event: on_event.clone(),
                    }));
                    trainer.restartable.set(Some(group.clone()));
                }
                trainer.message.set(Some((group.clone(), error, true)));
            }
            trainer.store.save();
            trainer.busy.set(None);
            trainer.measure_wanted();
        });
        true
    }

    /// Picks the engine for a job and returns it with its measured cost for the job's
    /// model: the student's choice, or in automatic mode the faster one as measured (from
    /// earlier measurements kept in the browser, or measured now).
    async fn choose_engine(
        &self,
        runs: &[RunRequest],
        datasets: &[Rc<Dataset>],
    ) -> Result<(Engine, Option<StepCost>), NormlabError> {
        let candidates = self.device.candidates();
        let config = &runs[0].config;
        let dataset = &datasets[0];
        let works: Vec<RunWork> = runs
            .iter()
            .zip(datasets)
            .map(|(r, d)| RunWork::of(&r.config, r.config.training_pool(d), d.test.len, r.probes.as_ref()))
            .collect();
        let largest_batch = runs.iter().map(|r| r.config.batch_size).max().unwrap_or(1);
        let mut costs: Vec<(Engine, StepCost)> = Vec::new();
        // The CPU first: it is quick to measure, and tells when a slow GPU can stop early.
        for engine in candidates.into_iter().rev() {
            let cpu_step = costs.first().map(|(_, c)| c.step_millis(largest_batch));
            // Faster than the other engine at the largest batch by a wide margin: done.
            let enough = move |small_millis: f64| cpu_step.is_some_and(|cpu| small_millis > 2.0 * cpu);
            let cost = self.cost_of(&engine, config, dataset, &enough).await?;
            costs.push((engine, cost));
        }
        let total = |cost: &StepCost| works.iter().map(|w| w.millis(cost)).sum::<f64>();
        costs.sort_by(|a, b| total(&a.1).total_cmp(&total(&b.1)));
        let decision = match costs.as_slice() {
            [(fast, fast_cost), (_, slow_cost), ..] => Some(Decision {
                engine: kind_of(fast),
                model: model_words(config),
                other_slower: Some(total(slow_cost) / total(fast_cost).max(1e-9)),
                at_least: !slow_cost.complete,
            }),
            [(only, _)] => Some(Decision {
                engine: kind_of(only),
                model: model_words(config),
                other_slower: None,
                at_least: false,
            }),
            [] => None,
        };
        self.device.decision.set(decision);
        let (engine, cost) = costs.into_iter().next().expect("at least the CPU");
        Ok((engine, Some(cost)))
    }

    /// The cost of `config`'s model family on `engine`: kept from before, or measured now.
    async fn cost_of(
        &self,
        engine: &Engine,
        config: &ExperimentConfig,
        dataset: &Dataset,
        enough: &dyn Fn(f64) -> bool,
    ) -> Result<StepCost, NormlabError> {
        let family = family_key(config, dataset);
        // A lower bound kept from before will do when it already settles the question.
        if let Some(cost) = self.device.cost(kind_of(engine), &family).filter(|c| c.complete || enough(c.fixed_millis))
        {
            return Ok(cost);
        }
        self.progress.update(|p| p.phase = JobPhase::Measuring);
        let cost = measure_cost(&mut || engine.backend(), config, dataset, enough).await?;
        self.device.remember_cost(kind_of(engine), &family, cost);
        Ok(cost)
    }

    /// Asks for the cost of `config`'s model family on the engines the next job may use,
    /// measured when the page is idle (no job training). Estimates read the results from
    /// [`DeviceState::costs`].
    pub fn want_costs(&self, config: ExperimentConfig) {
        self.wanted.get_value().borrow_mut().push(config);
        self.measure_wanted();
    }

    fn measure_wanted(&self) {
        let measuring = self.measuring.get_value();
        if measuring.get() || self.busy.get_untracked().is_some() || !self.device.ready() {
            return;
        }
        measuring.set(true);
        let trainer = *self;
        spawn_local(async move {
            loop {
                let next = trainer.wanted.get_value().borrow_mut().pop();
                let Some(config) = next else { break };
                if trainer.busy.get_untracked().is_some() {
                    trainer.wanted.get_value().borrow_mut().push(config);
                    break;
                }
                let Ok(dataset) = load_dataset(config.dataset).await else { continue };
                let family = family_key(&config, &dataset);
                // Every engine there is, whatever the student chose (the choice may change):
                // the CPU first, then the GPU, which stops early when it is clearly slower.
                let mut engines = vec![Engine::cpu()];
                engines.extend(trainer.device.gpu_engine());
                let mut cpu_cost = None;
                for engine in engines {
                    if let Some(cost) = trainer.device.cost(kind_of(&engine), &family) {
                        cpu_cost = cpu_cost.or(Some(cost));
                        continue;
                    }
                    let cpu_step = cpu_cost.map(|c: StepCost| c.step_millis(crate::experiment::pace::PROBE_BATCHES.1));
                    let enough = move |small: f64| cpu_step.is_some_and(|cpu| small > 2.0 * cpu);
                    let cost = measure_cost(&mut || engine.backend(), &config, &dataset, &enough).await;
                    if let Ok(cost) = cost {
                        trainer.device.remember_cost(kind_of(&engine), &family, cost);
                        cpu_cost = cpu_cost.or(Some(cost));
                    }
                }
            }
            trainer.measuring.get_value().set(false);
        });
    }

    /// Trains `runs` (the job's runs from index `first` on) in order; an error names the
    /// run (counted within `runs`) it ended.
    async fn run_job(
        &self,
        group: &str,
        preset: Option<Preset>,
        runs: &[RunRequest],
        first: usize,
        stop: &Rc<Cell<bool>>,
        on_event: &dyn Fn(JobEvent),
    ) -> Result<(), JobError> {
        // Load every data set first: the total number of steps is known before the first.
        let mut datasets = Vec::new();
        for (run, request) in runs.iter().enumerate() {
            datasets.push(load_dataset(request.config.dataset).await.map_err(|error| JobError { run, error })?);
        }
        let works: Vec<RunWork> = runs
            .iter()
            .zip(&datasets)
            .map(|(r, d)| RunWork::of(&r.config, r.config.training_pool(d), d.test.len, r.probes.as_ref()))
            .collect();
        let steps: Vec<usize> = runs
            .iter()
            .zip(&datasets)
            .map(|(r, d)| r.config.steps_per_epoch(r.config.training_pool(d)) * r.config.epochs)
            .collect();
        let total: usize = steps.iter().sum();
        self.progress.update(|p| p.steps_total = total);
        let (engine, cost) = self.choose_engine(runs, &datasets).await.map_err(|error| JobError { run: 0, error })?;
        let cost =
            cost.unwrap_or(StepCost { fixed_millis: 1.0, per_row_millis: 0.0, eval_row_millis: 0.0, complete: false });
        let clock = Rc::new(RefCell::new(JobClock::new(works.clone(), cost, platform::now_millis())));
        self.progress.update(|p| {
            p.engine = Some(kind_of(&engine));
            p.millis_left = Some(clock.borrow().predicted_millis());
            p.updated_millis = platform::now_millis();
        });
        let mut done_before = 0;
        for (index, (request, data)) in runs.iter().zip(&datasets).enumerate() {
            if stop.get() {
                break;
            }
            let id = self.store.next_id();
            let series = RunSeries { colour: self.store.next_colour(group), ..RunSeries::new(request.label.clone()) };
            self.store.add(RunRecord {
                id,
                group: group.to_string(),
                config: request.config.clone(),
                device: match engine.adapter() {
                    Some(adapter) => format!("WebGPU: {adapter}"),
                    None => "CPU".to_string(),
                },
                engine: Some(kind_of(&engine).code().to_string()),
                trial: preset == Some(Preset::Smoke),
                series,
                status: RunStatus::Running,
                started_ms: browser::epoch_millis(),
                loss_noise: None,
            });
            // Stored at once (as interrupted, see `records::to_json`), so that a reload or a
            // closed tab mid-run leaves a record of it; saved again at every epoch.
            self.store.save();
            on_event(JobEvent::Started { run: first + index, record: id });
            let now = platform::now_millis();
            clock.borrow_mut().start_run(index, now);
            self.progress.update(|p| {
                p.phase = if stop.get() { JobPhase::Stopping } else { JobPhase::Building };
                p.run = index + 1;
                p.epoch = 1;
                p.epochs = request.config.epochs;
                p.steps_done = done_before;
            });
            let mut observer = JobObserver {
                trainer: *self,
                record: id,
                job_run: first + index,
                stop: stop.clone(),
                pending: Vec::new(),
                last_flush: platform::now_millis(),
                done_before,
                clock: clock.clone(),
                eval_rows: eval_rows_per_epoch(&request.config, request.probes.as_ref(), data),
                on_event,
            };
            let result = train_one(engine.backend(), request, data, &mut observer).await;
            observer.flush();
            done_before += steps[index];
            match result {
                Ok(Trained { outcome, names, boundary, kept }) => {
                    self.store.update(id, |r| {
                        let last_epoch = (r.series.epochs.len().max(1) - 1) as f64;
                        let losses: Vec<f32> =
                            r.series.batch_losses.iter().filter(|p| p.0 > last_epoch).map(|p| p.1).collect();
                        r.loss_noise = Some(loss_noise(&losses)).filter(|n| n.is_finite());
                        r.status = RunStatus::Done { outcome: outcome.clone() };
                    });
                    if !names.is_empty() {
                        on_event(JobEvent::Names { run: first + index, names });
                    }
                    if let Some(cells) = boundary {
                        on_event(JobEvent::Boundary { cells });
                    }
                    if let Some(model) = kept {
                        on_event(JobEvent::Trained { run: first + index, model });
                    }
                }
                Err(error) => {
                    let (reason, reason_zh) = (error_words(&error, Lang::En), error_words(&error, Lang::Zh));
                    self.store.update(id, |r| r.status = RunStatus::Failed { reason, reason_zh: Some(reason_zh) });
                    return Err(JobError { run: index, error });
                }
            }
            self.store.save();
        }
        Ok(())
    }
}

/// The model of a configuration in words, in both languages, for the device panel.
fn model_words(config: &ExperimentConfig) -> (String, String) {
    use crate::nn::Architecture;
    match &config.model.architecture {
        Architecture::Mlp { .. } => ("the MLP".into(), " MLP ".into()),
        Architecture::Cnn { .. } => ("the CNN".into(), " CNN ".into()),
        Architecture::CharMlp { .. } => ("the character model".into(), "字符模型".into()),
        Architecture::Transformer { .. } => ("the transformer".into(), " Transformer ".into()),
    }
}

/// Rows evaluated at the end of each epoch: the test split, and the training split where
/// the probes measure its accuracy in eval mode.
fn eval_rows_per_epoch(config: &ExperimentConfig, probes: Option<&ProbeSpec>, data: &Dataset) -> usize {
    let test = config.test_subset.map_or(data.test.len, |n| n.min(data.test.len));
    let pool = config.training_pool(data);
    let train = config.train_subset.map_or(pool, |n| n.min(pool));
    test + if probes.is_some_and(|p| p.train_accuracy_in_eval) { train } else { 0 }
}

/// What one run of a job leaves besides its record.
struct Trained {
    outcome: Outcome,
    names: Vec<String>,
    boundary: Option<Vec<(usize, f32)>>,
    kept: Option<TrainedModel>,
}

async fn train_one(
    backend: AnyBackend,
    request: &RunRequest,
    data: &Dataset,
    observer: &mut JobObserver<'_>,
) -> Result<Trained, NormlabError> {
    let mut run = Run::new(backend, &request.config, data)?;
    if let Some(spec) = &request.probes {
        run.set_probes(spec.clone());
    }
    observer.trainer.progress.update(|p| {
        if p.phase != JobPhase::Stopping {
            p.phase = JobPhase::Training;
        }
    });
    let outcome = run.train(observer).await?;
    // A stopped run leaves work queued; what it finished is all there is to show.
    let usable = matches!(outcome, Outcome::Finished { .. });
    let names = if request.sample_names > 0 && usable {
        sample_names(&mut run, request.sample_names, request.config.seed).await?
    } else {
        Vec::new()
    };
    let boundary = if request.boundary && usable {
        Some(decision_grid(&mut run, BOUNDARY_EXTENT, BOUNDARY_RESOLUTION).await?)
    } else {
        None
    };
    let kept = (request.keep_model && usable).then(|| TrainedModel::new(run));
    Ok(Trained { outcome, names, boundary, kept })
}
