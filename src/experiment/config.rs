//! The whole configuration of an experiment in one serializable struct, and its URL form.
//! The page, the native runner and the tests all start runs from this.

use serde::{Deserialize, Serialize};

use crate::backend::Activation;
use crate::data::DatasetId;
use crate::nn::{MlpConfig, NormKind, Optimizer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    pub dataset: DatasetId,
    /// Hidden widths of the MLP.
    pub hidden: Vec<usize>,
    pub norm: NormKind,
    pub activation: Activation,
    pub optimizer: Optimizer,
    pub learning_rate: f32,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
    /// Stop an epoch after this many batches (None: the whole training set). Lets tests
    /// and quick previews run a slice of an epoch.
    pub max_batches_per_epoch: Option<usize>,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            dataset: DatasetId::FashionMnist,
            hidden: vec![256, 256],
            norm: NormKind::Batch,
            activation: Activation::Relu,
            optimizer: Optimizer::adam(),
            learning_rate: 1e-3,
            batch_size: 64,
            epochs: 1,
            seed: 1,
            max_batches_per_epoch: None,
        }
    }
}

/// The ranges the page's controls allow; the URL parser clamps to them.
pub const LEARNING_RATE_RANGE: (f32, f32) = (1e-4, 1.0);
pub const BATCH_SIZE_RANGE: (usize, usize) = (2, 512);
pub const EPOCHS_RANGE: (usize, usize) = (1, 50);

impl ExperimentConfig {
    pub fn model(&self, inputs: usize, classes: usize) -> MlpConfig {
        MlpConfig {
            inputs,
            hidden: self.hidden.clone(),
            classes,
            norm: self.norm,
            activation: self.activation,
            bias: true,
            norm_momentum: Some(0.1),
        }
    }

    /// A one-line description for legends: "BN · Adam · lr 1e-3 · batch 64".
    pub fn label(&self) -> String {
        let norm = match self.norm {
            NormKind::None => "no norm".to_string(),
            NormKind::Batch => "BN".to_string(),
            other => other.name(),
        };
        format!("{norm} · {} · lr {} · batch {}", self.optimizer.name(), format_lr(self.learning_rate), self.batch_size)
    }

    /// The settings as URL query parameters, e.g. `data=fashion-mnist&norm=batch&opt=adam&lr=0.001&batch=64&epochs=1&seed=1`.
    pub fn to_query(&self) -> String {
        let mut query = format!(
            "data={}&norm={}&opt={}&lr={}&batch={}&epochs={}&seed={}",
            self.dataset.name(),
            self.norm.name(),
            self.optimizer.name(),
            self.learning_rate,
            self.batch_size,
            self.epochs,
            self.seed
        );
        if let Some(n) = self.max_batches_per_epoch {
            query.push_str(&format!("&batches={n}"));
        }
        query
    }

    /// Reads settings from a URL query. Unknown keys are ignored; a value that does not
    /// parse or is out of range keeps the default and is reported, never fatal.
    pub fn from_query(query: &str) -> (Self, Vec<String>) {
        let mut config = ExperimentConfig::default();
        let mut problems = Vec::new();
        for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let mut bad = || problems.push(format!("ignored {key}={value}"));
            match key {
                "data" => match DatasetId::parse(value) {
                    Some(d) => config.dataset = d,
                    None => bad(),
                },
                "norm" => match NormKind::parse(value) {
                    Some(n) => config.norm = n,
                    None => bad(),
                },
                "opt" => match value {
                    "sgd" => config.optimizer = Optimizer::sgd_momentum(),
                    "adam" => config.optimizer = Optimizer::adam(),
                    _ => bad(),
                },
                "lr" => match value.parse::<f32>() {
                    Ok(v) if v.is_finite() && (LEARNING_RATE_RANGE.0..=LEARNING_RATE_RANGE.1).contains(&v) => {
                        config.learning_rate = v
                    }
                    _ => bad(),
                },
                "batch" => match value.parse::<usize>() {
                    Ok(v) if (BATCH_SIZE_RANGE.0..=BATCH_SIZE_RANGE.1).contains(&v) => config.batch_size = v,
                    _ => bad(),
                },
                "epochs" => match value.parse::<usize>() {
                    Ok(v) if (EPOCHS_RANGE.0..=EPOCHS_RANGE.1).contains(&v) => config.epochs = v,
                    _ => bad(),
                },
                "seed" => match value.parse::<u64>() {
                    Ok(v) => config.seed = v,
                    _ => bad(),
                },
                "batches" => match value.parse::<usize>() {
                    Ok(v) if v > 0 => config.max_batches_per_epoch = Some(v),
                    _ => bad(),
                },
                _ => {}
            }
        }
        (config, problems)
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
    fn query_round_trips() {
        let config = ExperimentConfig {
            dataset: DatasetId::Mnist,
            norm: NormKind::Group { groups: 4 },
            optimizer: Optimizer::sgd_momentum(),
            learning_rate: 0.05,
            batch_size: 8,
            epochs: 3,
            seed: 42,
            max_batches_per_epoch: Some(20),
            ..ExperimentConfig::default()
        };
        let (parsed, problems) = ExperimentConfig::from_query(&config.to_query());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(parsed, config);
    }

    #[test]
    fn garbage_keeps_defaults_and_is_reported() {
        let (parsed, problems) = ExperimentConfig::from_query("?lr=NaN&batch=100000&norm=<b>&seed=-1&epochs=x&zzz=1");
        assert_eq!(parsed, ExperimentConfig::default());
        assert_eq!(problems.len(), 5);
    }

    #[test]
    fn learning_rates_format_as_written() {
        assert_eq!(format_lr(0.001), "1e-3");
        assert_eq!(format_lr(0.1), "0.1");
        assert_eq!(format_lr(1.0), "1");
        assert_eq!(format_lr(0.0003), "3e-4");
    }
}
