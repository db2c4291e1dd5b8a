//! Training from the page: one job at a time (a job is one or more runs that a live piece
//! starts together). Before a job the engine is picked (see [`super::device`]), measuring
//! the model's speed on each engine where that is not known yet. Runs report into the
//! shared [`RunStore`]; the job's progress (phase, steps, time elapsed and left) and a
//! Stop button are shared by every lesson, so a run keeps going, and stays stoppable, when
//! the student moves to another lesson.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use futures_util::future::join_all;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::device::{kind_of, Decision, DeviceState, Engine, EngineKind};
use super::fetch::load_dataset;
use super::i18n::{error_words, Lang};
use super::runs::RunStore;
use crate::backend::engine::AnyBackend;
use crate::chart::RunSeries;
use crate::data::Dataset;
use crate::error::NormlabError;
use crate::experiment::pace::{family_key, job_millis, measure_cost, JobClock, RunWork, StepCost};
use crate::experiment::presets::Preset;
use crate::experiment::remote::train_order;
use crate::experiment::stats::loss_noise;
use crate::experiment::{Event, ExperimentConfig, Observer, ProbeSpec};
use crate::platform;
use crate::records::{RunRecord, RunStatus};

mod job;
mod kept;
mod observer;
pub mod workers;

pub use job::{JobEvent, JobPhase, Progress, RunRequest, BOUNDARY_EXTENT, BOUNDARY_RESOLUTION};
pub use kept::TrainedModel;
pub use observer::job_error_words;
use observer::JobObserver;
use workers::EngineWorker;

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
        workers::follow_visibility();
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
            run_last: 1,
            threads: 1,
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
        // The whole job's time on each engine, the CPU's workers counted as lanes.
        let total = |engine: &Engine, cost: &StepCost| {
            let each: Vec<f64> = works.iter().map(|w| w.millis(cost)).collect();
            job_millis(&each, self.lanes(kind_of(engine), runs.len()))
        };
        costs.sort_by(|a, b| total(&a.0, &a.1).total_cmp(&total(&b.0, &b.1)));
        let decision = match costs.as_slice() {
            [(fast, fast_cost), (slow, slow_cost), ..] => Some(Decision {
                engine: kind_of(fast),
                model: model_words(config),
                other_slower: Some(total(slow, slow_cost) / total(fast, fast_cost).max(1e-9)),
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

    /// How many of a job's `runs` train at once on `engine`: the CPU's workers, one run at a
    /// time on the GPU.
    pub fn lanes(&self, engine: EngineKind, runs: usize) -> usize {
        match engine {
            EngineKind::Cpu => workers::cpu_lanes(runs, self.device.asked_workers()),
            EngineKind::WebGpu => 1,
        }
    }

    /// The cost of `config`'s model family on `engine`: kept from before, or measured now.
    async fn cost_of(
        &self,
        engine: &Engine,
        config: &ExperimentConfig,
        dataset: &Rc<Dataset>,
        enough: &dyn Fn(f64) -> bool,
    ) -> Result<StepCost, NormlabError> {
        let family = family_key(config, dataset);
        // A lower bound kept from before will do when it already settles the question.
        if let Some(cost) = self.device.cost(kind_of(engine), &family).filter(|c| c.complete || enough(c.fixed_millis))
        {
            return Ok(cost);
        }
        self.progress.update(|p| p.phase = JobPhase::Measuring);
        let cost = self.measure(engine, config, dataset, enough).await?;
        self.device.remember_cost(kind_of(engine), &family, cost);
        Ok(cost)
    }

    /// Times `engine` on `config`'s model: the CPU in an engine worker, where its jobs
    /// train (the page's thread only where no worker starts), the GPU on the page's thread.
    async fn measure(
        &self,
        engine: &Engine,
        config: &ExperimentConfig,
        dataset: &Rc<Dataset>,
        enough: &dyn Fn(f64) -> bool,
    ) -> Result<StepCost, NormlabError> {
        if kind_of(engine) == EngineKind::Cpu && self.device.asked_workers() != Some(0) {
            if let Ok(worker) = EngineWorker::start().await {
                return worker.measure_cost(config, dataset).await;
            }
        }
        measure_cost(&mut || engine.backend(), config, dataset, enough).await
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
                    let cost = trainer.measure(&engine, &config, &dataset, &enough).await;
                    if let Ok(cost) = cost {
                        trainer.device.remember_cost(kind_of(&engine), &family, cost);
                        cpu_cost = cpu_cost.or(Some(cost));
                    }
                }
            }
            trainer.measuring.get_value().set(false);
        });
    }

    /// Trains `runs` (the job's runs from index `first` on): on the CPU in engine workers,
    /// several at once where the device has the cores, in the job's order; on the GPU one
    /// after another on the page's thread. An error names the run (counted within `runs`)
    /// it ended; the runs in progress then finish and no new one starts.
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
        let total: usize = runs
            .iter()
            .zip(&datasets)
            .map(|(r, d)| r.config.steps_per_epoch(r.config.training_pool(d)) * r.config.epochs)
            .sum();
        self.progress.update(|p| p.steps_total = total);
        let (engine, cost) = self.choose_engine(runs, &datasets).await.map_err(|error| JobError { run: 0, error })?;
        let cost =
            cost.unwrap_or(StepCost { fixed_millis: 1.0, per_row_millis: 0.0, eval_row_millis: 0.0, complete: false });
        // The CPU's runs go to workers; where none can start, the page trains them itself.
        let workers = if kind_of(&engine) == EngineKind::Cpu {
            let wanted = match self.device.asked_workers() {
                Some(0) => 0,
                asked => workers::workers_for(runs.len(), asked),
            };
            let started = join_all((0..wanted).map(|_| EngineWorker::start())).await;
            started.into_iter().filter_map(Result::ok).map(Rc::new).collect()
        } else {
            Vec::new()
        };
        let lanes = workers.len().max(1);
        let job = JobShared {
            group,
            preset,
            first,
            stop,
            on_event,
            engine: &engine,
            clock: Rc::new(RefCell::new(JobClock::new(works, cost, platform::now_millis()).with_lanes(lanes))),
            steps_done: Rc::new(RefCell::new(vec![0; runs.len()])),
            active: RefCell::new(BTreeSet::new()),
            queue: RefCell::new((0..runs.len()).collect()),
            failure: RefCell::new(None),
            last_flush: Rc::new(Cell::new(platform::now_millis())),
        };
        self.progress.update(|p| {
            p.engine = Some(kind_of(&engine));
            p.threads = if workers.is_empty() { 1 } else { lanes };
            p.millis_left = Some(job.clock.borrow().predicted_millis());
            p.updated_millis = platform::now_millis();
        });
        if workers.is_empty() {
            while let Some(index) = job.next_run() {
                let place = Place::Page(engine.backend());
                if let Err(error) = self.train_run(&job, index, &runs[index], &datasets[index], place).await {
                    job.fail(index, error);
                }
            }
        } else {
            // One lane per worker, each taking the job's next run when its last one ends.
            join_all(workers.into_iter().map(|worker| self.lane(&job, worker, runs, &datasets))).await;
        }
        match job.failure.into_inner() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// One worker's share of a job: runs one after another until none is left. A run that
    /// keeps its model keeps the worker too, and the lane goes on with a new one.
    async fn lane(&self, job: &JobShared<'_>, worker: Rc<EngineWorker>, runs: &[RunRequest], datasets: &[Rc<Dataset>]) {
        let mut worker = Some(worker);
        while let Some(index) = job.next_run() {
            let current = match worker.take() {
                Some(worker) => worker,
                None => match EngineWorker::start().await {
                    Ok(worker) => Rc::new(worker),
                    Err(reason) => {
                        job.fail(index, NormlabError::Fetch { what: "the CPU engine's worker".into(), reason });
                        continue;
                    }
                },
            };
            let place = Place::Worker(current.clone());
            match self.train_run(job, index, &runs[index], &datasets[index], place).await {
                Ok(kept) => {
                    if !kept {
                        worker = Some(current);
                    }
                }
                Err(error) => job.fail(index, error),
            }
        }
    }

    /// Trains run `index` of the job where `place` says, with its record, its events and
    /// its share of the progress. Ok(true) when the model was kept for the piece.
    async fn train_run(
        &self,
        job: &JobShared<'_>,
        index: usize,
        request: &RunRequest,
        data: &Rc<Dataset>,
        place: Place,
    ) -> Result<bool, NormlabError> {
        let id = self.store.next_id();
        let series = RunSeries { colour: self.store.next_colour(job.group), ..RunSeries::new(request.label.clone()) };
        self.store.add(RunRecord {
            id,
            group: job.group.to_string(),
            config: request.config.clone(),
            device: match job.engine.adapter() {
                Some(adapter) => format!("WebGPU: {adapter}"),
                None => "CPU".to_string(),
            },
            engine: Some(kind_of(job.engine).code().to_string()),
            trial: job.preset == Some(Preset::Smoke),
            series,
            status: RunStatus::Running,
            started_ms: browser::epoch_millis(),
            loss_noise: None,
        });
        // Stored at once (as interrupted, see `records::to_json`), so that a reload or a
        // closed tab mid-run leaves a record of it; saved again at every epoch.
        self.store.save();
        let job_run = job.first + index;
        (job.on_event)(JobEvent::Started { run: job_run, record: id });
        job.clock.borrow_mut().start_run(index, platform::now_millis());
        job.active.borrow_mut().insert(index);
        if job.active.borrow().len() == 1 {
            // The only run in training: its model is being built.
            self.progress.update(|p| p.phase = JobPhase::Building);
        }
        self.show_active(job, request.config.epochs);
        let mut observer = JobObserver {
            trainer: *self,
            record: id,
            index,
            job_run,
            stop: job.stop.clone(),
            pending: Vec::new(),
            last_flush: job.last_flush.clone(),
            steps_done: job.steps_done.clone(),
            clock: job.clock.clone(),
            eval_rows: eval_rows_per_epoch(&request.config, request.probes.as_ref(), data),
            on_event: job.on_event,
        };
        let order = request.order();
        let trained = match place {
            Place::Page(backend) => train_order(backend, &order, data, &mut observer)
                .await
                .map(|(result, run)| (result, run.map(TrainedModel::new))),
            Place::Worker(worker) => worker.train(&order, data, &mut observer).await.map(|result| {
                let kept = result.kept.then(|| TrainedModel::in_worker(worker, data.features().saturating_sub(1)));
                (result, kept)
            }),
        };
        observer.flush();
        job.clock.borrow_mut().finish_run(index);
        job.active.borrow_mut().remove(&index);
        self.show_active(job, request.config.epochs);
        let (result, kept) = match trained {
            Ok(trained) => trained,
            Err(error) => {
                let (reason, reason_zh) = (error_words(&error, Lang::En), error_words(&error, Lang::Zh));
                self.store.update(id, |r| r.status = RunStatus::Failed { reason, reason_zh: Some(reason_zh) });
                return Err(error);
            }
        };
        self.store.update(id, |r| {
            let last_epoch = (r.series.epochs.len().max(1) - 1) as f64;
            let losses: Vec<f32> = r.series.batch_losses.iter().filter(|p| p.0 > last_epoch).map(|p| p.1).collect();
            r.loss_noise = Some(loss_noise(&losses)).filter(|n| n.is_finite());
            r.status = RunStatus::Done { outcome: result.outcome.clone() };
        });
        if !result.names.is_empty() {
            (job.on_event)(JobEvent::Names { run: job_run, names: result.names });
        }
        if let Some(cells) = result.boundary {
            (job.on_event)(JobEvent::Boundary { cells });
        }
        let keeps = kept.is_some();
        if let Some(model) = kept {
            (job.on_event)(JobEvent::Trained { run: job_run, model });
        }
        self.store.save();
        Ok(keeps)
    }

    /// The progress's runs in training now (and the epoch count when one trains).
    fn show_active(&self, job: &JobShared<'_>, epochs: usize) {
        let active = job.active.borrow();
        let (Some(&low), Some(&high)) = (active.first(), active.last()) else { return };
        let stopping = job.stop.get();
        self.progress.update(|p| {
            if stopping {
                p.phase = JobPhase::Stopping;
            }
            p.run = low + 1;
            p.run_last = high + 1;
            if low == high {
                p.epochs = epochs;
                p.epoch = p.epoch.max(1);
            }
            p.steps_done = job.steps_done.borrow().iter().sum();
        });
    }
}

