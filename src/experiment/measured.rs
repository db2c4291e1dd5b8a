//! "What the lab measured": a stored experiment ([`ExperimentResults`]) as a table, in both
//! languages, for the lessons (the page draws it from `results/<experiment>.json`) and for
//! the README (`normlab-run --results-table` prints every stored experiment's as Markdown,
//! and a test holds the README to it). Every number in it is read from the file, one
//! column per seed, so a seed that trains badly shows as a seed effect, not as the result.

use super::catalog::{Experiment, VariantKey};
use super::course_results::{ExperimentResults, SeedRun, Spread, VariantResults};
use super::presets::{Preset, Regularizer};
use super::{EpochSummary, Outcome};
use crate::backend::{ClipNorm, GradClip};
use crate::data::DatasetId;
use crate::error::Words;
use crate::nn::{NormKind, NormPosition, Placement};
use crate::words;

/// Positions from here on (0-based: the 8th character) lie past every name a sequence
/// model of lesson 10's length experiment was trained on.
pub const UNSEEN_FROM_POSITION: usize = 7;

/// One experiment's table.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredTable {
    pub experiment: String,
    /// Where the numbers come from: the preset, the seeds, the engine, the day they were
    /// made and the time it all took.
    pub caption: Words,
    /// What made them, as the file names it (the same in both languages): the device, the
    /// machine and the commit.
    pub source: String,
    pub columns: Vec<Words>,
    /// A run's name, then one cell per column after the first.
    pub rows: Vec<(Words, Vec<String>)>,
}

/// A short name of what sets a run apart from the experiment's others.
pub fn key_words(key: VariantKey) -> Words {
    match key {
        VariantKey::BatchNorm(true) => words!("BatchNorm", "BatchNorm"),
        VariantKey::BatchNorm(false) => words!("no normalization", "无归一化"),
        VariantKey::NoisyBatchNorm { strength } => {
            words!("BatchNorm with noise of strength {strength}", "带强度 {strength} 噪声的 BatchNorm")
        }
        VariantKey::Momentum(momentum) => words!("BatchNorm, momentum {momentum}", "BatchNorm，动量 {momentum}"),
        VariantKey::Norm(norm) => norm_words(norm),
        VariantKey::NormAtBatch { norm, batch_size } => {
            let norm = norm_words(norm);
            Words {
                en: format!("{}, batch size {batch_size}", norm.en),
                zh: format!("{}，批大小 {batch_size}", norm.zh),
            }
        }
        VariantKey::Regularizer(r) => match r {
            Regularizer::None => words!("neither", "都不用"),
            Regularizer::Dropout => words!("Dropout", "Dropout"),
            Regularizer::BatchNorm => words!("BatchNorm", "BatchNorm"),
            Regularizer::Both => words!("BatchNorm and Dropout", "BatchNorm 加 Dropout"),
        },
        VariantKey::Placement(Placement::Before) => words!("norm before ReLU", "归一化在 ReLU 之前"),
        VariantKey::Placement(Placement::After) => words!("norm after ReLU", "归一化在 ReLU 之后"),
        VariantKey::Bias(true) => words!("a bias before BatchNorm", "BatchNorm 前有偏置"),
        VariantKey::Bias(false) => words!("no bias before BatchNorm", "BatchNorm 前无偏置"),
        VariantKey::Clip(clip) => match clip {
            GradClip::None => words!("no clipping", "不裁剪"),
            GradClip::Norm { max_norm, norm_type } => {
                let norm = match norm_type {
                    ClipNorm::L1 => "L1",
                    ClipNorm::L2 => "L2",
                    ClipNorm::Inf => "L∞",
                };
                words!("clipped by {norm} norm at {max_norm}", "按 {norm} 范数裁剪到 {max_norm}")
            }
            GradClip::Value { clip } => words!("clipped by value at {clip}", "按值裁剪到 {clip}"),
        },
        VariantKey::SequenceNorm { norm, position } => {
            let norm_is_none = norm == NormKind::None;
            let norm = match norm {
                NormKind::Layer => words!("LayerNorm", "LayerNorm"),
                NormKind::Batch => words!("BatchNorm over the real tokens", "对真实词元的 BatchNorm"),
                NormKind::BatchPerPosition => words!("BatchNorm per position", "逐位置的 BatchNorm"),
                other => norm_words(other),
            };
            match position {
                _ if norm_is_none => norm,
                NormPosition::Pre => Words { en: format!("pre-{}", norm.en), zh: format!("前置 {}", norm.zh) },
                NormPosition::Post => Words { en: format!("post-{}", norm.en), zh: format!("后置 {}", norm.zh) },
            }
        }
        VariantKey::Warmup { position, warmup } => match (position, warmup) {
            (NormPosition::Pre, _) => words!("pre-LayerNorm", "前置 LayerNorm"),
            (NormPosition::Post, false) => words!("post-LayerNorm", "后置 LayerNorm"),
            (NormPosition::Post, true) => words!("post-LayerNorm with warm-up", "带预热的后置 LayerNorm"),
        },
    }
}

