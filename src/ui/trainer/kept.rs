//! A trained model the page keeps after its job, for what a student asks of it afterwards
//! (lesson 11's attention map of a name they type).

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use crate::backend::engine::AnyBackend;
use crate::error::NormlabError;
use crate::experiment::{AttentionMaps, Run};
use crate::words;

/// Shared by the piece that asked for it; the model's buffers go when the last copy does.
#[derive(Clone)]
pub struct TrainedModel(Rc<RefCell<Option<Run<AnyBackend>>>>);

impl fmt::Debug for TrainedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrainedModel")
    }
}

impl TrainedModel {
    pub fn new(run: Run<AnyBackend>) -> Self {
        TrainedModel(Rc::new(RefCell::new(Some(run))))
    }

    /// The most letters a name may have for the model's context.
    pub fn most_letters(&self) -> usize {
        self.0.borrow().as_ref().map_or(0, |run| run.model.rows_per_example.saturating_sub(1))
    }

    /// See [`Run::attention_maps`]. The run is taken out while the device works, so that
    /// no borrow is held across the wait; a second request meanwhile is told to wait.
    pub async fn attention_maps(&self, name: &str) -> Result<AttentionMaps, NormlabError> {
        let Some(mut run) = self.0.borrow_mut().take() else {
            return Err(NormlabError::InvalidConfig(words!(
                "the model is still working on the last name",
                "模型还在处理上一个名字"
            )));
        };
        let maps = run.attention_maps(name, &|| false).await;
        *self.0.borrow_mut() = Some(run);
        maps
    }
}
