//! The class view's reading of many files: the run exports of a class's students (one
//! file may hold one run or many) and the device reports of the self-check page, grouped
//! for the teacher's page (`ui/widgets/class_view.rs`).
//!
//! It sits beside [`crate::records`] rather than inside `ui/` because it is the reading
//! side of the two formats the lab writes (`records::to_json` and
//! [`DeviceReport::to_json`]), pure data with no DOM, so that its claims are tested
//! natively (the unit and property tests below): a file is a run export, a device report,
//! or set aside with a reason that names it; a damaged run costs only itself; the mean and
//! the band are computed from the runs that reached each epoch.
//!
//! - Runs are grouped by their live piece (`RunRecord::group`, e.g. `l4/high-lr`), then by
//!   their configuration with the seed set aside, so that each configuration's spread
//!   over seeds and devices shows as one band.
//! - A configuration is a preset's when it equals, seed aside, a run of the quick or full
//!   preset of **any** of the lessons' experiments ([`Experiment::ALL`]). The group names
//!   a live piece, not an experiment, and several pieces share one experiment or train a
//!   selection of it, so matching against every experiment is the rule that cannot miss a
//!   preset; a configuration of one lesson equal to another lesson's run is still a
//!   lesson's configuration. A trial (smoke-test) run, or a configuration equal to a
//!   smoke preset's run, is flagged as a trial; any other configuration is flagged with
//!   the fields in which it differs from the nearest preset run.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Words;
use crate::experiment::catalog::Experiment;
use crate::experiment::presets::Preset;
use crate::experiment::self_check::{DeviceReport, REPORT_KIND};
use crate::experiment::{ExperimentConfig, Outcome};
use crate::records::{self, RunRecord};

/// Files larger than this are set aside unread: a class's export of a few runs is a few
/// hundred kilobytes.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// At most this many differing fields are listed for a flagged run; more than that and the
/// run is "not a preset configuration" (a playground run, say).
pub const MAX_LISTED_CHANGES: usize = 4;

/// `n` and the English noun, singular or plural: "1 run", "3 runs".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A file that was not read, or read in part, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct SetAside {
    pub file: String,
    pub reason: Words,
    /// Runs of the file that were kept anyway (a file with some damaged runs).
    pub kept_runs: usize,
}

/// One run of the class, with the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassRun {
    pub file: String,
    pub record: RunRecord,
}

impl ClassRun {
    /// The final test accuracy in percent, for a run that finished.
    pub fn final_accuracy(&self) -> Option<f64> {
        match self.record.outcome() {
            Some(Outcome::Finished { final_test_accuracy, .. }) if final_test_accuracy.is_finite() => {
                Some(*final_test_accuracy as f64 * 100.0)
            }
            _ => None,
        }
    }

    /// (epoch, test accuracy in percent) of each epoch it finished.
    pub fn accuracy_curve(&self) -> Vec<(f64, f64)> {
        self.record
            .series
            .epochs
            .iter()
            .filter(|e| e.test_accuracy.is_finite())
            .map(|e| (e.epoch as f64, e.test_accuracy as f64 * 100.0))
            .collect()
    }
}

/// One field in which a configuration differs from the nearest preset run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The field's path in the configuration's JSON, e.g. `batch_size` or `clip.max_norm`.
    pub field: String,
    /// Its value in the run and in the preset, as JSON text (`32`, `"adam"`, absent: `–`).
    pub run: String,
    pub preset: String,
}

/// Why a configuration is flagged.
#[derive(Clone, Debug, PartialEq)]
pub enum Flag {
    /// A smoke-test run: too short to show the lesson's effect.
    Trial,
    /// Not a preset's configuration. `changes` lists what differs from the nearest preset
    /// run when that is at most [`MAX_LISTED_CHANGES`] fields, and is empty otherwise.
    NotPreset { changes: Vec<FieldChange> },
}

/// The accuracy of the runs of one configuration at one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochSpread {
    pub epoch: usize,
    /// Over the runs that finished this epoch, in percent.
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub runs: usize,
}

/// The runs of one configuration (seed aside) of one live piece.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigGroup {
    /// The configuration of its first run (the others differ at most in the seed).
    pub config: ExperimentConfig,
    pub runs: Vec<ClassRun>,
    pub flag: Option<Flag>,
    pub spread: Vec<EpochSpread>,
}

