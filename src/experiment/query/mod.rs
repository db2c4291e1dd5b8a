//! The URL form of an experiment's configuration: what the page's address, a shared
//! link and the native runner's `KEY=VALUE` arguments say.
//!
//! Keys (all optional; defaults in [`ExperimentConfig::default`]):
//!
//! | key | values | meaning |
//! |---|---|---|
//! | `data` | `fashion-mnist`, `mnist`, `names`, `moons`, `circles`, `spirals`, `cifar10` (your file), `image-folder` (your images) | data set |
//! | `train` | integer | use only this many training examples (a fixed, seed-independent subset) |
//! | `test` | integer | evaluate on only the first this-many test examples |
//! | `arch` | `mlp`, `cnn`, `char`, `transformer` | architecture (`char`: the character-level MLP of lesson 3; `transformer`: the causal transformer over whole names) |
//! | `hidden` | `256-256` | hidden linear widths |
//! | `channels` | `32-64` | conv channels (CNN) |
//! | `embed` | integer | embedding size per character (`char`) |
//! | `dim`, `heads`, `blocks`, `context` | integers | the transformer's width, attention heads, blocks and sequence length |
//! | `ln` | `pre`, `post` | where the transformer's norms sit: before each branch or after each residual addition |
//! | `init` | 0.01 – 100 | multiplier on PyTorch's default weight initialisation |
//! | `norm` | `batch`, `layer`, `instance`, `group4`, `rms`, `none`; comma list per block | normalization |
//! | `place` | `before`, `after` | norm before or after the activation |
//! | `act` | `relu`, `tanh` | activation |
//! | `dropout` | 0 – 1 | dropout after hidden linear blocks (1 drops everything, as `nn.Dropout(1.0)`) |
//! | `bias`, `affine` | `1`, `0` | bias on linear/conv layers; learnable γ, β |
//! | `momentum` | 0 – 1, `none` | running-statistics momentum (`none`: cumulative average) |
//! | `noise` | 0 – 10 | noisy-BatchNorm strength |
//! | `opt` | `sgd`, `adam` | optimizer |
//! | `sgdm` | 0 – 0.999 | SGD's momentum (default 0.9) |
//! | `lr`, `wd` | numbers | learning rate, weight decay |
//! | `batch`, `epochs`, `seed`, `batches` | integers | batch size, epochs, seed, cap on batches per epoch |
//! | `clip` | `none`, `norm:1.0` (L2), `norm-l1:1.0`, `norm-inf:1.0`, `value:0.5` | gradient clipping (`clip_grad_norm_` with `norm_type` 2, 1, inf; `clip_grad_value_`) |
//! | `drop` | `0.5:0.1` | after this share of all steps, multiply the learning rate by this factor |
//! | `warmup` | integer | raise the learning rate linearly over this many first steps |
//! | `letters` | integer | train only on names of at most this many letters (`data=name-sequences`) |

use crate::backend::{Activation, ClipNorm, GradClip};
use crate::data::DatasetId;
use crate::error::Words;
use crate::nn::{Architecture, NormKind, NormPosition, Optimizer, Placement};

use super::config::{ExperimentConfig, LrDrop, BATCH_SIZE_RANGE, EPOCHS_RANGE, LEARNING_RATE_RANGE};

mod keys;
mod strict;
pub use keys::*;
pub use strict::{check_value, PAGE_KEYS};

