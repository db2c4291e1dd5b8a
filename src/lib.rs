//! normlab: a teaching lab for normalization layers, running real training on the
//! student's GPU (WebGPU) or CPU.
//!
//! Layers of the crate, each depending only on those after it:
//! `ui` (browser only) → `experiment` → `nn` → `backend` → (`backend::cpu` | `backend::gpu`).
//! `data`, `chart` and `platform` are leaves used where needed.

pub mod backend;
pub mod chart;
pub mod class_view;
pub mod course;
pub mod data;
pub mod error;
pub mod experiment;
pub mod nn;
pub mod platform;
pub mod records;
#[cfg(target_arch = "wasm32")]
pub mod ui;

pub use error::NormlabError;
