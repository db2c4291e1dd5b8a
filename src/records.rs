//! Finished runs as the page keeps them: what was run (the whole configuration), on what,
//! what came of it, and its curves; stored in the browser between visits and exported
//! as JSON or CSV. Pure data and text, so that it is tested natively.

use serde::{Deserialize, Serialize};

use crate::chart::RunSeries;
use crate::error::Words;
use crate::experiment::{EpochSummary, ExperimentConfig, Outcome};

/// The storage format's version; stored results of another version are set aside with a
/// message rather than misread.
pub const FORMAT_VERSION: u32 = 1;
/// Batch losses kept per stored run (enough to redraw its curve; see [`RunSeries::thinned`]).
pub const STORED_LOSSES_PER_RUN: usize = 2000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Done {
        outcome: Outcome,
    },
    /// The page was closed or reloaded while it trained.
    Interrupted,
    /// An error ended it, in words (in English, and in Chinese where it was written then).
    Failed {
        reason: String,
        #[serde(default)]
        reason_zh: Option<String>,
    },
}

/// One run of one live piece.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Unique within the page's storage.
    pub id: u64,
    /// Which live piece made it, e.g. `l4/high-lr`.
    pub group: String,
    pub config: ExperimentConfig,
    /// "WebGPU: <adapter>" or "CPU".
    pub device: String,
    /// The engine that trained it as a link names it (`webgpu` or `cpu`), so that its link
    /// reproduces it on the same engine.
    #[serde(default)]
    pub engine: Option<String>,
    /// A smoke-test run: too short to show the lesson's effect, so it carries no verdict.
    #[serde(default)]
    pub trial: bool,
    pub series: RunSeries,
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch when it started.
    pub started_ms: f64,
    /// The noise of the last epoch's batch losses (see `experiment::stats::loss_noise`),
    /// measured when the run ends.
    #[serde(default)]
    pub loss_noise: Option<f32>,
}

