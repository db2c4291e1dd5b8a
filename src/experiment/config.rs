//! The whole configuration of an experiment in one serializable struct, and its URL form.
//! The page, the native runner and the tests all start runs from this.
//!
//!
//! Its URL form (the keys, their parsing and the messages when a value is out of range)
//! is in [`super::query`].

use serde::{Deserialize, Serialize};

use crate::backend::GradClip;
use crate::data::DatasetId;
use crate::error::Words;
use crate::nn::{Architecture, ModelChoices, ModelConfig, NormKind, Optimizer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    pub dataset: DatasetId,
    /// Train on only the first this-many examples of a fixed shuffle of the training split
    /// (the same subset for every seed), e.g. to make a network overfit.
    pub train_subset: Option<usize>,
    /// Evaluate on only the first this-many test examples (quick checks on slow devices).
    pub test_subset: Option<usize>,
    /// The network: its architecture and the choices of each block. Flattened, so that its
    /// fields sit beside the others in the stored and printed JSON, as they always have.
    #[serde(flatten)]
    pub model: ModelChoices,
    pub optimizer: Optimizer,
    pub learning_rate: f32,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
    /// Stop an epoch after this many batches (None: the whole training set). Lets tests
    /// and quick previews run a slice of an epoch.
    pub max_batches_per_epoch: Option<usize>,
    pub clip: GradClip,
    /// A one-time step decay of the learning rate.
    pub lr_drop: Option<LrDrop>,
    /// A linear warm-up: the learning rate of step s (0-based) is scaled by
    /// `min(1, (s + 1) / warmup_steps)` (Xiong et al. 2020 on post-norm transformers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<usize>,
    /// Train only on the names of at most this many letters (whole-name sequences), to
    /// evaluate on longer ones than any seen in training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_max_letters: Option<usize>,
}

/// After `at` (a share of all the run's steps, 0–1) the learning rate is multiplied by
/// `factor`: lesson 3's "0.1, then 0.01 for the second half".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrDrop {
    pub at: f32,
    pub factor: f32,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            dataset: DatasetId::FashionMnist,
            train_subset: None,
            test_subset: None,
            model: ModelChoices::default(),
            optimizer: Optimizer::adam(),
            learning_rate: 1e-3,
            batch_size: 64,
            epochs: 1,
            seed: 1,
            max_batches_per_epoch: None,
            clip: GradClip::None,
            lr_drop: None,
            warmup_steps: None,
            train_max_letters: None,
        }
    }
}

/// The ranges the page's controls allow; the URL parser enforces them.
pub const LEARNING_RATE_RANGE: (f32, f32) = (1e-4, 1.0);
pub const BATCH_SIZE_RANGE: (usize, usize) = (2, 512);
pub const EPOCHS_RANGE: (usize, usize) = (1, 50);

impl ExperimentConfig {
    /// The CNN of the source notes with BatchNorm, Adam at lr 1e-3, batch 64.
    pub fn notes_cnn() -> Self {
        ExperimentConfig {
            model: ModelChoices { architecture: Architecture::notes_cnn(), ..ModelChoices::default() },
            ..Self::default()
        }
    }

    /// The model this experiment trains, for data of `input` shape and `classes` classes.
    pub fn model_config(&self, input: (usize, usize, usize), classes: usize) -> ModelConfig {
        ModelConfig { choices: self.model.clone(), input, classes }
    }

    /// Batches per epoch on a training split of `train_len` examples: the last incomplete
    /// batch is dropped (`drop_last=True`), so that BatchNorm never sees a batch of one.
    /// How many of `dataset`'s training examples the run may draw from before its
    /// `train_subset` (all of them, or the names of at most `train_max_letters` letters).
    pub fn training_pool(&self, dataset: &crate::data::Dataset) -> usize {
        let Some(letters) = self.train_max_letters else { return dataset.train.len };
        let per_example = dataset.targets_per_example().max(1);
        let counted = |t: &[f32]| t.iter().filter(|&&l| l >= 0.0).count();
        dataset.train.labels.chunks(per_example).filter(|t| counted(t) <= letters + 1).count()
    }

    pub fn steps_per_epoch(&self, train_len: usize) -> usize {
        let len = self.train_subset.map_or(train_len, |n| n.min(train_len));
        let full = len / self.batch_size.max(1);
        self.max_batches_per_epoch.map_or(full, |cap| cap.min(full))
    }

