//! Every run the page has made, shared by the live pieces: kept in browser storage so that
//! finished runs survive a reload, removable, exportable.

use leptos::prelude::*;

use super::browser;
use crate::error::Words;
use crate::records::{self, RunRecord, RunStatus};

const STORAGE_KEY: &str = "normlab.runs";
/// Where unreadable stored results are moved, so that nothing is silently thrown away.
const SET_ASIDE_KEY: &str = "normlab.runs.unreadable";

#[derive(Clone, Copy)]
pub struct RunStore {
    pub records: RwSignal<Vec<RunRecord>>,
    /// A problem with storage, in words (shown once, at the top of the page).
    pub problem: RwSignal<Option<Words>>,
}

impl RunStore {
    /// Loads what earlier visits stored.
    pub fn load() -> Self {
        let store = RunStore { records: RwSignal::new(Vec::new()), problem: RwSignal::new(None) };
        if let Some(text) = browser::load(STORAGE_KEY) {
            match records::from_json(&text) {
                Ok(stored) => {
                    if stored.damaged > 0 {
                        // Keep the original text, so the damaged entries are not lost either.
                        let _ = browser::save(SET_ASIDE_KEY, &text);
                        let (damaged, kept) = (stored.damaged, stored.runs.len());
                        let why = stored.first_damage.unwrap_or_default();
                        store.problem.set(Some(crate::words!(
                            "{damaged} stored run(s) were damaged and set aside ({why}); the other {kept} are kept.",
                            "有 {damaged} 条已保存的运行记录损坏，已搁置（{why}）；其余 {kept} 条都保留着。"
                        )));
                    }
                    store.records.set(stored.runs);
                }
                Err(reason) => {
                    let _ = browser::save(SET_ASIDE_KEY, &text);
                    browser::remove(STORAGE_KEY);
                    store.problem.set(Some(reason));
                }
            }
        }
        store
    }

    pub fn save(&self) {
        let text = self.records.with_untracked(|r| records::to_json(r));
        if let Err(reason) = browser::save(STORAGE_KEY, &text) {
            self.problem.set(Some(reason));
        }
    }

    pub fn next_id(&self) -> u64 {
        self.records.with_untracked(|r| r.iter().map(|x| x.id).max().unwrap_or(0) + 1)
    }

    /// The smallest colour index not used by the group's runs, so a new run never shares
    /// a colour with one still on its chart.
    pub fn next_colour(&self, group: &str) -> usize {
        self.records.with_untracked(|r| {
            let used: Vec<usize> = r.iter().filter(|x| x.group == group).map(|x| x.series.colour).collect();
            (0..).find(|c| !used.contains(c)).unwrap_or(0)
        })
    }

    pub fn add(&self, record: RunRecord) {
        self.records.update(|r| r.push(record));
    }

    pub fn update(&self, id: u64, f: impl FnOnce(&mut RunRecord)) {
        self.records.update(|r| {
            if let Some(record) = r.iter_mut().find(|x| x.id == id) {
                f(record)
            }
        });
    }

    pub fn remove(&self, id: u64) {
        self.records.update(|r| r.retain(|x| x.id != id));
        self.save();
    }

    pub fn clear_group(&self, group: &str) {
        self.records.update(|r| r.retain(|x| x.group != group || x.status == RunStatus::Running));
        self.save();
    }

    /// The group's runs, oldest first (reactive).
    pub fn group(&self, group: &str) -> Vec<RunRecord> {
        self.records.with(|r| r.iter().filter(|x| x.group == group).cloned().collect())
    }
}