impl RunRecord {
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.status {
            RunStatus::Done { outcome } => Some(outcome),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    runs: Vec<RunRecord>,
}

/// The JSON kept in browser storage (and offered as the JSON export): runs that were
/// still training are stored as interrupted, and long loss curves are thinned.
pub fn to_json(runs: &[RunRecord]) -> String {
    let runs = runs
        .iter()
        .map(|r| RunRecord {
            series: r.series.thinned(STORED_LOSSES_PER_RUN),
            status: if r.status == RunStatus::Running { RunStatus::Interrupted } else { r.status.clone() },
            ..r.clone()
        })
        .collect();
    serde_json::to_string(&Stored { version: FORMAT_VERSION, runs }).unwrap_or_default()
}

/// What [`from_json`] could read back.
#[derive(Debug, Default)]
pub struct StoredRuns {
    pub runs: Vec<RunRecord>,
    /// Runs whose stored form was damaged and that were left out, with the first reason.
    pub damaged: usize,
    pub first_damage: Option<String>,
}

/// Reads stored runs. Text that is not ours or is from another version is refused with a
/// clear message; within readable text, each damaged run is left out on its own, so one
/// bad entry never costs the others.
pub fn from_json(text: &str) -> Result<StoredRuns, Words> {
    #[derive(Deserialize)]
    struct Envelope {
        version: u32,
        runs: Option<Vec<serde_json::Value>>,
    }
    let envelope: Envelope = serde_json::from_str(text)
        .map_err(|e| crate::words!("the stored results are not readable ({e})", "已保存的结果无法读取（{e}）"))?;
    if envelope.version != FORMAT_VERSION {
        let version = envelope.version;
        return Err(crate::words!(
            "the stored results are from another version of the lab (format {version}, this is {FORMAT_VERSION})",
            "已保存的结果来自另一个版本的实验室（格式 {version}，当前为 {FORMAT_VERSION}）"
        ));
    }
    let entries = envelope.runs.ok_or_else(|| {
        crate::words!("the stored results are damaged (no list of runs)", "已保存的结果已损坏（没有运行列表）")
    })?;
    let mut stored = StoredRuns::default();
    for entry in entries {
        match serde_json::from_value::<RunRecord>(entry) {
            Ok(run) if !stored.runs.iter().any(|r| r.id == run.id) => stored.runs.push(run),
            Ok(run) => {
                stored.damaged += 1;
                stored.first_damage.get_or_insert(format!("two runs share the id {}", run.id));
            }
            Err(e) => {
                stored.damaged += 1;
                stored.first_damage.get_or_insert(e.to_string());
            }
        }
    }
    Ok(stored)
}

/// The CSV header: one row per training batch (`kind` = batch) and one per epoch
/// (`kind` = epoch); columns that do not apply are empty.
pub const CSV_HEADER: &str = "run,label,kind,epoch,x_epochs,loss,train_accuracy,test_loss,test_accuracy,url_query";

/// Every run's batch losses and epoch summaries as CSV (RFC 4180 quoting).
pub fn to_csv(runs: &[RunRecord]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for r in runs {
        let label = quote(&r.series.label);
        let query = quote(&r.config.to_query());
        let per_epoch = r.series.epochs.len().max(1);
        for &(x, loss) in &r.series.batch_losses {
            let epoch = (x.ceil() as usize).clamp(1, per_epoch.max(x.ceil() as usize));
            out.push_str(&format!("{},{label},batch,{epoch},{x},{loss},,,,{query}\n", r.id));
        }
        for e in &r.series.epochs {
            out.push_str(&format!(
                "{},{label},epoch,{},{},{},{},{},{},{query}\n",
                r.id, e.epoch, e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy
            ));
        }
    }
    out
}

/// One parsed CSV row (for tests and for anyone reading an export back).
#[derive(Clone, Debug, PartialEq)]
pub struct CsvRow {
    pub run: u64,
    pub label: String,
    pub kind: String,
    pub epoch: usize,
    pub x_epochs: f64,
    pub loss: f32,
    pub test_accuracy: Option<f32>,
    pub url_query: String,
}

/// Parses what [`to_csv`] writes.
pub fn parse_csv(text: &str) -> Result<Vec<CsvRow>, String> {
    let mut lines = text.lines();
    if lines.next() != Some(CSV_HEADER) {
        return Err("not a normlab CSV export (its header differs)".into());
    }
    lines
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, line)| {
            let fields = split_csv_line(line);
            let bad = |what: &str| format!("line {}: {what}", i + 2);
            if fields.len() != 10 {
                return Err(bad(&format!("{} fields, expected 10", fields.len())));
            }
            let number =
                |k: usize| fields[k].parse::<f64>().map_err(|_| bad(&format!("{:?} is not a number", fields[k])));
            Ok(CsvRow {
                run: fields[0].parse().map_err(|_| bad("bad run id"))?,
                label: fields[1].clone(),
                kind: fields[2].clone(),
                epoch: fields[3].parse().map_err(|_| bad("bad epoch"))?,
                x_epochs: number(4)?,
                loss: number(5)? as f32,
                test_accuracy: if fields[8].is_empty() { None } else { Some(number(8)? as f32) },
                url_query: fields[9].clone(),
            })
        })
        .collect()
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("one field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// The epoch summaries of a run, for tables.
pub fn last_epoch(record: &RunRecord) -> Option<&EpochSummary> {
    record.series.epochs.last()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64, status: RunStatus) -> RunRecord {
        let mut series = RunSeries::new("CNN · BN, \"quoted\" · lr 0.1");
        series.batch_losses = (1..=40).map(|i| (i as f64 / 20.0, 2.3 / i as f32)).collect();
        series.epochs = vec![EpochSummary {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: 0.8,
            test_loss: 0.55,
            test_accuracy: 0.78,
            grad_norm: 1.0,
            grad_norm_clipped: 1.0,
            elapsed_secs: 3.0,
            train_eval_accuracy: None,
            test_loss_batch_stats: None,
            position_losses: Vec::new(),
            batch_of_one: None,
        }];
        RunRecord {
            id,
            group: "l4/high-lr".into(),
            config: ExperimentConfig::notes_cnn(),
            device: "CPU".into(),
            engine: Some("cpu".into()),
            trial: false,
            series,
            status,
            started_ms: 1.0e12,
            loss_noise: Some(0.1),
        }
    }

    #[test]
    fn json_round_trips_and_marks_unfinished_runs_interrupted() {
        let done = record(
            1,
            RunStatus::Done { outcome: Outcome::Finished { final_test_accuracy: 0.78, not_learning: false } },
        );
        let running = record(2, RunStatus::Running);
        let back = from_json(&to_json(&[done.clone(), running])).unwrap();
        assert_eq!(back.damaged, 0);
        assert_eq!(back.runs[0], done);
        assert_eq!(back.runs[1].status, RunStatus::Interrupted);
    }

    #[test]
    fn damaged_or_foreign_storage_is_refused_in_words() {
        assert!(from_json("{not json").unwrap_err().en.contains("not readable"));
        assert!(from_json(r#"{"version": 99, "runs": []}"#).unwrap_err().en.contains("another version"));
        assert!(from_json(r#"{"version": 1}"#).unwrap_err().en.contains("damaged"));
    }

    #[test]
    fn a_damaged_run_is_left_out_and_the_others_kept() {
        let good = record(1, RunStatus::Interrupted);
        let mut stored: serde_json::Value =
            serde_json::from_str(&to_json(&[good.clone(), record(2, RunStatus::Interrupted)])).unwrap();
        stored["runs"][1]["config"]["batch_size"] = serde_json::json!("many");
        stored["runs"].as_array_mut().unwrap().push(serde_json::json!({"id": "x"}));
        let back = from_json(&stored.to_string()).unwrap();
        assert_eq!(back.runs, vec![good]);
        assert_eq!(back.damaged, 2);
        assert!(back.first_damage.unwrap().contains("invalid type"));
    }

    #[test]
    fn csv_parses_back_to_the_same_numbers() {
        let runs = [record(7, RunStatus::Interrupted)];
        let rows = parse_csv(&to_csv(&runs)).unwrap();
        let batches: Vec<&CsvRow> = rows.iter().filter(|r| r.kind == "batch").collect();
        assert_eq!(batches.len(), 40);
        for (row, &(x, loss)) in batches.iter().zip(&runs[0].series.batch_losses) {
            assert_eq!((row.x_epochs, row.loss), (x, loss));
            assert_eq!(row.label, runs[0].series.label);
        }
        let epoch = rows.iter().find(|r| r.kind == "epoch").unwrap();
        assert_eq!(epoch.test_accuracy, Some(0.78));
        let (config, problems) = ExperimentConfig::from_query(&epoch.url_query);
        assert!(problems.is_empty());
        assert_eq!(config, runs[0].config);
    }
}