fn norm_words(norm: NormKind) -> Words {
    match norm {
        NormKind::None => words!("no normalization", "无归一化"),
        NormKind::Batch => words!("BatchNorm", "BatchNorm"),
        NormKind::BatchPerPosition => words!("BatchNorm per position", "逐位置的 BatchNorm"),
        NormKind::Layer => words!("LayerNorm", "LayerNorm"),
        NormKind::Instance => words!("InstanceNorm", "InstanceNorm"),
        NormKind::Group { groups } => words!("GroupNorm ({groups} groups)", "GroupNorm（{groups} 组）"),
        NormKind::Rms => words!("RMSNorm", "RMSNorm"),
        NormKind::Lp { order } => match order {
            crate::nn::LpOrder::L1 => words!("L1 normalization", "L1 归一化"),
            crate::nn::LpOrder::L2 => words!("L2 normalization (BatchNorm)", "L2 归一化（BatchNorm）"),
            crate::nn::LpOrder::Linf => words!("L∞ normalization", "L∞ 归一化"),
        },
    }
}

/// A value for a table cell: a fixed number of decimals, or a power of ten when huge.
fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "NaN".into();
    }
    if value.abs() >= 1e4 {
        let exponent = value.abs().log10().floor() as i32;
        const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
        let power: String =
            exponent.to_string().chars().map(|c| c.to_digit(10).map_or('⁻', |d| SUPERSCRIPTS[d as usize])).collect();
        return format!("{:.1}·10{power}", value / 10f64.powi(exponent));
    }
    format!("{value:.decimals$}")
}

fn range(spread: Option<Spread>, decimals: usize, unit: &str) -> String {
    match spread {
        Some(s) if number(s.min, decimals) == number(s.max, decimals) => format!("{}{unit}", number(s.min, decimals)),
        Some(s) => format!("{}–{}{unit}", number(s.min, decimals), number(s.max, decimals)),
        None => "–".into(),
    }
}

/// What each kind of model is measured by.
#[derive(Clone, Copy, PartialEq)]
enum Measure {
    /// Test accuracy in eval mode (image classifiers, the toy sets).
    Accuracy,
    /// Held-out loss in nats per character (the name models).
    Loss,
}

fn measure_of(run: &VariantResults) -> Measure {
    match run.config.dataset {
        DatasetId::Names | DatasetId::NameSequences => Measure::Loss,
        _ => Measure::Accuracy,
    }
}

/// One seed's result in words (both languages): its accuracy or loss, or how it failed.
fn seed_cell(seed: &SeedRun, measure: Measure) -> Words {
    let last = seed.epochs.last();
    match (&seed.outcome, measure) {
        (Outcome::Diverged { epoch, batch }, _) => {
            words!("diverged (epoch {epoch}, batch {batch})", "发散（第 {epoch} 个 epoch，第 {batch} 批）")
        }
        (Outcome::Stopped { .. }, _) => words!("stopped", "已停止"),
        (Outcome::Finished { final_test_accuracy, not_learning }, Measure::Accuracy) => {
            let value = format!("{} %", number(*final_test_accuracy as f64 * 100.0, 1));
            if *not_learning {
                words!("not learning ({value})", "没有在学习（{value}）")
            } else {
                Words { en: value.clone(), zh: value }
            }
        }
        (Outcome::Finished { .. }, Measure::Loss) => {
            let value = last.map_or("–".to_string(), |e| number(e.test_loss as f64, 2));
            Words { en: value.clone(), zh: value }
        }
    }
}