impl ExperimentConfig {
    /// The settings as URL query parameters (only those that differ from the defaults,
    /// plus the ones a reader expects to see).
    pub fn to_query(&self) -> String {
        let d = ExperimentConfig::default();
        let mut parts: Vec<String> = vec![format!("data={}", self.dataset.name())];
        if let Some(n) = self.train_subset {
            parts.push(format!("train={n}"));
        }
        if let Some(n) = self.test_subset {
            parts.push(format!("test={n}"));
        }
        let join = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("-");
        match &self.model.architecture {
            Architecture::Mlp { hidden } => parts.push(format!("arch=mlp&hidden={}", join(hidden))),
            Architecture::Cnn { channels, hidden } => {
                parts.push(format!("arch=cnn&channels={}&hidden={}", join(channels), join(hidden)))
            }
            Architecture::CharMlp { embed, hidden } => {
                parts.push(format!("arch=char&embed={embed}&hidden={}", join(hidden)))
            }
            &Architecture::Transformer { dim, heads, blocks, context, norm_position } => {
                let ln = match norm_position {
                    NormPosition::Pre => "pre",
                    NormPosition::Post => "post",
                };
                parts
                    .push(format!("arch=transformer&dim={dim}&heads={heads}&blocks={blocks}&context={context}&ln={ln}"))
            }
        }
        let norms: Vec<String> = self.model.norms.iter().map(|n| n.name()).collect();
        parts.push(format!("norm={}", if norms.is_empty() { "none".into() } else { norms.join(",") }));
        if self.model.placement != d.model.placement {
            parts.push("place=after".into());
        }
        if self.model.activation != d.model.activation {
            parts.push("act=tanh".into());
        }
        if self.model.dropout != d.model.dropout {
            parts.push(format!("dropout={}", self.model.dropout));
        }
        if self.model.bias != d.model.bias {
            parts.push(format!("bias={}", self.model.bias as u8));
        }
        if self.model.affine != d.model.affine {
            parts.push(format!("affine={}", self.model.affine as u8));
        }
        if self.model.norm_momentum != d.model.norm_momentum {
            parts.push(match self.model.norm_momentum {
                Some(m) => format!("momentum={m}"),
                None => "momentum=none".into(),
            });
        }
        if self.model.norm_noise != d.model.norm_noise {
            parts.push(format!("noise={}", self.model.norm_noise));
        }
        if self.model.init_scale != d.model.init_scale {
            parts.push(format!("init={}", self.model.init_scale));
        }
        parts.push(format!("opt={}", self.optimizer.name()));
        if let Optimizer::Sgd { momentum, .. } = self.optimizer {
            if momentum != 0.9 {
                parts.push(format!("sgdm={momentum}"));
            }
        }
        let weight_decay = match self.optimizer {
            Optimizer::Sgd { weight_decay, .. } | Optimizer::Adam { weight_decay, .. } => weight_decay,
        };
        if weight_decay != 0.0 {
            parts.push(format!("wd={weight_decay}"));
        }
        parts.push(format!(
            "lr={}&batch={}&epochs={}&seed={}",
            self.learning_rate, self.batch_size, self.epochs, self.seed
        ));
        if let Some(n) = self.max_batches_per_epoch {
            parts.push(format!("batches={n}"));
        }
        match self.clip {
            GradClip::None => {}
            GradClip::Norm { max_norm, .. } => parts.push(format!("clip={}:{max_norm}", clip_kind_code(self.clip))),
            GradClip::Value { clip } => parts.push(format!("clip=value:{clip}")),
        }
        if let Some(LrDrop { at, factor }) = self.lr_drop {
            parts.push(format!("drop={at}:{factor}"));
        }
        if let Some(w) = self.warmup_steps {
            parts.push(format!("warmup={w}"));
        }
        if let Some(n) = self.train_max_letters {
            parts.push(format!("letters={n}"));
        }
        parts.join("&")
    }

