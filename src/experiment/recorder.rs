//! An observer that keeps everything a run reports.

use super::events::{EpochSummary, Event, Observer};

/// An observer that keeps every event; handy for tests and the runner.
#[derive(Default)]
pub struct Recorder {
    pub events: Vec<Event>,
}

impl Recorder {
    pub fn losses(&self) -> Vec<f32> {
        self.events
            .iter()
            .flat_map(|e| match e {
                Event::Losses { losses, .. } => losses.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    pub fn epochs(&self) -> Vec<EpochSummary> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Epoch(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Observer for Recorder {
    fn on_event(&mut self, event: &Event) {
        self.events.push(event.clone());
    }
}
