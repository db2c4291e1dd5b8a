//! A trained model the page keeps after its job, for what a student asks of it afterwards
//! (lesson 10's attention map of a name they type). It lives where it trained: on the
//! page's thread, or in the engine worker that trained it (kept alive for it, and ended
//! when the last copy of this handle goes).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use super::workers::EngineWorker;
use crate::backend::engine::AnyBackend;
use crate::error::NormlabError;
use crate::experiment::{AttentionMaps, Run};
use crate::words;

/// Shared by the piece that asked for it; the model's buffers go when the last copy does.
#[derive(Clone)]
pub struct TrainedModel(Rc<Kept>);

// One per kept model, behind an Rc: the size of the larger variant is no cost.
#[allow(clippy::large_enum_variant)]
enum Kept {
    Here(RefCell<Option<Run<AnyBackend>>>),
    InWorker { worker: Rc<EngineWorker>, most_letters: usize, busy: Cell<bool> },
}

impl fmt::Debug for TrainedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrainedModel")
    }
}

fn still_working() -> NormlabError {
    NormlabError::InvalidConfig(words!("the model is still working on the last name", "模型还在处理上一个名字"))
}

impl TrainedModel {
    pub fn new(run: Run<AnyBackend>) -> Self {
        TrainedModel(Rc::new(Kept::Here(RefCell::new(Some(run)))))
    }

    /// The model a worker's last run kept; `most_letters` as [`Self::most_letters`].
    pub fn in_worker(worker: Rc<EngineWorker>, most_letters: usize) -> Self {
        TrainedModel(Rc::new(Kept::InWorker { worker, most_letters, busy: Cell::new(false) }))
    }

    /// The most letters a name may have for the model's context.
    pub fn most_letters(&self) -> usize {
        match &*self.0 {
            Kept::Here(run) => run.borrow().as_ref().map_or(0, |run| run.model.rows_per_example.saturating_sub(1)),
            Kept::InWorker { most_letters, .. } => *most_letters,
        }
    }

    /// See [`Run::attention_maps`]. The model answers one name at a time; a second
    /// request meanwhile is told to wait.
    pub async fn attention_maps(&self, name: &str) -> Result<AttentionMaps, NormlabError> {
        match &*self.0 {
            Kept::Here(cell) => {
                // Taken out while the device works, so that no borrow is held across the wait.
                let Some(mut run) = cell.borrow_mut().take() else { return Err(still_working()) };
                let maps = run.attention_maps(name, &|| false).await;
                *cell.borrow_mut() = Some(run);
                maps
            }
            Kept::InWorker { worker, busy, .. } => {
                if busy.replace(true) {
                    return Err(still_working());
                }
                let maps = worker.attention_maps(name).await;
                busy.set(false);
                maps
            }
        }
    }
}
