//! The lab's reference behind a student's run: the course's stored results
//! (`results/<experiment>.json`, made by `normlab-run --reproduce-course`), fetched from
//! the page's own origin the first time a chart needs them and kept for the page's life.
//! An experiment whose results are not stored simply has no reference.

use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::chart::Reference;
use crate::experiment::catalog::{variant_of, Experiment};
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

#[derive(Clone, Copy)]
pub struct References {
    stored: RwSignal<HashMap<Experiment, Stored>, LocalStorage>,
}

impl References {
    pub fn new() -> Self {
        References { stored: RwSignal::new_local(HashMap::new()) }
    }

    /// The references for `records`' runs (one per run of an experiment, in the colour of
    /// the first of its runs on the chart), fetching what is not here yet: the chart is
    /// drawn again when it comes (reactive).
    pub fn for_runs(&self, records: &[RunRecord], colours: &[usize], lang: Lang) -> Vec<Reference> {
        let mut references: Vec<(Experiment, crate::experiment::catalog::VariantKey, Reference)> = Vec::new();
        for (record, &colour) in records.iter().zip(colours) {
            let Some((experiment, key)) = variant_of(&record.config) else { continue };
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
            let seeds = seed_range(&results.seeds);
            let label = pick(
                lang,
                format!("the lab's full runs (seeds {seeds}): mean and range of the epoch means"),
                format!("实验室完整预设的运行（种子 {seeds}）：各轮平均损失的均值与范围"),
            );
            references.push((experiment, key, Reference { label, colour, points }));
        }
        references.into_iter().map(|(_, _, r)| r).collect()
    }

    fn get(&self, experiment: Experiment) -> Option<Rc<ExperimentResults>> {
        match self.stored.with(|s| s.get(&experiment).cloned()) {
            Some(Stored::Found(results)) => Some(results),
            Some(Stored::Fetching | Stored::Missing) => None,
            None => {
                self.fetch(experiment);
                None
            }
        }
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
                // Not stored: no reference, and nothing to say.
                Err(_) => Stored::Missing,
            };
            stored.update(|s| {
                s.insert(experiment, found);
            });
        });
    }
}

/// "1–3", or "1, 4, 7" when they are not consecutive.
fn seed_range(seeds: &[u64]) -> String {
    let consecutive = seeds.windows(2).all(|w| w[1] == w[0] + 1);
    match seeds {
        [first, .., last] if consecutive => format!("{first}–{last}"),
        _ => seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
    }
}