impl ConfigGroup {
    /// The final accuracies (percent) of the runs that finished, in the runs' order.
    pub fn final_accuracies(&self) -> Vec<f64> {
        self.runs.iter().filter_map(ClassRun::final_accuracy).collect()
    }

    /// The seeds of its runs, in order, without repeats.
    pub fn seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = Vec::new();
        for r in &self.runs {
            if !seeds.contains(&r.record.config.seed) {
                seeds.push(r.record.config.seed);
            }
        }
        seeds
    }
}

/// The runs of one live piece, by configuration: the presets' first, flagged ones after.
#[derive(Clone, Debug, PartialEq)]
pub struct PieceGroup {
    pub group: String,
    pub configs: Vec<ConfigGroup>,
}

impl PieceGroup {
    pub fn run_count(&self) -> usize {
        self.configs.iter().map(|c| c.runs.len()).sum()
    }
}

/// One device report, with its file.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRow {
    pub file: String,
    pub report: DeviceReport,
}

impl DeviceRow {
    /// (kernels that passed, kernels checked).
    pub fn kernel_tally(&self) -> (usize, usize) {
        (self.report.kernels.iter().filter(|k| k.passed).count(), self.report.kernels.len())
    }
}

/// Everything the class view read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Class {
    pub pieces: Vec<PieceGroup>,
    pub devices: Vec<DeviceRow>,
    pub set_aside: Vec<SetAside>,
}

impl Class {
    pub fn run_count(&self) -> usize {
        self.pieces.iter().map(PieceGroup::run_count).sum()
    }
}

/// What one file turned out to be.
enum Read {
    Runs { runs: Vec<RunRecord>, note: Option<Words> },
    Device(Box<DeviceReport>),
    SetAside(Words),
}

fn read_one(bytes: &[u8]) -> Read {
    if bytes.len() > MAX_FILE_BYTES {
        let mb = bytes.len() / (1024 * 1024);
        return Read::SetAside(crate::words!(
            "{mb} MB, far larger than an export of the lab; not read",
            "{mb} MB，远大于实验室的导出文件；没有读取"
        ));
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Read::SetAside(crate::words!("not a text file (not UTF-8)", "不是文本文件（不是 UTF-8 编码）"));
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Read::SetAside(crate::words!("not readable as JSON ({e})", "无法按 JSON 读取（{e}）")),
    };
    let Some(object) = value.as_object() else {
        return Read::SetAside(foreign());
    };
    if object.get("kind").and_then(Value::as_str) == Some(REPORT_KIND) {
        return match DeviceReport::from_json(text) {
            Ok(report) => Read::Device(Box::new(report)),
            Err(words) => Read::SetAside(words),
        };
    }
    if !object.contains_key("runs") && !object.contains_key("version") {
        return Read::SetAside(foreign());
    }
    match records::from_json(text) {
        Err(words) => Read::SetAside(words),
        Ok(stored) => {
            let (kept, damaged) = (stored.runs.len(), stored.damaged);
            let first = stored.first_damage.unwrap_or_default();
            if kept == 0 && damaged == 0 {
                return Read::SetAside(crate::words!(
                    "an export of the lab that holds no runs",
                    "实验室的导出文件，但其中没有任何运行"
                ));
            }
            if kept == 0 {
                return Read::SetAside(crate::words!(
                    "all {damaged} of its runs are damaged ({first})",
                    "其中全部 {damaged} 次运行都已损坏（{first}）"
                ));
            }
            let note = (damaged > 0).then(|| {
                let runs = count(damaged, "damaged run", "damaged runs");
                crate::words!(
                    "{runs} left out ({first}); its other {kept} kept",
                    "{damaged} 次损坏的运行已略去（{first}）；其余 {kept} 次保留"
                )
            });
            Read::Runs { runs: stored.runs, note }
        }
    }
}

fn foreign() -> Words {
    crate::words!(
        "neither a run export nor a device report of the lab",
        "既不是实验室导出的运行，也不是实验室的设备报告"
    )
}

/// The configuration as JSON with its seed set aside: what grouping and flagging compare.
fn without_seed(config: &ExperimentConfig) -> Value {
    let mut value = serde_json::to_value(config).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("seed");
    }
    value
}