    /// The learning rate of global step `step` (0-based) of a run of `total_steps`.
    pub fn learning_rate_at(&self, step: usize, total_steps: usize) -> f32 {
        let warmup = self.warmup_steps.map_or(1.0, |w| ((step + 1) as f32 / w.max(1) as f32).min(1.0));
        warmup
            * match self.lr_drop {
                Some(LrDrop { at, factor }) if step as f64 >= at as f64 * total_steps as f64 => {
                    self.learning_rate * factor
                }
                _ => self.learning_rate,
            }
    }

    fn norm_label(&self, none: &str) -> String {
        let names: Vec<String> = self
            .model
            .norms
            .iter()
            .map(|n| match n {
                NormKind::None => none.to_string(),
                NormKind::Batch => "BN".to_string(),
                NormKind::BatchPerPosition => "BN per position".to_string(),
                NormKind::Layer => "LN".to_string(),
                NormKind::Instance => "IN".to_string(),
                NormKind::Group { groups } => format!("GN{groups}"),
                NormKind::Rms => "RMSNorm".to_string(),
                NormKind::Lp { order } => format!("{} norm", order.name().to_uppercase().replace("LINF", "L∞")),
            })
            .collect();
        if names.is_empty() {
            none.into()
        } else {
            names.join("/")
        }
    }

    /// A one-line description of everything that runs, in English (see [`Self::label_words`]).
    pub fn label(&self) -> String {
        self.label_words().en
    }

    /// A one-line description of everything that runs, in both languages: "MLP 256-256 ·
    /// BN · adam · lr 1e-3 · batch 64", then every setting that differs from the defaults,
    /// the data subsets and the cap on batches included, so that nothing that runs is hidden.
    pub fn label_words(&self) -> Words {
        let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
        let arch = match &self.model.architecture {
            Architecture::Mlp { hidden } => format!("MLP {}", join(hidden)),
            Architecture::Cnn { channels, hidden } => format!("CNN {} / {}", join(channels), join(hidden)),
            Architecture::CharMlp { embed, hidden } => format!("char-MLP {embed} / {}", join(hidden)),
            Architecture::Transformer { dim, heads, blocks, norm_position, .. } => {
                let ln = match norm_position {
                    crate::nn::NormPosition::Pre => "pre",
                    crate::nn::NormPosition::Post => "post",
                };
                format!("transformer {blocks}×{dim} ({heads} heads, {ln}-norm)")
            }
        };
        let (opt, lr, batch) = (self.optimizer.name(), format_lr(self.learning_rate), self.batch_size);
        let mut en = vec![
            arch.clone(),
            self.norm_label("no norm"),
            opt.to_string(),
            format!("lr {lr}"),
            format!("batch {batch}"),
        ];
        let mut zh =
            vec![arch, self.norm_label("无归一化"), opt.to_string(), format!("学习率 {lr}"), format!("批大小 {batch}")];
        let mut both = |e: String, z: String| {
            en.push(e);
            zh.push(z);
        };
        let d = ExperimentConfig::default();
        if let Optimizer::Sgd { momentum, .. } = self.optimizer {
            if momentum != 0.9 {
                both(format!("SGD momentum {momentum}"), format!("SGD 动量 {momentum}"));
            }
        }
        let weight_decay = match self.optimizer {
            Optimizer::Sgd { weight_decay, .. } | Optimizer::Adam { weight_decay, .. } => weight_decay,
        };
        if weight_decay != 0.0 {
            both(format!("weight decay {weight_decay}"), format!("权重衰减 {weight_decay}"));
        }
        let epochs = self.epochs;
        both(format!("{epochs} epoch{}", if epochs == 1 { "" } else { "s" }), format!("{epochs} 个 epoch"));
        if let Some(n) = self.train_subset {
            both(format!("{n} training examples"), format!("{n} 个训练样本"));
        }
        if let Some(n) = self.test_subset {
            both(format!("tested on {n}"), format!("在 {n} 个样本上测试"));
        }
        if let Some(n) = self.max_batches_per_epoch {
            both(format!("≤ {n} batches per epoch"), format!("每个 epoch 至多 {n} 批"));
        }
        if self.model.placement != d.model.placement {
            both("norm after the activation".into(), "归一化在激活之后".into());
        }
        if self.model.activation != d.model.activation {
            both("tanh".into(), "tanh".into());
        }
        if self.model.dropout > 0.0 {
            both(format!("dropout {}", self.model.dropout), format!("dropout {}", self.model.dropout));
        }
        if !self.model.bias {
            both("no bias".into(), "无偏置".into());
        }
        if !self.model.affine {
            both("no γ, β".into(), "无 γ、β".into());
        }
        if self.model.norm_noise > 0.0 {
            both(format!("noise {}", self.model.norm_noise), format!("噪声 {}", self.model.norm_noise));
        }
        if self.model.init_scale != 1.0 {
            both(format!("init ×{}", self.model.init_scale), format!("初始化 ×{}", self.model.init_scale));
        }
        if self.model.norms.iter().any(|n| n.has_running_stats()) && self.model.norm_momentum != d.model.norm_momentum {
            match self.model.norm_momentum {
                Some(m) => both(format!("BN momentum {m}"), format!("BN 动量 {m}")),
                None => both("BN momentum cumulative".into(), "BN 动量：累积平均".into()),
            }
        }
        match self.clip {
            GradClip::None => {}
            GradClip::Norm { max_norm, norm_type } => {
                let sub = norm_type.subscript();
                both(format!("clip ‖g‖{sub}≤{max_norm}"), format!("裁剪 ‖g‖{sub}≤{max_norm}"))
            }
            GradClip::Value { clip } => both(format!("clip |g|≤{clip}"), format!("裁剪 |g|≤{clip}")),
        }
        if let Some(LrDrop { at, factor }) = self.lr_drop {
            both(
                format!("lr ×{factor} after {:.0} % of the steps", at * 100.0),
                format!("{:.0}% 的步数之后学习率 ×{factor}", at * 100.0),
            );
        }
        if let Some(w) = self.warmup_steps {
            both(format!("warm-up {w} steps"), format!("预热 {w} 步"));
        }
        if let Some(n) = self.train_max_letters {
            both(format!("trained on names ≤ {n} letters"), format!("只用 ≤ {n} 个字母的名字训练"));
        }
        if self.seed != d.seed {
            both(format!("seed {}", self.seed), format!("种子 {}", self.seed));
        }
        Words { en: en.join(" · "), zh: zh.join(" · ") }
    }
}