/// The loss per character from [`UNSEEN_FROM_POSITION`] on, weighted by the targets there.
pub fn unseen_positions_loss(epoch: &EpochSummary) -> Option<f64> {
    let later: Vec<_> = epoch.position_losses.iter().filter(|p| p.position >= UNSEEN_FROM_POSITION).collect();
    let tokens: f64 = later.iter().map(|p| p.tokens as f64).sum();
    (tokens > 0.0).then(|| later.iter().map(|p| p.loss as f64 * p.tokens as f64).sum::<f64>() / tokens)
}

/// The largest difference, with the batch's statistics, between one name's losses alone
/// and in a batch; None where a batch of one is refused.
pub fn batch_of_one_difference(epoch: &EpochSummary) -> Option<f64> {
    let one = epoch.batch_of_one.as_ref()?;
    let alone = one.alone_batch_stats.as_ref()?;
    Some(alone.iter().zip(&one.in_batch_batch_stats).map(|(a, b)| (a - b).abs() as f64).fold(0.0, f64::max))
}

/// The columns past the seeds', each with how a seed's run gives its value, its decimals,
/// and what to say where no seed has one (None: a dash).
type Extra = (Words, fn(&SeedRun) -> Option<f64>, usize, fn(&SeedRun) -> Option<Words>);

fn nothing(_: &SeedRun) -> Option<Words> {
    None
}

/// Where a batch of one is refused (BatchNorm with one value per channel), it says so.
fn refused(seed: &SeedRun) -> Option<Words> {
    last(seed)?.batch_of_one.as_ref()?.refusal.as_ref()?;
    Some(words!("refused: one value per channel", "被拒绝：每个通道只有一个值"))
}

fn last(seed: &SeedRun) -> Option<&EpochSummary> {
    seed.epochs.last()
}

/// The mean over layers 2 on (the first layer has no layer before it to shift it).
fn after_first_layer(values: &[f32]) -> Option<f64> {
    let later = values.get(1..).filter(|v| !v.is_empty())?;
    Some(later.iter().map(|&v| v as f64).sum::<f64>() / later.len() as f64)
}

fn extras(results: &ExperimentResults) -> Vec<Extra> {
    let seeds = || results.runs.iter().flat_map(|r| r.seeds.iter());
    let last_epochs = || seeds().filter_map(last);
    let probes = || seeds().filter_map(|s| s.probes.as_ref());
    let mut extras: Vec<Extra> = Vec::new();
    if last_epochs().any(|e| e.train_eval_accuracy.is_some()) {
        extras.push((
            words!("train − test accuracy (points)", "训练与测试准确率之差（百分点）"),
            |s| last(s).and_then(|e| e.train_eval_accuracy.map(|t| (t - e.test_accuracy) as f64 * 100.0)),
            1,
            nothing,
        ));
    }
    if last_epochs().any(|e| e.test_loss_batch_stats.is_some()) {
        extras.push((
            words!("held-out loss with the batch's statistics", "用批统计量时的留出损失"),
            |s| last(s).and_then(|e| e.test_loss_batch_stats.map(f64::from)),
            2,
            nothing,
        ));
    }
    if last_epochs().any(|e| !e.position_losses.is_empty()) {
        extras.push((
            words!("loss from the 8th character on", "从第 8 个字符起的损失"),
            |s| last(s).and_then(unseen_positions_loss),
            2,
            nothing,
        ));
    }
    if last_epochs().any(|e| e.batch_of_one.is_some()) {
        extras.push((
            words!(
                "one name alone vs in a batch, largest difference (batch statistics)",
                "一个名字单独与在批中的最大差别（批统计量）"
            ),
            |s| last(s).and_then(batch_of_one_difference),
            2,
            refused,
        ));
    }
    if probes().any(|p| p.loss_range.0.is_some()) {
        extras.push((
            words!("loss range along the gradient, first epoch", "沿梯度方向的损失范围，第一个 epoch"),
            |s| s.probes.as_ref()?.loss_range.0.map(f64::from),
            2,
            nothing,
        ));
        extras.push((
            words!("gradient change along it, first epoch", "沿该方向的梯度变化，第一个 epoch"),
            |s| s.probes.as_ref()?.gradient_change.0.map(f64::from),
            2,
            nothing,
        ));
        extras.push((
            words!("effective β-smoothness, first epoch", "有效 β-平滑度，第一个 epoch"),
            |s| s.probes.as_ref()?.beta_smoothness.0.map(f64::from),
            2,
            nothing,
        ));
        extras.push((
            words!("loss range, later epochs", "损失范围，之后的 epoch"),
            |s| s.probes.as_ref()?.loss_range.1.map(f64::from),
            2,
            nothing,
        ));
    }
    if probes().any(|p| !p.shift_cosine.is_empty()) {
        extras.push((
            words!(
                "covariate shift: cos(G, G′), layers 2 on, first epoch",
                "协变量偏移：cos(G, G′)，第 2 层起，第一个 epoch"
            ),
            |s| after_first_layer(&s.probes.as_ref()?.shift_cosine),
            2,
            nothing,
        ));
        extras.push((
            words!("‖G − G′‖, layers 2 on, first epoch", "‖G − G′‖，第 2 层起，第一个 epoch"),
            |s| after_first_layer(&s.probes.as_ref()?.shift_distance),
            3,
            nothing,
        ));
    }
    if seeds().any(|s| s.gradients_at_init.is_some()) {
        extras.push((
            words!("‖∇W₂‖ before the first step, first block", "第一步之前的 ‖∇W₂‖，第一个块"),
            |s| s.gradients_at_init.as_ref()?.mlp_output.first().map(|&g| g as f64),
            2,
            nothing,
        ));
        extras.push((
            words!("the same, last block", "同上，最后一个块"),
            |s| s.gradients_at_init.as_ref()?.mlp_output.last().map(|&g| g as f64),
            2,
            nothing,
        ));
    }
    extras
}

