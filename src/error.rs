//! The lab's error type. Everything a student can run into (a missing GPU, a lost device,
//! an impossible setting, a malformed file) is one of these, shown to them in words.

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum NormlabError {
    #[error("WebGPU unavailable: {0}")]
    NoGpu(String),
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("the GPU reported an error: {0}")]
    Gpu(String),
    #[error("{what} needs {requested} bytes, more than this device allows ({limit} bytes)")]
    TooLarge { what: String, requested: u64, limit: u64 },
    #[error("impossible setting: {0}")]
    InvalidConfig(String),
    #[error("could not read the data file: {0}")]
    BadData(String),
    #[error("could not load {what}: {reason}")]
    Fetch { what: String, reason: String },
}
