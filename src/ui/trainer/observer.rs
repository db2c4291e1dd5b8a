//! What a job hears from its runs: events folded into the runs' records a few times a
//! second, the job's progress and clock kept, and failures put in words.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;

use super::*;

/// Folds a run's events into its record, a few times a second rather than at every
/// event, so that long runs do not spend their time redrawing charts; keeps the job's
/// clock and progress.
pub(super) struct JobObserver<'a> {
    pub(super) trainer: Trainer,
    pub(super) record: u64,
    /// The run's index within the runs being trained now (for the clock and the step
    /// counts), and within the whole job (for events).
    pub(super) index: usize,
    pub(super) job_run: usize,
    pub(super) stop: Rc<Cell<bool>>,
    pub(super) pending: Vec<Event>,
    /// When any run of the job last redrew (shared: two runs at once in workers redraw
    /// no more often than one).
    pub(super) last_flush: Rc<Cell<f64>>,
    /// Steps done by each run of the job (several train at once on the CPU's workers).
    pub(super) steps_done: Rc<RefCell<Vec<usize>>>,
    pub(super) clock: Rc<RefCell<JobClock>>,
    pub(super) eval_rows: usize,
    pub(super) on_event: &'a dyn Fn(JobEvent),
}

impl JobObserver<'_> {
    pub(super) fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.pending);
        self.trainer.store.update(self.record, |r| events.iter().for_each(|e| r.series.absorb(e)));
        self.last_flush.set(platform::now_millis());
    }

    fn update_progress(&self, now: f64, change: impl FnOnce(&mut Progress)) {
        let left = self.clock.borrow().millis_left(now);
        self.trainer.progress.update(|p| {
            change(p);
            let secs = p.elapsed_millis(now) / 1000.0;
            if secs > 0.0 {
                p.steps_per_sec = p.steps_done as f64 / secs;
            }
            p.millis_left = Some(left);
            p.updated_millis = now;
        });
    }
}

impl Observer for JobObserver<'_> {
    fn on_event(&mut self, event: &Event) {
        let now = platform::now_millis();
        let stopping = self.stop.get();
        match event {
            Event::Probe(report) => (self.on_event)(JobEvent::Probe { run: self.job_run, report: report.clone() }),
            Event::Losses { first_step, losses, epoch, .. } => {
                let done_here = first_step + losses.len();
                self.clock.borrow_mut().steps_of(self.index, done_here, now);
                let done = {
                    let mut steps = self.steps_done.borrow_mut();
                    steps[self.index] = done_here;
                    steps.iter().sum()
                };
                let epoch = *epoch;
                self.update_progress(now, |p| {
                    p.steps_done = done;
                    p.epoch = epoch;
                    if !stopping {
                        p.phase = JobPhase::Training;
                    }
                });
                self.pending.push(event.clone());
            }
            Event::Evaluating { epoch } => {
                self.clock.borrow_mut().evaluation_started_of(self.index, now);
                let epoch = *epoch;
                self.update_progress(now, |p| {
                    p.epoch = epoch;
                    if !stopping {
                        p.phase = JobPhase::Evaluating;
                    }
                });
            }
            Event::Epoch(_) => {
                self.clock.borrow_mut().evaluation_finished_of(self.index, self.eval_rows, now);
                self.update_progress(now, |p| {
                    if !stopping {
                        p.phase = JobPhase::Training;
                    }
                });
                self.pending.push(event.clone());
            }
            Event::Diverged { .. } | Event::GradientsAtInit(_) => self.pending.push(event.clone()),
        }
        let urgent = matches!(event, Event::Epoch(_) | Event::Diverged { .. });
        if urgent || now - self.last_flush.get() > FLUSH_MILLIS {
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

/// A job's error in the page's language.
pub fn job_error_words(error: &NormlabError, lang: Lang) -> String {
    match error {
        NormlabError::DeviceLost(reason) => match lang {
            Lang::En => format!(
                "The GPU device was lost ({reason}). The run in progress was interrupted; finished runs are kept. The lab is asking for a new device (the CPU if none comes); then you can train the interrupted runs again."
            ),
            Lang::Zh => format!(
                "GPU 设备丢失了（{reason}）。正在进行的运行被中断；已完成的运行都保留着。实验室正在请求一个新设备（没有的话就用 CPU）；之后你可以重新训练被中断的运行。"
            ),
        },
        other => error_words(other, lang),
    }
}
