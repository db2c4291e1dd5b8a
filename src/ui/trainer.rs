//! Training from the page: one job at a time (a job is one or more runs that a live piece
//! starts together), on the engine the device panel found. Runs report into the shared
//! [`RunStore`]; the job's progress (steps per second, time left) and a Stop button are
//! shared by every lesson, so a run keeps going, and stays stoppable, when the student
//! moves to another lesson.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::device::{DeviceState, Engine};
use super::fetch::load_dataset;
use super::runs::RunStore;
use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::GpuBackend;
use crate::backend::Backend;
use crate::chart::RunSeries;
use crate::data::Dataset;
use crate::error::NormlabError;
use crate::experiment::stats::loss_noise;
use crate::experiment::{
    decision_grid, sample_names, Event, ExperimentConfig, Observer, Outcome, ProbeReport, ProbeSpec, Run,
};
use crate::platform;
use crate::records::{RunRecord, RunStatus};

/// The longest the page waits between redraws of a training run's charts.
const FLUSH_MILLIS: f64 = 250.0;

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
}

impl RunRequest {
    pub fn new(config: ExperimentConfig, label: String) -> Self {
        RunRequest { config, label, probes: None, sample_names: 0, boundary: false }
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
}

/// How far the current job is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub steps_done: usize,
    pub steps_total: usize,
    pub steps_per_sec: f64,
    pub secs_left: f64,
    /// Run of the job being trained (from 1) and how many runs it has.
    pub run: usize,
    pub runs: usize,
}

/// The part of a job a lost device interrupted, kept so the student can train it again.
#[derive(Clone)]
struct Unfinished {
    group: String,
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
    /// The last message for a group: (group, text, is_error).
    pub message: RwSignal<Option<(String, String, bool)>>,
    stop: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    /// What a lost device interrupted (see [`Trainer::restart`]).
    unfinished: StoredValue<Option<Unfinished>, LocalStorage>,
    /// The group whose job a lost device interrupted, while it can be trained again.
    pub restartable: RwSignal<Option<String>>,
    device: DeviceState,
    store: RunStore,
}

impl Trainer {
    pub fn new(device: DeviceState, store: RunStore) -> Self {
        Trainer {
            busy: RwSignal::new(None),
            progress: RwSignal::new(Progress::default()),
            message: RwSignal::new(None),
            stop: StoredValue::new_local(Rc::new(Cell::new(false))),
            unfinished: StoredValue::new_local(None),
            restartable: RwSignal::new(None),
            device,
            store,
        }
    }

    pub fn is_busy(&self) -> bool {
        self.busy.get().is_some()
    }

    pub fn stop(&self) {
        self.stop.get_value().set(true);
    }

    /// The message for `group`, if the last one was its.
    pub fn message_for(&self, group: &str) -> Option<(String, bool)> {
        self.message.get().filter(|(g, _, _)| g == group).map(|(_, text, error)| (text, error))
    }

    /// Starts `runs` for `group` one after another. Refused (false) while another job runs.
    pub fn start(&self, group: &str, runs: Vec<RunRequest>, on_event: impl Fn(JobEvent) + 'static) -> bool {
        self.start_at(group, runs, 0, Rc::new(on_event))
    }

    /// Trains again what a lost device interrupted: the interrupted run from its start and
    /// the job's runs after it, with the same seeds (so the same curves), on the device
    /// found since.
    pub fn restart(&self) -> bool {
        match self.unfinished.get_value() {
            Some(job) => self.start_at(&job.group, job.runs, job.first, job.on_event),
            None => false,
        }
    }

    fn start_at(&self, group: &str, runs: Vec<RunRequest>, first: usize, on_event: Rc<dyn Fn(JobEvent)>) -> bool {
        if self.busy.get_untracked().is_some() || runs.is_empty() {
            return false;
        }
        let stop = Rc::new(Cell::new(false));
        self.stop.set_value(stop.clone());
        self.busy.set(Some(group.to_string()));
        self.message.set(None);
        self.unfinished.set_value(None);
        self.restartable.set(None);
        self.progress.set(Progress { runs: runs.len(), run: 1, ..Progress::default() });
        let trainer = *self;
        let group = group.to_string();
        spawn_local(async move {
            let result = trainer.run_job(&group, &runs, first, &stop, on_event.as_ref()).await;
            if let Err(JobError { run, error }) = result {
                let text = match &error {
                    NormlabError::DeviceLost(reason) => {
                        trainer.device.recover(reason.clone());
                        trainer.unfinished.set_value(Some(Unfinished {
                            group: group.clone(),
                            runs: runs[run..].to_vec(),
                            first: first + run,
                            on_event: on_event.clone(),
                        }));
                        trainer.restartable.set(Some(group.clone()));
                        format!(
                            "The GPU device was lost ({reason}). The run in progress was interrupted; finished runs are kept. The lab is asking for a new device (the CPU if none comes); then you can train the interrupted runs again."
                        )
                    }
                    other => other.to_string(),
                };
                trainer.message.set(Some((group.clone(), text, true)));
            }
            trainer.store.save();
            trainer.busy.set(None);
        });
        true
    }

