//! The URL keys of an experiment in one place: what each allows, its default and what it
//! means. The forgiving link parser, its messages and the native runner's strict command
//! line all read these, so a range is written once.

use crate::data::DatasetId;

use super::super::config::{BATCH_SIZE_RANGE, EPOCHS_RANGE, LEARNING_RATE_RANGE};
use super::CLIP_KINDS;

/// The widest hidden layer and the most hidden layers a link may ask for (a typo must not
/// allocate gigabytes).
pub const MAX_WIDTH: usize = 4096;
pub const MAX_LAYERS: usize = 8;

pub const TRAIN_SUBSET_RANGE: (usize, usize) = (2, 10_000_000);
pub const TEST_SUBSET_RANGE: (usize, usize) = (1, 10_000_000);
pub const EMBED_RANGE: (usize, usize) = (1, 256);
/// The transformer's width, heads, blocks and sequence length.
pub const DIM_RANGE: (usize, usize) = (4, 512);
pub const HEADS_RANGE: (usize, usize) = (1, 16);
pub const BLOCKS_RANGE: (usize, usize) = (1, 12);
pub const CONTEXT_RANGE: (usize, usize) = (2, 64);
pub const BATCHES_RANGE: (usize, usize) = (1, 1_000_000);
pub const INIT_SCALE_RANGE: (f32, f32) = (0.01, 100.0);
pub const DROPOUT_RANGE: (f32, f32) = (0.0, 1.0);
pub const NORM_MOMENTUM_RANGE: (f32, f32) = (0.0, 1.0);
pub const NOISE_RANGE: (f32, f32) = (0.0, 10.0);
pub const WEIGHT_DECAY_RANGE: (f32, f32) = (0.0, 1.0);
pub const SGD_MOMENTUM_RANGE: (f32, f32) = (0.0, 0.999);
/// The share of the run after which `drop` lowers the learning rate, and its factor.
pub const LR_DROP_AT_RANGE: (f32, f32) = (0.0, 1.0);
pub const LR_DROP_FACTOR_RANGE: (f32, f32) = (1e-6, 1.0);
/// Steps of linear learning-rate warm-up.
pub const WARMUP_RANGE: (usize, usize) = (1, 1_000_000);
/// The longest training name, in letters.
pub const LETTERS_RANGE: (usize, usize) = (1, 62);
/// The threshold of a gradient clipping.
pub const CLIP_AMOUNT_RANGE: (f32, f32) = (1e-6, 1e6);

pub const ARCHITECTURES: [&str; 4] = ["mlp", "cnn", "char", "transformer"];
/// Where the transformer's norms sit.
pub const NORM_POSITIONS: [&str; 2] = ["pre", "post"];
pub const PLACEMENTS: [&str; 2] = ["before", "after"];
pub const ACTIVATIONS: [&str; 2] = ["relu", "tanh"];
/// `sgd` is SGD with momentum ([`SGD_MOMENTUM_RANGE`], 0.9 unless `sgdm` says otherwise).
pub const OPTIMIZERS: [&str; 2] = ["sgd", "adam"];

/// One setting of the page's address.
#[derive(Clone, Copy, Debug)]
pub struct UrlKey {
    pub name: &'static str,
    /// The value it has when the address does not name it, as the reader would write it.
    pub default: &'static str,
    /// What it sets, in a line.
    pub meaning: &'static str,
}

const fn key(name: &'static str, default: &'static str, meaning: &'static str) -> UrlKey {
    UrlKey { name, default, meaning }
}

/// Every experiment setting an address may carry, in the order the help lists them.
pub const URL_KEYS: [UrlKey; 33] = [
    key("data", "fashion-mnist", "data set (cifar10 reads your own batch file, image-folder your own folder of images)"),
    key("train", "all", "train on only this many examples (a fixed subset, the same for every seed)"),
    key("test", "all", "evaluate on only the first this-many test examples"),
    key(
        "arch",
        "mlp",
        "architecture (char: the character-level MLP of lesson 3; transformer: the causal transformer over whole names, with data=name-sequences)",
    ),
    key("hidden", "256-256", "hidden linear widths, joined by - (the CNN's default is 128, char's 200)"),
    key("channels", "32-64", "convolution channels, with arch=cnn"),
    key("embed", "10", "embedding size per character, with arch=char"),
    key("dim", "64", "the transformer's width, with arch=transformer"),
    key("heads", "4", "the transformer's attention heads (they divide dim)"),
    key("blocks", "2", "the transformer's blocks"),
    key("context", "16", "the transformer's sequence length"),
    key("ln", "pre", "where the transformer's norms sit: pre (before each branch) or post (after each residual addition)"),
    key("init", "1", "multiplier on PyTorch's default weight initialisation"),
    key("norm", "batch", "normalization, or a comma list with one per block"),
    key("place", "before", "the norm before or after the activation"),
    key("act", "relu", "activation"),
    key("dropout", "0", "dropout after the hidden linear blocks (1 drops everything)"),
    key("bias", "1", "bias on the linear and convolution layers"),
    key("affine", "1", "learnable γ and β in the norms"),
    key(
        "momentum",
        "0.1",
        "BatchNorm's running-statistics momentum (none: a cumulative average); not SGD's momentum, that is sgdm",
    ),
    key("noise", "0", "noisy-BatchNorm strength"),
    key("opt", "adam", "optimizer: sgd is SGD with momentum 0.9 (set by sgdm), adam is Adam (β 0.9, 0.999)"),
    key("sgdm", "0.9", "SGD's momentum, with opt=sgd (0: plain SGD)"),
    key("lr", "0.001", "learning rate"),
    key("wd", "0", "weight decay"),
    key("batch", "64", "batch size (the last incomplete batch is dropped)"),
    key("epochs", "1", "epochs"),
    key("seed", "1", "random seed (initialisation, shuffling, dropout)"),
    key("batches", "all", "stop each epoch after this many batches"),
    key("clip", "none", "gradient clipping: norm (L2), norm-l1, norm-inf (clip_grad_norm_), value (clip_grad_value_)"),
    key("drop", "none", "share:factor: after this share of all steps, multiply the learning rate by factor"),
    key("warmup", "none", "raise the learning rate linearly from lr/N to lr over the first N steps"),
    key("letters", "all", "train only on names of at most this many letters, with data=name-sequences"),
];