/// Where one run trains.
enum Place {
    /// On the page's thread, on this backend (the GPU, or the CPU where no worker starts).
    Page(AnyBackend),
    /// In an engine worker.
    Worker(Rc<EngineWorker>),
}

/// What the runs of one job share while they train.
struct JobShared<'a> {
    group: &'a str,
    preset: Option<Preset>,
    /// Index, within the original job, of the first run here.
    first: usize,
    stop: &'a Rc<Cell<bool>>,
    on_event: &'a dyn Fn(JobEvent),
    engine: &'a Engine,
    clock: Rc<RefCell<JobClock>>,
    /// Steps done by each run (they add up to the job's).
    steps_done: Rc<RefCell<Vec<usize>>>,
    /// The runs training now.
    active: RefCell<BTreeSet<usize>>,
    /// The runs not started yet, in the job's order.
    queue: RefCell<VecDeque<usize>>,
    /// The first run that failed, by index: the job ends with its error.
    failure: RefCell<Option<JobError>>,
    /// When the job's runs last redrew their records (see [`JobObserver`]).
    last_flush: Rc<Cell<f64>>,
}

impl JobShared<'_> {
    /// The next run to start, unless the student stopped the job or a run failed.
    fn next_run(&self) -> Option<usize> {
        if self.stop.get() || self.failure.borrow().is_some() {
            return None;
        }
        self.queue.borrow_mut().pop_front()
    }

    fn fail(&self, run: usize, error: NormlabError) {
        let mut failure = self.failure.borrow_mut();
        if failure.as_ref().is_none_or(|f| run < f.run) {
            *failure = Some(JobError { run, error });
        }
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