    /// Reads settings from a URL query. A value that does not parse or is out of range
    /// keeps the default, and it and any unknown key are reported (with what is allowed),
    /// never fatal: a student who follows a damaged link still gets a run.
    pub fn from_query(query: &str) -> (Self, Vec<Words>) {
        let mut c = ExperimentConfig::default();
        let mut problems = Vec::new();
        let mut hidden: Option<Vec<usize>> = None;
        let mut channels: Option<Vec<usize>> = None;
        let mut arch = "mlp";
        let mut embed: Option<usize> = None;
        let mut transformer = TransformerKeys::default();
        let mut weight_decay = 0.0;
        let mut sgd_momentum: Option<f32> = None;
        for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let ok = match key {
                "data" => DatasetId::parse(value).map(|d| c.dataset = d).is_some(),
                "train" => parse_count(value, TRAIN_SUBSET_RANGE).map(|v| c.train_subset = Some(v)).is_some(),
                "test" => parse_count(value, TEST_SUBSET_RANGE).map(|v| c.test_subset = Some(v)).is_some(),
                "arch" => match value {
                    "mlp" | "cnn" | "char" | "transformer" => {
                        arch = match value {
                            "cnn" => "cnn",
                            "char" => "char",
                            "transformer" => "transformer",
                            _ => "mlp",
                        };
                        true
                    }
                    _ => false,
                },
                "embed" => parse_count(value, EMBED_RANGE).map(|v| embed = Some(v)).is_some(),
                "dim" => parse_count(value, DIM_RANGE).map(|v| transformer.dim = v).is_some(),
                "heads" => parse_count(value, HEADS_RANGE).map(|v| transformer.heads = v).is_some(),
                "blocks" => parse_count(value, BLOCKS_RANGE).map(|v| transformer.blocks = v).is_some(),
                "context" => parse_count(value, CONTEXT_RANGE).map(|v| transformer.context = v).is_some(),
                "ln" => match value {
                    "pre" => Some(NormPosition::Pre),
                    "post" => Some(NormPosition::Post),
                    _ => None,
                }
                .map(|v| transformer.norm_position = v)
                .is_some(),
                "init" => parse_in(value, INIT_SCALE_RANGE).map(|v| c.model.init_scale = v).is_some(),
                "drop" => parse_lr_drop(value).map(|v| c.lr_drop = Some(v)).is_some(),
                "hidden" => parse_widths(value).map(|w| hidden = Some(w)).is_some(),
                "channels" => parse_widths(value).filter(|w| !w.is_empty()).map(|w| channels = Some(w)).is_some(),
                "norm" => {
                    let kinds: Option<Vec<NormKind>> = value.split(',').map(NormKind::parse).collect();
                    kinds.filter(|k| k.len() <= MAX_LAYERS * 2).map(|k| c.model.norms = k).is_some()
                }
                "place" => match value {
                    "before" => Some(Placement::Before),
                    "after" => Some(Placement::After),
                    _ => None,
                }
                .map(|p| c.model.placement = p)
                .is_some(),
                "act" => match value {
                    "relu" => Some(Activation::Relu),
                    "tanh" => Some(Activation::Tanh),
                    _ => None,
                }
                .map(|a| c.model.activation = a)
                .is_some(),
                "dropout" => parse_in(value, DROPOUT_RANGE).map(|v| c.model.dropout = v).is_some(),
                "bias" => parse_flag(value).map(|v| c.model.bias = v).is_some(),
                "affine" => parse_flag(value).map(|v| c.model.affine = v).is_some(),
                "momentum" => {
                    if value == "none" {
                        c.model.norm_momentum = None;
                        true
                    } else {
                        parse_in(value, NORM_MOMENTUM_RANGE).map(|v| c.model.norm_momentum = Some(v)).is_some()
                    }
                }
                "noise" => parse_in(value, NOISE_RANGE).map(|v| c.model.norm_noise = v).is_some(),
                "opt" => match value {
                    "sgd" => Some(Optimizer::sgd_momentum()),
                    "adam" => Some(Optimizer::adam()),
                    _ => None,
                }
                .map(|o| c.optimizer = o)
                .is_some(),
                "lr" => parse_in(value, LEARNING_RATE_RANGE).map(|v| c.learning_rate = v).is_some(),
                "wd" => parse_in(value, WEIGHT_DECAY_RANGE).map(|v| weight_decay = v).is_some(),
                "sgdm" => parse_in(value, SGD_MOMENTUM_RANGE).map(|v| sgd_momentum = Some(v)).is_some(),
                "batch" => parse_count(value, BATCH_SIZE_RANGE).map(|v| c.batch_size = v).is_some(),
                "epochs" => parse_count(value, EPOCHS_RANGE).map(|v| c.epochs = v).is_some(),
                "seed" => value.parse::<u64>().map(|v| c.seed = v).is_ok(),
                "batches" => parse_count(value, BATCHES_RANGE).map(|v| c.max_batches_per_epoch = Some(v)).is_some(),
                "clip" => parse_clip(value).map(|v| c.clip = v).is_some(),
                "warmup" => parse_count(value, WARMUP_RANGE).map(|v| c.warmup_steps = Some(v)).is_some(),
                "letters" => parse_count(value, LETTERS_RANGE).map(|v| c.train_max_letters = Some(v)).is_some(),
                // The page's own keys: where the student is, not what runs.
                key if PAGE_KEYS.contains(&key) => true,
                _ => {
                    problems.push(crate::words!(
                        "ignored {key}={value}: the lab has no setting called {key}",
                        "已忽略 {key}={value}：实验室没有名为 {key} 的设置"
                    ));
                    continue;
                }
            };
            if !ok {
                let (en, zh) = allowed(key);
                problems
                    .push(crate::words!("ignored {key}={value} (allowed: {en})", "已忽略 {key}={value}（允许：{zh}）"));
            }
        }
        c.model.architecture = match arch {
            "cnn" => Architecture::Cnn {
                channels: channels.unwrap_or_else(|| vec![32, 64]),
                hidden: hidden.unwrap_or_else(|| vec![128]),
            },
            "char" => Architecture::CharMlp { embed: embed.unwrap_or(10), hidden: hidden.unwrap_or_else(|| vec![200]) },
            "transformer" => transformer.architecture(),
            _ => Architecture::Mlp { hidden: hidden.unwrap_or_else(|| vec![256, 256]) },
        };
        match &mut c.optimizer {
            Optimizer::Sgd { weight_decay: wd, momentum } => {
                *wd = weight_decay;
                if let Some(m) = sgd_momentum {
                    *momentum = m;
                }
            }
            Optimizer::Adam { weight_decay: wd, .. } => *wd = weight_decay,
        }
        (c, problems)
    }

    /// This configuration with the settings of `query` applied on top (later keys win), and
    /// what was wrong with them: how the page's controls that take a setting as text (the
    /// hidden widths, the norms per block) change one setting.
    pub fn with_query(&self, query: &str) -> (Self, Vec<Words>) {
        Self::from_query(&format!("{}&{query}", self.to_query()))
    }
}