/// Every leaf of a JSON value by its path (`a.b`, `list.0`).
fn leaves(value: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        Value::Object(map) if !map.is_empty() => map.iter().for_each(|(k, v)| leaves(v, &join(k), out)),
        Value::Array(items) if !items.is_empty() => {
            items.iter().enumerate().for_each(|(i, v)| leaves(v, &join(&i.to_string()), out))
        }
        other => {
            out.insert(path.to_string(), other.clone());
        }
    }
}

fn changes(run: &BTreeMap<String, Value>, preset: &BTreeMap<String, Value>) -> Vec<FieldChange> {
    // Numbers as people write them: the configuration's f32 fields read back as f64
    // (0.30000001192092896), shown as the f32 they are (0.3).
    let text = |v: Option<&Value>| match v {
        None => "–".to_string(),
        Some(Value::Number(n)) if !n.is_i64() && !n.is_u64() => {
            n.as_f64().map_or_else(|| n.to_string(), |x| (x as f32).to_string())
        }
        Some(v) => v.to_string(),
    };
    let mut fields: Vec<&String> = run.keys().chain(preset.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| run.get(*f) != preset.get(*f))
        .map(|f| FieldChange { field: f.clone(), run: text(run.get(f)), preset: text(preset.get(f)) })
        .collect()
}

/// The lessons' preset configurations, seed aside, as leaves.
struct Presets {
    lessons: Vec<BTreeMap<String, Value>>,
    smoke: Vec<BTreeMap<String, Value>>,
}

impl Presets {
    fn new() -> Self {
        let mut presets = Presets { lessons: Vec::new(), smoke: Vec::new() };
        for experiment in Experiment::ALL {
            for preset in Preset::ALL {
                for variant in experiment.variants(preset) {
                    let mut flat = BTreeMap::new();
                    leaves(&without_seed(&variant.config), "", &mut flat);
                    match preset {
                        Preset::Smoke => presets.smoke.push(flat),
                        Preset::Quick | Preset::Full => presets.lessons.push(flat),
                    }
                }
            }
        }
        presets
    }

    /// Why `config` is flagged, if it is.
    fn flag(&self, config: &ExperimentConfig, trial: bool) -> Option<Flag> {
        let mut flat = BTreeMap::new();
        leaves(&without_seed(config), "", &mut flat);
        if trial || self.smoke.contains(&flat) {
            return Some(Flag::Trial);
        }
        if self.lessons.contains(&flat) {
            return None;
        }
        let nearest = self.lessons.iter().map(|p| changes(&flat, p)).min_by_key(Vec::len).unwrap_or_default();
        let listed = if nearest.len() <= MAX_LISTED_CHANGES { nearest } else { Vec::new() };
        Some(Flag::NotPreset { changes: listed })
    }
}

/// Per epoch, the mean, lowest and highest test accuracy over the runs that reached it.
pub fn spread(runs: &[ClassRun]) -> Vec<EpochSpread> {
    let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for run in runs {
        for (epoch, accuracy) in run.accuracy_curve() {
            by_epoch.entry(epoch as usize).or_default().push(accuracy);
        }
    }
    by_epoch
        .into_iter()
        .map(|(epoch, values)| EpochSpread {
            epoch,
            mean: values.iter().sum::<f64>() / values.len() as f64,
            low: values.iter().copied().fold(f64::INFINITY, f64::min),
            high: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            runs: values.len(),
        })
        .collect()
}