/// "1–3", or "1, 4, 7" when they are not consecutive.
pub fn seed_range(seeds: &[u64]) -> String {
    let consecutive = seeds.windows(2).all(|w| w[1] == w[0] + 1);
    match seeds {
        [first, .., last] if consecutive => format!("{first}–{last}"),
        _ => seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
    }
}

fn duration(secs: f64) -> Words {
    let minutes = (secs / 60.0).round() as u64;
    if secs < 90.0 {
        let secs = secs.round();
        words!("{secs} s", "{secs} 秒")
    } else if minutes < 90 {
        words!("{minutes} min", "{minutes} 分钟")
    } else {
        let hours = minutes as f64 / 60.0;
        words!("{hours:.1} h", "{hours:.1} 小时")
    }
}

/// The table of one stored experiment.
pub fn measured_table(results: &ExperimentResults) -> MeasuredTable {
    let experiment = Experiment::parse(&results.experiment);
    let keys: Vec<Option<VariantKey>> = match experiment {
        Some(e) => e.variants(Preset::Full).into_iter().map(|v| Some(v.key)).collect(),
        None => Vec::new(),
    };
    let measure = results.runs.first().map_or(Measure::Accuracy, measure_of);
    let extras = extras(results);
    let mut columns = vec![words!("run", "运行")];
    for seed in &results.seeds {
        columns.push(match measure {
            Measure::Accuracy => words!("test accuracy, seed {seed}", "测试准确率，种子 {seed}"),
            Measure::Loss => words!("held-out loss (nats/char), seed {seed}", "留出损失（nat/字符），种子 {seed}"),
        });
    }
    columns.push(words!("range over the seeds", "各种子的范围"));
    columns.extend(extras.iter().map(|(w, ..)| w.clone()));
    let rows = results
        .runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let name = keys.get(i).copied().flatten().map_or_else(|| run.config.label_words(), key_words);
            let mut en = Vec::new();
            let mut zh = Vec::new();
            for seed in &run.seeds {
                let cell = seed_cell(seed, measure);
                en.push(cell.en);
                zh.push(cell.zh);
            }
            let spread = match measure {
                Measure::Accuracy => range(run.final_accuracy().map(|s| s.scaled(100.0)), 1, " %"),
                Measure::Loss => range(
                    Spread::of(
                        run.seeds
                            .iter()
                            .filter(|s| matches!(s.outcome, Outcome::Finished { .. }))
                            .filter_map(|s| s.epochs.last())
                            .map(|e| e.test_loss as f64),
                    ),
                    2,
                    "",
                ),
            };
            en.push(spread.clone());
            zh.push(spread);
            for (_, value, decimals, when_missing) in &extras {
                let spread = Spread::of(run.seeds.iter().filter_map(value));
                match spread.is_none().then(|| run.seeds.iter().find_map(when_missing)).flatten() {
                    Some(words) => {
                        en.push(words.en);
                        zh.push(words.zh);
                    }
                    None => {
                        let cell = range(spread, *decimals, "");
                        en.push(cell.clone());
                        zh.push(cell);
                    }
                }
            }
            // A cell is the same in both languages unless it is words.
            (
                name,
                en.into_iter().zip(zh).map(|(en, zh)| if en == zh { en } else { format!("{en}\u{1f}{zh}") }).collect(),
            )
        })
        .collect();
    let seeds = seed_range(&results.seeds);
    let time = duration(results.wall_secs);
    let day = results.made.get(..10).unwrap_or(&results.made);
    let engine = results.engine.to_uppercase();
    let caption = Words {
        en: format!("the full preset over seeds {seeds}, on the {engine} engine, made {day} in {}", time.en),
        zh: format!("完整预设，种子 {seeds}，{engine} 引擎，{day} 生成，共用时 {}", time.zh),
    };
    let source = format!("{} · {} · commit {}", results.device, results.machine, results.commit);
    MeasuredTable { experiment: results.experiment.clone(), caption, source, columns, rows }
}

