//! The lab's error type. Everything a student can run into (a missing GPU, a lost device,
//! an impossible setting, a malformed file) is one of these, shown to them in words.

use thiserror::Error;

/// A message the lab writes itself, in both of the page's languages (the page shows the
/// student's; the command line prints the English). Make one with [`words!`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Words {
    pub en: String,
    pub zh: String,
}

impl std::fmt::Display for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// `words!("English {x}", "中文 {x}")`: a [`Words`] whose two texts are formatted like
/// `format!` (inline arguments only, so both read the same values).
#[macro_export]
macro_rules! words {
    ($en:literal, $zh:literal $(,)?) => {
        $crate::error::Words { en: format!($en), zh: format!($zh) }
    };
}

/// Serializable, so that a run trained in a Web Worker reports its error to the page as
/// the same value.
#[derive(Debug, Clone, Error, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum NormlabError {
    #[error("WebGPU unavailable: {0}")]
    NoGpu(Words),
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("the GPU reported an error: {0}")]
    Gpu(String),
    #[error("{what} needs {requested} bytes, more than this device allows ({limit} bytes)")]
    TooLarge { what: Words, requested: u64, limit: u64 },
    #[error("impossible setting: {0}")]
    InvalidConfig(Words),
    #[error("could not read the data file: {0}")]
    BadData(Words),
    #[error("could not load {what}: {reason}")]
    Fetch { what: String, reason: String },
    /// The student stopped the run; what it finished is kept.
    #[error("stopped")]
    Stopped,
}