/// The defaults of [`URL_KEYS`] that are not values a link could carry: the key is absent.
pub const ABSENT_BY_DEFAULT: [&str; 6] = ["train", "test", "batches", "drop", "warmup", "letters"];

fn span<T: std::fmt::Display>((low, high): (T, T)) -> String {
    format!("{low} to {high}")
}

fn span_zh<T: std::fmt::Display>((low, high): (T, T)) -> String {
    format!("{low} 到 {high}")
}

/// What a URL key allows, in words (English, Chinese), for the messages when a value is
/// not allowed and for the runner's help.
pub fn allowed(key: &str) -> (String, String) {
    let choices = |names: &[&str]| (names.join(", "), names.join("、"));
    let both = |range: (f32, f32)| (span(range), span_zh(range));
    let counts = |range: (usize, usize)| (span(range), span_zh(range));
    match key {
        "data" => {
            let names: Vec<&str> = DatasetId::ALL.iter().map(|d| d.name()).collect();
            choices(&names)
        }
        "train" => (
            format!("a whole number of training examples, {}", span(TRAIN_SUBSET_RANGE)),
            format!("训练样本数，{} 的整数", span_zh(TRAIN_SUBSET_RANGE)),
        ),
        "test" => (
            format!("a whole number of test examples, {}", span(TEST_SUBSET_RANGE)),
            format!("测试样本数，{} 的整数", span_zh(TEST_SUBSET_RANGE)),
        ),
        "arch" => choices(&ARCHITECTURES),
        "embed" => counts(EMBED_RANGE),
        "dim" => counts(DIM_RANGE),
        "heads" => counts(HEADS_RANGE),
        "blocks" => counts(BLOCKS_RANGE),
        "context" => counts(CONTEXT_RANGE),
        "warmup" => (
            format!("a whole number of steps, {}", span(WARMUP_RANGE)),
            format!("步数，{} 的整数", span_zh(WARMUP_RANGE)),
        ),
        "letters" => (
            format!("a whole number of letters, {}", span(LETTERS_RANGE)),
            format!("字母数，{} 的整数", span_zh(LETTERS_RANGE)),
        ),
        "ln" => choices(&NORM_POSITIONS),
        "init" => both(INIT_SCALE_RANGE),
        "drop" => (
            format!(
                "share:factor, share {}, factor {}, e.g. 0.5:0.1",
                span(LR_DROP_AT_RANGE),
                span(LR_DROP_FACTOR_RANGE)
            ),
            format!(
                "比例:倍数，比例 {}，倍数 {}，例如 0.5:0.1",
                span_zh(LR_DROP_AT_RANGE),
                span_zh(LR_DROP_FACTOR_RANGE)
            ),
        ),
        "hidden" | "channels" => (
            format!("widths 1 to {MAX_WIDTH} joined by -, at most {MAX_LAYERS} layers, e.g. 256-256"),
            format!("用 - 连接的宽度（1 到 {MAX_WIDTH}），最多 {MAX_LAYERS} 层，例如 256-256"),
        ),
        "norm" => (
            "none, batch, layer, instance, groupG, rms, l1, l2, linf, or a comma list per block".into(),
            "none、batch、layer、instance、groupG、rms、l1、l2、linf，或按块用逗号分隔".into(),
        ),
        "place" => choices(&PLACEMENTS),
        "act" => choices(&ACTIVATIONS),
        "dropout" => both(DROPOUT_RANGE),
        "bias" | "affine" => ("1 or 0".into(), "1 或 0".into()),
        "momentum" => {
            (format!("{}, or none", span(NORM_MOMENTUM_RANGE)), format!("{}，或 none", span_zh(NORM_MOMENTUM_RANGE)))
        }
        "noise" => both(NOISE_RANGE),
        "opt" => ("sgd (with momentum), adam".into(), "sgd（带动量）、adam".into()),
        "lr" => both(LEARNING_RATE_RANGE),
        "wd" => both(WEIGHT_DECAY_RANGE),
        "sgdm" => both(SGD_MOMENTUM_RANGE),
        "batch" => counts(BATCH_SIZE_RANGE),
        "epochs" => counts(EPOCHS_RANGE),
        "seed" => ("a whole number, 0 or more".into(), "非负整数".into()),
        "batches" => counts(BATCHES_RANGE),
        "clip" => {
            let with_amount: Vec<String> =
                CLIP_KINDS.iter().filter(|kind| **kind != "none").map(|kind| format!("{kind}:N")).collect();
            let amount = span(CLIP_AMOUNT_RANGE);
            (
                format!("none, {} (N {amount})", with_amount.join(", ")),
                format!("none、{}（N 为 {}）", with_amount.join("、"), span_zh(CLIP_AMOUNT_RANGE)),
            )
        }
        _ => ("see the list of settings".into(), "见设置列表".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::ExperimentConfig;

    /// The query that sets `key` to its documented default, with what the key needs to
    /// mean anything (the CNN's channels, the character model's embedding).
    fn default_query(key: &UrlKey) -> String {
        match key.name {
            "channels" => format!("arch=cnn&channels={}", key.default),
            "embed" => format!("arch=char&embed={}", key.default),
            "dim" | "heads" | "blocks" | "context" | "ln" => format!("arch=transformer&{}={}", key.name, key.default),
            "sgdm" => format!("opt=sgd&sgdm={}", key.default),
            _ => format!("{}={}", key.name, key.default),
        }
    }

    #[test]
    fn every_documented_default_is_the_configs_default() {
        for key in URL_KEYS {
            if ABSENT_BY_DEFAULT.contains(&key.name) {
                continue;
            }
            let query = default_query(&key);
            let without = query.rsplit_once('&').map_or("", |(context, _)| context);
            let (given, problems) = ExperimentConfig::from_query(&query);
            assert!(problems.is_empty(), "{query}: {problems:?}");
            assert_eq!(given, ExperimentConfig::from_query(without).0, "{query}");
        }
        let default = ExperimentConfig::default();
        let absent = (default.train_subset, default.test_subset, default.max_batches_per_epoch, default.lr_drop);
        assert_eq!(absent, (None, None, None, None), "{ABSENT_BY_DEFAULT:?}");
        assert_eq!((default.warmup_steps, default.train_max_letters), (None, None), "{ABSENT_BY_DEFAULT:?}");
    }

    #[test]
    fn every_key_is_one_the_parser_reads() {
        for key in URL_KEYS {
            let (_, problems) = ExperimentConfig::from_query(&format!("{}=", key.name));
            assert!(problems.iter().all(|p| !p.en.contains("no setting called")), "{}: {problems:?}", key.name);
            assert_ne!(allowed(key.name).0, allowed("no-such-key").0, "{} has its own allowed values", key.name);
        }
    }

    #[test]
    fn every_listed_choice_parses() {
        for (key, choices) in [
            ("arch", &ARCHITECTURES[..]),
            ("place", &PLACEMENTS),
            ("act", &ACTIVATIONS),
            ("opt", &OPTIMIZERS),
            ("ln", &NORM_POSITIONS),
        ] {
            for choice in choices {
                assert_eq!(super::super::check_value(key, choice), Ok(()), "{key}={choice}");
            }
        }
        for dataset in DatasetId::ALL {
            assert_eq!(super::super::check_value("data", dataset.name()), Ok(()));
        }
    }

    #[test]
    fn ranges_in_messages_come_from_the_constants() {
        assert_eq!(allowed("lr").0, "0.0001 to 1");
        assert_eq!(allowed("batch").0, "2 to 512");
        assert_eq!(allowed("epochs").0, "1 to 50");
        assert!(allowed("clip").0.contains("norm-inf:N"), "{}", allowed("clip").0);
    }

    #[test]
    fn the_strict_reading_refuses_what_the_page_forgives() {
        for query in ["epoch=8", "lr=2", "batch=1", "opt=adam&sgdm=0.5", "channels=8-16", "embed=4", "lesson=l4"] {
            assert!(ExperimentConfig::from_query_strict(query).is_err(), "{query}");
        }
        let config = ExperimentConfig::from_query_strict("opt=sgd&sgdm=0&lr=0.1&epochs=3").expect("valid");
        assert_eq!((config.learning_rate, config.epochs), (0.1, 3));
        assert!(ExperimentConfig::from_query("lr=2&lesson=l4").1.len() == 1, "the page still forgives");
    }
}