/// Reads the class's files, each `(name, bytes)`: runs grouped by piece and configuration,
/// device reports as rows, and every other file set aside with its reason. A run that
/// appears in two files (the same export dropped twice) is counted once.
pub fn read_class(files: &[(String, Vec<u8>)]) -> Class {
    let mut class = Class::default();
    let mut runs: Vec<ClassRun> = Vec::new();
    for (name, bytes) in files {
        match read_one(bytes) {
            Read::SetAside(reason) => class.set_aside.push(SetAside { file: name.clone(), reason, kept_runs: 0 }),
            Read::Device(report) => class.devices.push(DeviceRow { file: name.clone(), report: *report }),
            Read::Runs { runs: records, note } => {
                let mut kept = 0;
                let mut repeated: Option<String> = None;
                for record in records {
                    match runs.iter().find(|r| r.record == record) {
                        Some(earlier) => {
                            repeated.get_or_insert_with(|| earlier.file.clone());
                        }
                        None => {
                            kept += 1;
                            runs.push(ClassRun { file: name.clone(), record });
                        }
                    }
                }
                if let Some(reason) = note {
                    class.set_aside.push(SetAside { file: name.clone(), reason, kept_runs: kept });
                }
                if let Some(earlier) = repeated {
                    class.set_aside.push(SetAside {
                        file: name.clone(),
                        reason: crate::words!(
                            "runs already read from {earlier} were counted once",
                            "与 {earlier} 中相同的运行只计一次"
                        ),
                        kept_runs: kept,
                    });
                }
            }
        }
    }
    class.pieces = group_runs(runs);
    class
}