    /// Trains `runs` (the job's runs from index `first` on) in order; an error names the
    /// run (counted within `runs`) it ended.
    async fn run_job(
        &self,
        group: &str,
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
        let steps: Vec<usize> =
            runs.iter().zip(&datasets).map(|(r, d)| r.config.steps_per_epoch(d.train.len) * r.config.epochs).collect();
        let total: usize = steps.iter().sum();
        let started = platform::now_millis();
        let paused_before = platform::paused_millis();
        let mut done_before = 0;
        for (index, (request, data)) in runs.iter().zip(&datasets).enumerate() {
            if stop.get() {
                break;
            }
            let engine = self.device.engine().unwrap_or(Engine::Cpu);
            let device_name = match &engine {
                Engine::Gpu(ctx) => format!("GPU: {}", ctx.adapter),
                Engine::Cpu => "CPU".to_string(),
            };
            let id = self.store.next_id();
            let series = RunSeries { colour: self.store.next_colour(group), ..RunSeries::new(request.label.clone()) };
            self.store.add(RunRecord {
                id,
                group: group.to_string(),
                config: request.config.clone(),
                device: device_name,
                series,
                status: RunStatus::Running,
                started_ms: browser::epoch_millis(),
                loss_noise: None,
            });
            // Stored at once (as interrupted, see `records::to_json`), so that a reload or a
            // closed tab mid-run leaves a record of it; saved again at every epoch.
            self.store.save();
            on_event(JobEvent::Started { run: first + index, record: id });
            let mut observer = JobObserver {
                trainer: *self,
                record: id,
                run: index,
                job_run: first + index,
                stop: stop.clone(),
                pending: Vec::new(),
                last_flush: platform::now_millis(),
                done_before,
                total,
                runs: runs.len(),
                started,
                paused_before,
                on_event,
            };
            let result = match engine {
                Engine::Gpu(ctx) => train_one(GpuBackend::new(*ctx), request, data, &mut observer).await,
                Engine::Cpu => train_one(CpuBackend::new(), request, data, &mut observer).await,
            };
            observer.flush();
            done_before += steps[index];
            match result {
                Ok((outcome, names, boundary)) => {
                    self.store.update(id, |r| {
                        if let Outcome::Finished { not_learning: true, .. } = outcome {
                            r.series.note = Some("not learning".into());
                        }
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
                }
                Err(error) => {
                    let reason = error.to_string();
                    self.store.update(id, |r| r.status = RunStatus::Failed { reason });
                    return Err(JobError { run: index, error });
                }
            }
            self.store.save();
        }
        Ok(())
    }
}

async fn train_one<B: Backend>(
    backend: B,
    request: &RunRequest,
    data: &Dataset,
    observer: &mut JobObserver<'_>,
) -> Result<(Outcome, Vec<String>, Option<Vec<(usize, f32)>>), NormlabError> {
    let mut run = Run::new(backend, &request.config, data)?;
    if let Some(spec) = &request.probes {
        run.set_probes(spec.clone());
    }
    let outcome = run.train(observer).await?;
    let usable = !matches!(outcome, Outcome::Diverged { .. });
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
    Ok((outcome, names, boundary))
}

/// Folds a run's events into its record, a few times a second rather than at every
/// event, so that long runs do not spend their time redrawing charts.
struct JobObserver<'a> {
    trainer: Trainer,
    record: u64,
    /// The run's index in this call (for progress) and in the whole job (for events).
    run: usize,
    job_run: usize,
    stop: Rc<Cell<bool>>,
    pending: Vec<Event>,
    last_flush: f64,
    done_before: usize,
    total: usize,
    runs: usize,
    started: f64,
    /// `platform::paused_millis()` when the job started.
    paused_before: f64,
    on_event: &'a dyn Fn(JobEvent),
}

impl JobObserver<'_> {
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.pending);
        self.trainer.store.update(self.record, |r| events.iter().for_each(|e| r.series.absorb(e)));
        let done_here = events
            .iter()
            .filter_map(|e| match e {
                Event::Losses { first_step, losses, .. } => Some(first_step + losses.len()),
                _ => None,
            })
            .max();
        if let Some(done_here) = done_here {
            let done = self.done_before + done_here;
            let paused = platform::paused_millis() - self.paused_before;
            let secs = ((platform::now_millis() - self.started - paused) / 1000.0).max(1e-3);
            let rate = done as f64 / secs;
            self.trainer.progress.set(Progress {
                steps_done: done,
                steps_total: self.total,
                steps_per_sec: rate,
                secs_left: if rate > 0.0 { self.total.saturating_sub(done) as f64 / rate } else { f64::NAN },
                run: self.run + 1,
                runs: self.runs,
            });
        }
        self.last_flush = platform::now_millis();
    }
}

impl Observer for JobObserver<'_> {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::Probe(report) => (self.on_event)(JobEvent::Probe { run: self.job_run, report: report.clone() }),
            other => self.pending.push(other.clone()),
        }
        let urgent = matches!(event, Event::Epoch(_) | Event::Diverged { .. });
        if urgent || platform::now_millis() - self.last_flush > FLUSH_MILLIS {
            self.flush();
        }
        if urgent {
            self.trainer.store.save();
        }
    }

    fn should_stop(&self) -> bool {
        self.stop.get()
    }
}