/// The transformer's keys as read so far; what is not given takes lesson 11's model.
struct TransformerKeys {
    dim: usize,
    heads: usize,
    blocks: usize,
    context: usize,
    norm_position: NormPosition,
}

impl Default for TransformerKeys {
    fn default() -> Self {
        TransformerKeys { dim: 64, heads: 4, blocks: 2, context: 16, norm_position: NormPosition::Pre }
    }
}

impl TransformerKeys {
    fn architecture(&self) -> Architecture {
        let TransformerKeys { dim, heads, blocks, context, norm_position } = *self;
        Architecture::Transformer { dim, heads, blocks, context, norm_position }
    }
}

fn parse_in(value: &str, (low, high): (f32, f32)) -> Option<f32> {
    value.parse::<f32>().ok().filter(|v| v.is_finite() && (low..=high).contains(v))
}

fn parse_count(value: &str, (low, high): (usize, usize)) -> Option<usize> {
    value.parse::<usize>().ok().filter(|v| (low..=high).contains(v))
}

fn parse_flag(value: &str) -> Option<bool> {
    match value {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// `256-256` → [256, 256]; an empty string is no hidden layer.
fn parse_widths(value: &str) -> Option<Vec<usize>> {
    if value.is_empty() {
        return Some(Vec::new());
    }
    let widths: Option<Vec<usize>> =
        value.split(['-', ',']).map(|w| w.parse().ok().filter(|&w| (1..=MAX_WIDTH).contains(&w))).collect();
    widths.filter(|w| w.len() <= MAX_LAYERS)
}

/// `0.5:0.1` → after half of the steps, lr × 0.1.
fn parse_lr_drop(value: &str) -> Option<LrDrop> {
    let (at, factor) = value.split_once(':')?;
    Some(LrDrop { at: parse_in(at, LR_DROP_AT_RANGE)?, factor: parse_in(factor, LR_DROP_FACTOR_RANGE)? })
}

/// The clipping kinds a link or the playground names: `none`, `norm` (L2), `norm-l1`,
/// `norm-inf`, `value`.
pub const CLIP_KINDS: [&str; 5] = ["none", "norm", "norm-l1", "norm-inf", "value"];

/// The name of `clip`'s kind among [`CLIP_KINDS`].
pub fn clip_kind_code(clip: GradClip) -> &'static str {
    match clip {
        GradClip::None => "none",
        GradClip::Norm { norm_type: ClipNorm::L2, .. } => "norm",
        GradClip::Norm { norm_type: ClipNorm::L1, .. } => "norm-l1",
        GradClip::Norm { norm_type: ClipNorm::Inf, .. } => "norm-inf",
        GradClip::Value { .. } => "value",
    }
}

/// The clipping of kind `kind` (one of [`CLIP_KINDS`]) at threshold `amount`.
pub fn clip_of_kind(kind: &str, amount: f32) -> Option<GradClip> {
    let norm = |norm_type| GradClip::Norm { max_norm: amount, norm_type };
    match kind {
        "none" => Some(GradClip::None),
        "norm" => Some(norm(ClipNorm::L2)),
        "norm-l1" => Some(norm(ClipNorm::L1)),
        "norm-inf" => Some(norm(ClipNorm::Inf)),
        "value" => Some(GradClip::Value { clip: amount }),
        _ => None,
    }
}

/// The threshold of `clip` (1 for none, the playground's default).
pub fn clip_amount(clip: GradClip) -> f32 {
    match clip {
        GradClip::None => 1.0,
        GradClip::Norm { max_norm, .. } => max_norm,
        GradClip::Value { clip } => clip,
    }
}

fn parse_clip(value: &str) -> Option<GradClip> {
    if value == "none" {
        return Some(GradClip::None);
    }
    let (kind, amount) = value.split_once(':')?;
    clip_of_kind(kind, parse_in(amount, CLIP_AMOUNT_RANGE)?).filter(|c| *c != GradClip::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::ModelChoices;

    #[test]
    fn every_clip_kind_reads_from_a_link_and_writes_back() {
        for (query, want) in [
            ("clip=norm:2", GradClip::Norm { max_norm: 2.0, norm_type: ClipNorm::L2 }),
            ("clip=norm-l1:5", GradClip::Norm { max_norm: 5.0, norm_type: ClipNorm::L1 }),
            ("clip=norm-inf:0.5", GradClip::Norm { max_norm: 0.5, norm_type: ClipNorm::Inf }),
            ("clip=value:0.1", GradClip::Value { clip: 0.1 }),
        ] {
            let (config, problems) = ExperimentConfig::from_query(query);
            assert!(problems.is_empty(), "{query}: {problems:?}");
            assert_eq!(config.clip, want, "{query}");
            assert!(config.to_query().contains(query), "{query} → {}", config.to_query());
        }
        let (_, problems) = ExperimentConfig::from_query("clip=norm-l3:1");
        assert_eq!(problems.len(), 1, "an unknown norm is named as a problem");
    }

    #[test]
    fn query_round_trips() {
        let config = ExperimentConfig {
            dataset: DatasetId::Mnist,
            train_subset: Some(1000),
            test_subset: Some(500),
            model: ModelChoices {
                architecture: Architecture::Cnn { channels: vec![8, 16], hidden: vec![32] },
                norms: vec![NormKind::Group { groups: 4 }, NormKind::None, NormKind::Layer],
                placement: Placement::After,
                activation: Activation::Tanh,
                dropout: 0.25,
                bias: false,
                affine: false,
                norm_momentum: None,
                norm_noise: 0.5,
                init_scale: 0.25,
            },
            optimizer: Optimizer::Sgd { momentum: 0.9, weight_decay: 0.0005 },
            learning_rate: 0.05,
            batch_size: 8,
            epochs: 3,
            seed: 42,
            max_batches_per_epoch: Some(20),
            clip: GradClip::Norm { max_norm: 1.5, norm_type: ClipNorm::Inf },
            lr_drop: Some(LrDrop { at: 0.5, factor: 0.1 }),
            warmup_steps: Some(100),
            train_max_letters: Some(6),
        };
        let (parsed, problems) = ExperimentConfig::from_query(&config.to_query());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(parsed, config);
        let (default, problems) = ExperimentConfig::from_query(&ExperimentConfig::default().to_query());
        assert!(problems.is_empty());
        assert_eq!(default, ExperimentConfig::default());
    }

    #[test]
    fn garbage_keeps_defaults_and_is_reported() {
        let (parsed, problems) = ExperimentConfig::from_query(
            "?lr=NaN&batch=100000&norm=<b>&seed=-1&epochs=x&zzz=1&hidden=99999999&clip=norm:abc&dropout=1.5&lesson=l4",
        );
        assert_eq!(parsed, ExperimentConfig::default());
        // Every bad value and the unknown key, each saying what is allowed; the page's own
        // key (lesson) is not a problem.
        assert_eq!(problems.len(), 9, "{problems:?}");
        assert!(problems.iter().any(|p| p.en.contains("lr=NaN (allowed: 0.0001 to 1)")), "{problems:?}");
        assert!(problems.iter().any(|p| p.en.contains("no setting called zzz")), "{problems:?}");
        assert!(problems.iter().all(|p| !p.zh.is_empty()));
    }

    #[test]
    fn a_setting_applies_on_top_of_the_others() {
        let config = ExperimentConfig { seed: 9, batch_size: 16, ..ExperimentConfig::default() };
        let (changed, problems) = config.with_query("hidden=64-32&test=200");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(changed.model.architecture, Architecture::Mlp { hidden: vec![64, 32] });
        assert_eq!((changed.seed, changed.batch_size, changed.test_subset), (9, 16, Some(200)));
        let (kept, problems) = config.with_query("hidden=banana");
        assert_eq!(kept, config);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn character_model_round_trips() {
        let config = ExperimentConfig {
            dataset: DatasetId::Names,
            model: ModelChoices {
                architecture: Architecture::CharMlp { embed: 10, hidden: vec![200] },
                ..ModelChoices::default()
            },
            ..ExperimentConfig::default()
        };
        let (parsed, problems) = ExperimentConfig::from_query(&config.to_query());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(parsed, config);
    }
}