/// Learning rates print in the form people write them: 0.001 → "1e-3", 0.1 → "0.1".
pub fn format_lr(lr: f32) -> String {
    if lr >= 0.01 {
        let s = format!("{lr:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let exponent = lr.log10().floor() as i32;
        let mantissa = lr / 10f32.powi(exponent);
        if (mantissa - mantissa.round()).abs() < 0.05 {
            format!("{}e{exponent}", mantissa.round())
        } else {
            format!("{mantissa:.1}e{exponent}")
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_drops_once() {
        let config = ExperimentConfig { lr_drop: Some(LrDrop { at: 0.5, factor: 0.1 }), ..Default::default() };
        assert_eq!(config.learning_rate_at(49, 100), 1e-3);
        assert_eq!(config.learning_rate_at(50, 100), 1e-3 * 0.1);
    }

    /// The model's choices are flattened into the configuration's JSON: the runner's output
    /// and the runs stored in the browser keep the shape they had before the choices had
    /// a struct of their own (this text was written by that version).
    #[test]
    fn the_json_keeps_its_flat_shape() {
        let stored = r#"{"dataset":"fashion-mnist","train_subset":null,"test_subset":200,"architecture":{"kind":"mlp","hidden":[64,64,64,64,64,64,64,64]},"norms":[{"kind":"none"}],"placement":"before","activation":"tanh","dropout":0.0,"bias":true,"affine":true,"norm_momentum":0.1,"norm_noise":0.0,"init_scale":0.5,"optimizer":{"kind":"sgd","momentum":0.9,"weight_decay":0.0},"learning_rate":0.01,"batch_size":64,"epochs":1,"seed":1,"max_batches_per_epoch":24,"clip":{"kind":"none"},"lr_drop":null}"#;
        let config = crate::experiment::presets::deep_mlp(
            crate::experiment::presets::BadInit::TooSmall,
            false,
            crate::experiment::presets::Preset::Smoke,
        );
        assert_eq!(serde_json::to_string(&config).expect("serializes"), stored);
        assert_eq!(serde_json::from_str::<ExperimentConfig>(stored).expect("parses"), config);
    }

    #[test]
    fn cnn_defaults_are_the_notes_cnn() {
        let (parsed, _) = ExperimentConfig::from_query("arch=cnn");
        assert_eq!(parsed.model.architecture, Architecture::notes_cnn());
    }

    #[test]
    fn learning_rates_format_as_written() {
        assert_eq!(format_lr(0.001), "1e-3");
        assert_eq!(format_lr(0.1), "0.1");
        assert_eq!(format_lr(1.0), "1");
        assert_eq!(format_lr(0.0003), "3e-4");
    }
}