impl MeasuredTable {
    /// A cell in one language (cells made of words hold both).
    pub fn cell(cell: &str, english: bool) -> &str {
        match cell.split_once('\u{1f}') {
            Some((en, zh)) => {
                if english {
                    en
                } else {
                    zh
                }
            }
            None => cell,
        }
    }

    /// The table in English Markdown, headed by the experiment's name and its caption.
    pub fn markdown(&self) -> String {
        let escape = |s: &str| s.replace('|', "\\|");
        let mut out = format!("`{}`: {} ({}).\n\n", self.experiment, self.caption.en, self.source);
        out.push_str(&format!("| {} |\n", self.columns.iter().map(|c| escape(&c.en)).collect::<Vec<_>>().join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(self.columns.len())));
        for (name, cells) in &self.rows {
            let cells: Vec<String> = cells.iter().map(|c| escape(Self::cell(c, true))).collect();
            out.push_str(&format!("| {} | {} |\n", escape(&name.en), cells.join(" | ")));
        }
        out
    }
}

/// Every stored experiment's table, in the course's order, as the README shows them.
pub fn markdown_tables(stored: &[ExperimentResults]) -> String {
    let mut ordered: Vec<&ExperimentResults> = stored.iter().collect();
    let position = |r: &ExperimentResults| Experiment::ALL.iter().position(|e| e.name() == r.experiment);
    ordered.sort_by_key(|r| position(r));
    let total: f64 = ordered.iter().map(|r| r.wall_secs).sum();
    let tables = ordered.iter().map(|r| measured_table(r).markdown()).collect::<Vec<_>>().join("\n");
    format!(
        "{} experiments stored; their files' wall times add up to {} of training.\n\n{tables}",
        ordered.len(),
        duration(total).en
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::course_results::RESULTS_VERSION;

    fn seed(seed: u64, outcome: Outcome, test_loss: f32) -> SeedRun {
        SeedRun {
            seed,
            outcome,
            epochs: vec![EpochSummary { epoch: 1, test_loss, ..EpochSummary::default() }],
            batch_losses: vec![],
            loss_noise: None,
            wall_secs: 1.0,
            gradients_at_init: None,
            probes: None,
        }
    }

    fn results(experiment: Experiment, seeds: Vec<Vec<SeedRun>>) -> ExperimentResults {
        ExperimentResults {
            version: RESULTS_VERSION,
            experiment: experiment.name().into(),
            preset: "full".into(),
            seeds: vec![1, 2, 3],
            commit: "abc123".into(),
            engine: "cpu".into(),
            device: "CPU (one thread)".into(),
            machine: "x86_64 linux, 2 cores".into(),
            made: "2026-12-06T07:00:00Z".into(),
            wall_secs: 3600.0,
            runs: experiment
                .variants(Preset::Full)
                .into_iter()
                .zip(seeds)
                .map(|(v, seeds)| VariantResults { config: v.config, seeds })
                .collect(),
        }
    }

    fn finished(accuracy: f32) -> Outcome {
        Outcome::Finished { final_test_accuracy: accuracy, not_learning: false }
    }

    #[test]
    fn every_seed_has_its_column_and_failures_are_named_in_words() {
        let stored = results(
            Experiment::HighLr,
            vec![
                vec![
                    seed(1, Outcome::Finished { final_test_accuracy: 0.1, not_learning: true }, 2.30),
                    seed(2, Outcome::Diverged { epoch: 1, batch: 76 }, f32::NAN),
                    seed(3, finished(0.1), 2.30),
                ],
                vec![seed(1, finished(0.852), 0.4), seed(2, finished(0.068), 2.0), seed(3, finished(0.504), 1.0)],
            ],
        );
        let table = measured_table(&stored);
        assert_eq!(table.columns.len(), 1 + 3 + 1);
        assert_eq!(table.columns[1].en, "test accuracy, seed 1");
        let (name, cells) = &table.rows[0];
        assert_eq!(name.en, "no normalization");
        assert_eq!(MeasuredTable::cell(&cells[0], true), "not learning (10.0 %)");
        assert_eq!(MeasuredTable::cell(&cells[0], false), "没有在学习（10.0 %）");
        assert_eq!(MeasuredTable::cell(&cells[1], true), "diverged (epoch 1, batch 76)");
        // The range leaves out the seed that has no accuracy.
        assert_eq!(cells[3], "10.0 %");
        let (name, cells) = &table.rows[1];
        assert_eq!(name.en, "BatchNorm");
        assert_eq!(cells[..4], ["85.2 %", "6.8 %", "50.4 %", "6.8–85.2 %"]);
        assert!(table.caption.en.contains("seeds 1–3") && table.source.contains("commit abc123"));
        assert!(table.caption.en.contains("in 60 min"), "{}", table.caption.en);
        let markdown = table.markdown();
        assert!(markdown.starts_with("`high-lr`: the full preset over seeds 1–3"), "{markdown}");
        assert!(markdown.contains("(CPU (one thread) · x86_64 linux, 2 cores · commit abc123)"), "{markdown}");
        assert_eq!(markdown.lines().filter(|l| l.starts_with("| ")).count(), 3, "{markdown}");
    }

    #[test]
    fn name_models_are_measured_by_their_held_out_loss_and_huge_losses_in_powers_of_ten() {
        let stored = results(
            Experiment::SeqNorms,
            (0..6)
                .map(|i| {
                    let loss = if i == 4 { 2.3e9 } else { 1.93 + i as f32 * 0.001 };
                    (1..=3).map(|s| seed(s, finished(0.3), loss)).collect()
                })
                .collect(),
        );
        let table = measured_table(&stored);
        assert_eq!(table.columns[1].en, "held-out loss (nats/char), seed 1");
        assert_eq!(table.rows[0].0.en, "pre-LayerNorm");
        assert_eq!(table.rows[0].1[0], "1.93");
        assert_eq!(table.rows[4].0.en, "pre-BatchNorm per position");
        assert_eq!(table.rows[4].1[0], "2.3·10⁹");
        assert_eq!(table.rows[5].0.en, "no normalization");
    }

    #[test]
    fn the_loss_past_the_training_names_is_weighted_by_the_targets_there() {
        use crate::experiment::PositionLoss;
        let at = |position, loss, tokens| PositionLoss { position, loss, tokens };
        let epoch = EpochSummary {
            position_losses: vec![at(0, 9.0, 100), at(7, 1.0, 30), at(8, 2.0, 10)],
            ..EpochSummary::default()
        };
        assert!((unseen_positions_loss(&epoch).unwrap() - 1.25).abs() < 1e-9);
        assert_eq!(unseen_positions_loss(&EpochSummary::default()), None);
    }

    #[test]
    fn every_key_of_every_experiment_has_words_in_both_languages() {
        for experiment in Experiment::ALL {
            for variant in experiment.variants(Preset::Full) {
                let w = key_words(variant.key);
                assert!(!w.en.is_empty() && !w.zh.is_empty(), "{:?}", variant.key);
                assert!(!w.zh.is_ascii() || w.zh == w.en, "{:?}: {}", variant.key, w.zh);
            }
        }
    }
}
