//! The strict reading of the URL form, for people who type (the native runner): every
//! problem the page's forgiving parser would report, and every key that would do nothing,
//! is a refusal.

use super::{allowed, ExperimentConfig};
use crate::error::Words;
use crate::nn::{Architecture, Optimizer};

impl ExperimentConfig {
    /// Reads settings from a query strictly, as the native runner does: every problem the
    /// page forgives (an unknown key, a value it does not allow, a setting the chosen model
    /// or optimizer would ignore, one of the page's own keys) is an error, because a
    /// command that quietly trains something else than it says wastes the run.
    pub fn from_query_strict(query: &str) -> Result<Self, Vec<Words>> {
        let (config, mut problems) = Self::from_query(query);
        let keys: Vec<&str> = query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| pair.split_once('=').map_or(pair, |(key, _)| key))
            .collect();
        for key in keys.iter().filter(|key| PAGE_KEYS.contains(key)) {
            problems.push(crate::words!(
                "{key} is one of the page's own keys, not a setting of the experiment",
                "{key} 是页面自己的键，不是实验的设置"
            ));
        }
        let given = |key: &str| keys.contains(&key);
        if given("sgdm") && !matches!(config.optimizer, Optimizer::Sgd { .. }) {
            problems.push(crate::words!(
                "sgdm is SGD's momentum, and it does nothing unless opt=sgd",
                "sgdm 是 SGD 的动量，只在 opt=sgd 时起作用"
            ));
        }
        if given("channels") && !matches!(config.model.architecture, Architecture::Cnn { .. }) {
            problems.push(crate::words!(
                "channels are the CNN's, and do nothing unless arch=cnn",
                "channels 是 CNN 的通道数，只在 arch=cnn 时起作用"
            ));
        }
        let transformer_keys = ["dim", "heads", "blocks", "context", "ln"];
        if transformer_keys.iter().any(|k| given(k))
            && !matches!(config.model.architecture, Architecture::Transformer { .. })
        {
            problems.push(crate::words!(
                "dim, heads, blocks, context and ln are the transformer's, and do nothing unless arch=transformer",
                "dim、heads、blocks、context 和 ln 是 Transformer 的设置，只在 arch=transformer 时起作用"
            ));
        }
        if given("embed") && !matches!(config.model.architecture, Architecture::CharMlp { .. }) {
            problems.push(crate::words!(
                "embed is the character model's, and does nothing unless arch=char",
                "embed 是字符模型的设置，只在 arch=char 时起作用"
            ));
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// This configuration with the settings of `query` applied on top, read strictly (see
    /// [`Self::from_query_strict`]).
    pub fn with_query_strict(&self, query: &str) -> Result<Self, Vec<Words>> {
        Self::from_query_strict(&format!("{}&{query}", self.to_query()))
    }
}

/// Whether `value` is one that `key` allows, and what it allows when not (in English): for
/// a command line that checks each setting as it reads it.
pub fn check_value(key: &str, value: &str) -> Result<(), String> {
    let (allowed_en, _) = allowed(key);
    // One value: an & or # would smuggle in another key or end the query.
    if value.contains(['&', '#']) {
        return Err(format!("one value without & or #, allowed: {allowed_en}"));
    }
    let (_, problems) = ExperimentConfig::from_query(&format!("{key}={value}"));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("allowed: {allowed_en}"))
    }
}

/// Keys of the page's address that are not experiment settings.
pub const PAGE_KEYS: [&str; 6] = ["lesson", "lang", "preset", "engine", "backend", "workers"];
