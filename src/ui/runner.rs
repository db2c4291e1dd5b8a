//! Starting and stopping runs from the page. The run lives in a local task; it reports
//! through [`RunView`] signals and checks a stop flag between chunks of steps.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::device::{DeviceState, Engine};
use super::fetch::load_dataset;
use super::RunView;
use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::GpuBackend;
use crate::backend::Backend;
use crate::chart::RunSeries;
use crate::data::ImageDataset;
use crate::error::NormlabError;
use crate::experiment::{Event, ExperimentConfig, Observer, Outcome, Run};

/// Reports a run's events into the page's signals.
struct PageObserver {
    view: RunView,
    index: usize,
    stop: Rc<Cell<bool>>,
    total_steps: usize,
}

impl Observer for PageObserver {
    fn on_event(&mut self, event: &Event) {
        let index = self.index;
        self.view.series.update(|s| {
            if let Some(run) = s.get_mut(index) {
                run.absorb(event)
            }
        });
        match event {
            Event::Losses { first_step, losses, .. } => {
                let done = first_step + losses.len();
                self.view.progress.set((done, self.total_steps));
                if let Some(last) = losses.last() {
                    self.view.status.set(format!("Training… step {done} of {}, loss {last:.4}", self.total_steps));
                }
            }
            Event::Epoch(s) => self.view.status.set(format!(
                "Epoch {}: training loss {:.4}, test accuracy {:.1}% ({:.1} s)",
                s.epoch,
                s.train_loss,
                s.test_accuracy * 100.0,
                s.elapsed_secs
            )),
            Event::Diverged { epoch, batch, .. } => self
                .view
                .alert
                .set(Some(format!("diverged at epoch {epoch}, batch {batch}: the loss became NaN or infinite"))),
        }
    }

    fn should_stop(&self) -> bool {
        self.stop.get()
    }
}

async fn train_on<B: Backend>(
    backend: B,
    config: &ExperimentConfig,
    data: &ImageDataset,
    observer: &mut PageObserver,
) -> Result<Outcome, NormlabError> {
    let mut run = Run::new(backend, config, data)?;
    observer.total_steps = run.steps_per_epoch() * config.epochs;
    run.train(observer).await
}

/// Starts a run with `config`, adding its series to the chart. Returns the stop flag.
pub fn start_run(config: ExperimentConfig, device: DeviceState, view: RunView) -> Rc<Cell<bool>> {
    let stop = Rc::new(Cell::new(false));
    let engine = device.engine().unwrap_or(Engine::Cpu);
    let on = match &engine {
        Engine::Gpu(_) => "GPU",
        Engine::Cpu => "CPU",
    };
    let index = view.series.with_untracked(|s| s.len());
    view.series.update(|s| s.push(RunSeries::new(format!("{} ({on})", config.label()))));
    view.alert.set(None);
    view.running.set(true);
    view.progress.set((0, 0));
    view.status.set(format!("Loading {}…", config.dataset.title()));
    let flag = stop.clone();
    spawn_local(async move {
        let mut observer = PageObserver { view, index, stop: flag, total_steps: 0 };
        let result = match load_dataset(config.dataset).await {
            Ok(data) => match engine {
                Engine::Gpu(ctx) => train_on(GpuBackend::new(*ctx), &config, &data, &mut observer).await,
                Engine::Cpu => train_on(CpuBackend::new(), &config, &data, &mut observer).await,
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(Outcome::Finished { final_test_accuracy }) => {
                view.status.set(format!("Finished: test accuracy {:.1}%", final_test_accuracy * 100.0))
            }
            Ok(Outcome::Stopped) => view.status.set("Stopped.".into()),
            Ok(Outcome::Diverged { epoch, batch }) => {
                view.status.set(format!("Stopped: diverged at epoch {epoch}, batch {batch}."))
            }
            Err(NormlabError::DeviceLost(reason)) => {
                device.fall_back_to_cpu(format!("the GPU device was lost: {reason}"));
                view.alert.set(Some(format!("The GPU device was lost ({reason}). Further runs use the CPU.")));
                view.status.set("Run interrupted.".into());
            }
            Err(error) => {
                view.alert.set(Some(error.to_string()));
                view.status.set("The run could not continue.".into());
            }
        }
        view.running.set(false);
    });
    stop
}