/// Groups runs by piece (in the order the pieces first appear), then by configuration
/// with the seed aside (the presets' configurations first).
pub fn group_runs(runs: Vec<ClassRun>) -> Vec<PieceGroup> {
    let presets = Presets::new();
    let mut pieces: Vec<(PieceGroup, Vec<String>)> = Vec::new();
    for run in runs {
        let key = without_seed(&run.record.config).to_string();
        let index = match pieces.iter().position(|(p, _)| p.group == run.record.group) {
            Some(i) => i,
            None => {
                pieces.push((PieceGroup { group: run.record.group.clone(), configs: Vec::new() }, Vec::new()));
                pieces.len() - 1
            }
        };
        let (piece, keys) = &mut pieces[index];
        // A trial run is its own configuration group even where its configuration is not.
        let key = if run.record.trial { format!("trial {key}") } else { key };
        match keys.iter().position(|k| *k == key) {
            Some(i) => piece.configs[i].runs.push(run),
            None => {
                keys.push(key);
                let flag = presets.flag(&run.record.config, run.record.trial);
                piece.configs.push(ConfigGroup {
                    config: run.record.config.clone(),
                    runs: vec![run],
                    flag,
                    spread: Vec::new(),
                });
            }
        }
    }
    pieces
        .into_iter()
        .map(|(mut piece, _)| {
            for config in &mut piece.configs {
                config.spread = spread(&config.runs);
            }
            // Stable: the presets' configurations first, each side in its first-seen order.
            piece.configs.sort_by_key(|c| c.flag.is_some());
            piece
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chart::RunSeries;
    use crate::experiment::{presets, EpochSummary};
    use crate::records::RunStatus;

    fn epoch(epoch: usize, test_accuracy: f32) -> EpochSummary {
        EpochSummary {
            epoch,
            train_loss: 0.5,
            train_accuracy: 0.8,
            test_loss: 0.55,
            test_accuracy,
            grad_norm: 1.0,
            grad_norm_clipped: 1.0,
            elapsed_secs: 3.0,
            train_eval_accuracy: None,
            test_loss_batch_stats: None,
            position_losses: Vec::new(),
            batch_of_one: None,
        }
    }

    /// A finished run of lesson 4's piece (BatchNorm, quick preset) at `seed` whose test
    /// accuracy per epoch is `accuracies`.
    pub(crate) fn run(id: u64, seed: u64, accuracies: &[f32]) -> RunRecord {
        let mut config = presets::high_lr(true, Preset::Quick);
        config.seed = seed;
        let mut series = RunSeries::new("BatchNorm");
        series.batch_losses = (1..=20).map(|i| (i as f64 / 10.0, 2.3 / i as f32)).collect();
        series.epochs = accuracies.iter().enumerate().map(|(i, &a)| epoch(i + 1, a)).collect();
        let last = accuracies.last().copied().unwrap_or(0.0);
        RunRecord {
            id,
            group: "l4/high-lr".into(),
            config,
            device: "CPU".into(),
            engine: Some("cpu".into()),
            trial: false,
            series,
            status: RunStatus::Done { outcome: Outcome::Finished { final_test_accuracy: last, not_learning: false } },
            started_ms: 1.0e12 + id as f64,
            loss_noise: Some(0.1),
        }
    }

    fn file(name: &str, runs: &[RunRecord]) -> (String, Vec<u8>) {
        (name.to_string(), records::to_json(runs).into_bytes())
    }

    fn report() -> DeviceReport {
        use crate::experiment::self_check::{KernelAgreement, StepTime, REPORT_VERSION};
        DeviceReport {
            kind: REPORT_KIND.into(),
            version: REPORT_VERSION,
            made_ms: 1.0e12,
            browser: "test".into(),
            gpu: Some("WebGPU on test".into()),
            gpu_problem: None,
            kernels: vec![
                KernelAgreement {
                    kernel: "matmul".into(),
                    cases: 3,
                    largest_difference: 1e-6,
                    tolerance_used: 0.1,
                    passed: true,
                },
                KernelAgreement {
                    kernel: "norm".into(),
                    cases: 2,
                    largest_difference: 1.0,
                    tolerance_used: 9.0,
                    passed: false,
                },
            ],
            steps: vec![StepTime { model: "cnn".into(), engine: "cpu".into(), batch: 64, step_millis: 90.0 }],
        }
    }

    /// The end-to-end check (`tests/e2e/class_view.mjs`) builds a class's files from these
    /// two: one run export and one device report as the lab writes them now. Rewrite them
    /// with `NORMLAB_WRITE_FIXTURES=1 cargo test --lib class_e2e`.
    #[test]
    fn class_e2e_fixtures_are_what_the_lab_writes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures");
        let expected = [
            ("class-run.json", records::to_json(&[run(1, 1, &[0.80, 0.85])])),
            ("class-device.json", report().to_json()),
        ];
        for (name, text) in expected {
            let path = dir.join(name);
            if std::env::var_os("NORMLAB_WRITE_FIXTURES").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let stored = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                stored, text,
                "{name} is stale: rewrite it with NORMLAB_WRITE_FIXTURES=1 cargo test --lib class_e2e"
            );
        }
    }

    #[test]
    fn class_mean_and_band_of_a_hand_made_pair_of_runs() {
        let runs = vec![
            ClassRun { file: "a.json".into(), record: run(1, 1, &[0.50, 0.80]) },
            ClassRun { file: "b.json".into(), record: run(2, 2, &[0.70, 0.90, 0.95]) },
        ];
        let s = spread(&runs);
        assert_eq!(s.len(), 3);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        assert!(close(s[0].mean, 60.0) && close(s[0].low, 50.0) && close(s[0].high, 70.0), "{:?}", s[0]);
        assert!(close(s[1].mean, 85.0) && close(s[1].low, 80.0) && close(s[1].high, 90.0), "{:?}", s[1]);
        // Only the second run reached epoch 3: its value alone, not averaged with nothing.
        assert_eq!(s[2].runs, 1);
        assert!(close(s[2].mean, 95.0) && close(s[2].low, 95.0) && close(s[2].high, 95.0), "{:?}", s[2]);
    }

    #[test]
    fn class_runs_group_by_piece_then_by_configuration_with_the_seed_aside() {
        let mut other_batch = run(3, 3, &[0.6]);
        other_batch.config.batch_size = 32;
        let mut other_piece = run(4, 1, &[0.6]);
        other_piece.group = "l9/clipping".into();
        let class = read_class(&[
            file("ann.json", &[run(1, 1, &[0.8]), run(2, 2, &[0.82])]),
            file("bo.json", &[other_batch, other_piece]),
        ]);
        assert!(class.set_aside.is_empty(), "{:?}", class.set_aside);
        let groups: Vec<(&str, Vec<usize>)> =
            class.pieces.iter().map(|p| (p.group.as_str(), p.configs.iter().map(|c| c.runs.len()).collect())).collect();
        assert_eq!(groups, [("l4/high-lr", vec![2, 1]), ("l9/clipping", vec![1])]);
        assert_eq!(class.pieces[0].configs[0].seeds(), [1, 2]);
        assert_eq!(class.pieces[0].configs[0].final_accuracies().len(), 2);
        assert_eq!(class.run_count(), 4);
    }

    #[test]
    fn class_flags_a_changed_batch_size_and_a_trial_but_not_a_preset_run() {
        let mut changed = run(3, 3, &[0.6]);
        changed.config.batch_size = 32;
        let mut trial = run(5, 1, &[0.3]);
        trial.trial = true;
        let mut smoke = run(6, 1, &[0.3]);
        smoke.config = presets::high_lr(false, Preset::Smoke);
        let mut full = run(7, 9, &[0.9]);
        full.config = presets::high_lr(false, Preset::Full);
        full.config.seed = 9;
        let class = read_class(&[file("class.json", &[run(1, 1, &[0.8]), changed, trial, smoke, full])]);
        let flags: Vec<Option<Flag>> = class.pieces[0].configs.iter().map(|c| c.flag.clone()).collect();
        let batch = FieldChange { field: "batch_size".into(), run: "32".into(), preset: "64".into() };
        assert_eq!(
            flags,
            [None, None, Some(Flag::NotPreset { changes: vec![batch] }), Some(Flag::Trial), Some(Flag::Trial)],
        );
    }

    #[test]
    fn class_lists_many_differences_as_not_a_preset_without_details() {
        let mut playground = run(1, 1, &[0.5]);
        playground.config = ExperimentConfig::default();
        playground.config.batch_size = 100;
        playground.config.learning_rate = 0.3;
        playground.config.epochs = 7;
        playground.config.max_batches_per_epoch = Some(3);
        let class = read_class(&[file("p.json", &[playground])]);
        assert_eq!(class.pieces[0].configs[0].flag, Some(Flag::NotPreset { changes: vec![] }));
    }

    #[test]
    fn class_sets_aside_foreign_and_damaged_files_naming_them_and_keeps_the_rest() {
        let mut damaged: Value =
            serde_json::from_str(&records::to_json(&[run(1, 1, &[0.8]), run(2, 2, &[0.7])])).unwrap();
        damaged["runs"][1]["config"]["batch_size"] = serde_json::json!("many");
        let class = read_class(&[
            file("good.json", &[run(3, 3, &[0.8])]),
            ("notes.json".into(), br#"{"title": "my notes"}"#.to_vec()),
            ("cut.json".into(), records::to_json(&[run(4, 4, &[0.8])]).as_bytes()[..60].to_vec()),
            ("half.json".into(), damaged.to_string().into_bytes()),
            ("picture.png".into(), vec![0x89, b'P', b'N', b'G', 0xff, 0xfe]),
            ("device.json".into(), report().to_json().into_bytes()),
        ]);
        let aside: Vec<(&str, usize)> = class.set_aside.iter().map(|s| (s.file.as_str(), s.kept_runs)).collect();
        assert_eq!(aside, [("notes.json", 0), ("cut.json", 0), ("half.json", 1), ("picture.png", 0)]);
        assert!(class.set_aside[0].reason.en.contains("neither a run export nor a device report"));
        assert!(class.set_aside[1].reason.en.contains("not readable"));
        assert!(class.set_aside[2].reason.en.contains("1 damaged run left out"));
        assert!(class.set_aside[3].reason.en.contains("UTF-8"));
        assert_eq!(class.run_count(), 2, "good.json's run and half.json's first");
        assert_eq!(class.devices.len(), 1);
        assert_eq!(class.devices[0].kernel_tally(), (1, 2));
    }

    #[test]
    fn class_counts_a_run_dropped_twice_once_and_says_so() {
        let class = read_class(&[file("a.json", &[run(1, 1, &[0.8])]), file("a copy.json", &[run(1, 1, &[0.8])])]);
        assert_eq!(class.run_count(), 1);
        assert_eq!(class.set_aside.len(), 1);
        assert!(class.set_aside[0].reason.en.contains("a.json"), "{:?}", class.set_aside[0]);
    }

    #[test]
    fn class_reads_device_reports_and_sets_aside_another_version() {
        let newer = report().to_json().replace("\"version\": 1", "\"version\": 2");
        let class =
            read_class(&[("new.json".into(), newer.into_bytes()), ("ok.json".into(), report().to_json().into_bytes())]);
        assert_eq!(class.devices.iter().map(|d| d.file.as_str()).collect::<Vec<_>>(), ["ok.json"]);
        assert!(class.set_aside[0].reason.en.contains("format 2"), "{:?}", class.set_aside);
    }
}

/// The property tests of the class view's input: whatever the teacher drops, nothing
/// panics and every file is accounted for.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::tests::run;
    use super::*;
    use proptest::prelude::*;

    /// A file is accounted for: it gave runs, a device row or a note that names it.
    fn accounted(class: &Class, name: &str) -> bool {
        class.devices.iter().any(|d| d.file == name)
            || class.set_aside.iter().any(|s| s.file == name && !s.reason.en.is_empty() && !s.reason.zh.is_empty())
            || class.pieces.iter().flat_map(|p| &p.configs).flat_map(|c| &c.runs).any(|r| r.file == name)
    }

    fn export(seeds: &[u64]) -> String {
        let runs: Vec<RunRecord> = seeds
            .iter()
            .enumerate()
            .map(|(i, &s)| run(i as u64 + 1, s, &[0.5, 0.6 + (s % 30) as f32 / 100.0]))
            .collect();
        records::to_json(&runs)
    }

    /// Arbitrary JSON values whose objects use, among others, the keys the reader looks at.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            "[a-z ]{0,8}".prop_map(Value::from),
            Just(Value::from(REPORT_KIND)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("runs".to_string()),
                        Just("version".to_string()),
                        Just("kind".to_string()),
                        "[a-z]{1,5}"
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn class_arbitrary_bytes_never_panic_and_are_accounted_for(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let class = read_class(&[("x.bin".into(), bytes)]);
            prop_assert!(accounted(&class, "x.bin"));
        }

        #[test]
        fn class_arbitrary_text_never_panics_and_is_accounted_for(text in "\\PC{0,200}") {
            let class = read_class(&[("x.txt".into(), text.into_bytes())]);
            prop_assert!(accounted(&class, "x.txt"));
        }

        #[test]
        fn class_a_valid_export_yields_all_its_runs(seeds in prop::collection::vec(1u64..1000, 1..6)) {
            let class = read_class(&[("e.json".into(), export(&seeds).into_bytes())]);
            prop_assert!(class.set_aside.is_empty(), "{:?}", class.set_aside);
            prop_assert_eq!(class.run_count(), seeds.len());
            // One configuration: the seeds are its spread, not configurations of their own.
            prop_assert_eq!(class.pieces.len(), 1);
            prop_assert_eq!(class.pieces[0].configs.len(), 1);
            prop_assert_eq!(class.pieces[0].configs[0].flag.clone(), None);
        }

        #[test]
        fn class_one_damaged_run_keeps_the_others(
            seeds in prop::collection::vec(1u64..1000, 2..6),
            pick in any::<prop::sample::Index>(),
            damage in 0usize..4,
        ) {
            let mut value: Value = serde_json::from_str(&export(&seeds)).unwrap();
            let broken = pick.index(seeds.len());
            let entry = &mut value["runs"][broken];
            match damage {
                0 => entry["config"]["batch_size"] = Value::from("many"),
                1 => entry["series"] = Value::from(3),
                2 => { entry.as_object_mut().unwrap().remove("status"); }
                _ => *entry = Value::from("a run"),
            }
            let class = read_class(&[("d.json".into(), value.to_string().into_bytes())]);
            prop_assert_eq!(class.run_count(), seeds.len() - 1);
            prop_assert_eq!(class.set_aside.len(), 1);
            prop_assert_eq!(&class.set_aside[0].file, "d.json");
            prop_assert_eq!(class.set_aside[0].kept_runs, seeds.len() - 1);
        }

        #[test]
        fn class_any_foreign_json_is_set_aside_with_a_message(value in json()) {
            let class = read_class(&[("f.json".into(), value.to_string().into_bytes())]);
            prop_assert_eq!(class.run_count(), 0);
            prop_assert!(class.devices.is_empty());
            prop_assert_eq!(class.set_aside.len(), 1);
            prop_assert_eq!(&class.set_aside[0].file, "f.json");
            prop_assert!(!class.set_aside[0].reason.en.is_empty() && !class.set_aside[0].reason.zh.is_empty());
        }

        #[test]
        fn class_mutated_exports_never_panic_and_are_accounted_for(
            seeds in prop::collection::vec(1u64..1000, 1..4),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        ) {
            let mut bytes = export(&seeds).into_bytes();
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            bytes.truncate(cut.index(bytes.len() + 1).max(1));
            let class = read_class(&[("m.json".into(), bytes)]);
            prop_assert!(accounted(&class, "m.json"));
            prop_assert!(class.run_count() <= seeds.len());
        }
    }
}
