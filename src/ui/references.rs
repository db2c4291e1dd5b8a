//! The lab's reference behind a student's run: the course's stored results
//! (`results/<experiment>.json`, made by `normlab-run --reproduce-course`), fetched from
//! the page's own origin the first time a chart needs them and kept for the page's life.
//! An experiment whose results are not stored simply has no reference.

use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::chart::Reference;
use crate::experiment::catalog::{variant_of, Experiment, VariantKey};
use crate::experiment::course_results::ExperimentResults;
use crate::records::RunRecord;
use crate::ui::i18n::{pick, Lang};

/// What the page knows of each experiment's stored results.
#[derive(Clone, Debug)]
enum Stored {
    Fetching,
    Found(Rc<ExperimentResults>),
    /// Not stored (or unreadable: said once in the console).
    Missing,
}

/// The list of stored experiments (`results/index.json`), read once.
#[derive(Clone, Debug)]
enum Index {
    Unread,
    Fetching,
    Read(Vec<String>),
}

#[derive(Clone, Copy)]
pub struct References {
    index: RwSignal<Index, LocalStorage>,
    stored: RwSignal<HashMap<Experiment, Stored>, LocalStorage>,
    /// Which experiment's run each stored run is, by run id: a chart redraws many times a
    /// second while it trains, and the lookup goes through every preset's runs.
    variants: StoredValue<HashMap<u64, Option<(Experiment, VariantKey)>>, LocalStorage>,
}

impl References {
    pub fn new() -> Self {
        References {
            index: RwSignal::new_local(Index::Unread),
            stored: RwSignal::new_local(HashMap::new()),
            variants: StoredValue::new_local(HashMap::new()),
        }
    }

    fn variant(&self, record: &RunRecord) -> Option<(Experiment, VariantKey)> {
        if let Some(known) = self.variants.with_value(|v| v.get(&record.id).copied()) {
            return known;
        }
        let found = variant_of(&record.config);
        self.variants.update_value(|v| {
            v.insert(record.id, found);
        });
        found
    }

    /// The references for `records`' runs (one per run of an experiment, in the colour of
    /// the first of its runs on the chart), computed only from what is already here and
    /// fetching what is not here yet: the chart is
    /// drawn again when it comes (reactive).
    pub fn for_runs(&self, records: &[RunRecord], lang: Lang) -> Vec<Reference> {
        let mut references: Vec<(Experiment, VariantKey, Reference)> = Vec::new();
        for record in records {
            let colour = record.series.colour;
            let Some((experiment, key)) = self.variant(record) else { continue };
            if references.iter().any(|(e, k, _)| *e == experiment && *k == key) {
                continue;
            }
            let Some(results) = self.get(experiment) else { continue };
            let Some(run) = results.run_keyed(key) else { continue };
            let points: Vec<(f64, f64, f64, f64)> = run
                .epoch_band(|e| e.train_loss)
                .into_iter()
                .map(|(epoch, s)| (epoch as f64, s.mean, s.min, s.max))
                .collect();
            let seeds = crate::experiment::measured::seed_range(&results.seeds);
            let label = pick(
                lang,
                format!("the lab's full runs (seeds {seeds}): mean and range of the epoch means"),
                format!("实验室完整预设的运行（种子 {seeds}）：各轮平均损失的均值与范围"),
            );
            references.push((experiment, key, Reference { label, colour, points }));
        }
        references.into_iter().map(|(_, _, r)| r).collect()
    }

    /// What the page has of `experiment`'s stored results (reactive; fetched the first
    /// time it is asked for): `Ok(Some(results))`, `Ok(None)` while fetching, or `Err` when
    /// none are stored or they cannot be used.
    pub fn results(&self, experiment: Experiment) -> Result<Option<Rc<ExperimentResults>>, ()> {
        if let Some(found) = self.get(experiment) {
            return Ok(Some(found));
        }
        let listed = match self.index.get() {
            Index::Read(listed) => listed.iter().any(|name| name == experiment.name()),
            Index::Fetching | Index::Unread => return Ok(None),
        };
        match self.stored.with(|s| s.get(&experiment).cloned()) {
            _ if !listed => Err(()),
            Some(Stored::Missing) => Err(()),
            _ => Ok(None),
        }
    }

    fn get(&self, experiment: Experiment) -> Option<Rc<ExperimentResults>> {
        let listed = match self.index.get() {
            Index::Read(listed) => listed.iter().any(|name| name == experiment.name()),
            Index::Fetching => return None,
            Index::Unread => {
                self.fetch_index();
                return None;
            }
        };
        if !listed {
            return None;
        }
        match self.stored.with(|s| s.get(&experiment).cloned()) {
            Some(Stored::Found(results)) => Some(results),
            Some(Stored::Fetching | Stored::Missing) => None,
            None => {
                self.fetch(experiment);
                None
            }
        }
    }

    fn fetch_index(&self) {
        let index = self.index;
        index.update_untracked(|i| *i = Index::Fetching);
        spawn_local(async move {
            let url = format!("results/{}", ExperimentResults::INDEX);
            let listed = match crate::ui::fetch::fetch_text(&url).await {
                Ok(text) => serde_json::from_str::<Vec<String>>(&text).unwrap_or_else(|e| {
                    log::warn!("{url}: {e}");
                    Vec::new()
                }),
                Err(e) => {
                    log::warn!("{url}: {e}");
                    Vec::new()
                }
            };
            index.set(Index::Read(listed));
        });
    }

    fn fetch(&self, experiment: Experiment) {
        let stored = self.stored;
        stored.update_untracked(|s| {
            s.insert(experiment, Stored::Fetching);
        });
        spawn_local(async move {
            let url = format!("results/{}", ExperimentResults::file_name(experiment));
            let found = match crate::ui::fetch::fetch_text(&url).await {
                Ok(text) => match ExperimentResults::from_json(&text) {
                    Ok(results) if results.differences_from_preset().is_empty() => Stored::Found(Rc::new(results)),
                    Ok(_) => {
                        log::warn!("{url}: made with another configuration than the preset's; no reference drawn");
                        Stored::Missing
                    }
                    Err(e) => {
                        log::warn!("{url}: {e}");
                        Stored::Missing
                    }
                },
                Err(e) => {
                    log::warn!("{url}: {e}");
                    Stored::Missing
                }
            };
            stored.update(|s| {
                s.insert(experiment, found);
            });
        });
    }
}
