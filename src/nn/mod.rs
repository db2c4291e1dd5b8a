//! Layers and models, written once against the [`Backend`](crate::backend::Backend) trait.
//!
//! - [`config`]: what a model is made of (architecture, norms, placement, optimizer) and
//!   the training phase;
//! - [`layers`]: one file per layer behind the [`Layer`] trait;
//! - [`builder`] and [`model`]: the sequence of layers a configuration makes, and the
//!   forward, backward and update passes over it;
//! - [`norm`]: the closed set of normalizations and the geometry each implies;
//! - [`param`], [`probe`]: learnable tensors and their initialisation; what probes read.
//!
//! Tensors are NCHW; a fully connected layer's `[N, F]` is `[N, F, 1]` (S = 1), and
//! flattening a `[N, C, H, W]` block is free because the memory is already contiguous.

pub mod builder;
pub mod config;
pub mod layers;
pub mod model;
pub mod norm;
pub mod param;
pub mod probe;

pub use config::{Architecture, MlpConfig, ModelChoices, ModelConfig, NormPosition, Optimizer, Phase, Placement};
pub use layers::Layer;
pub use model::Model;
pub use norm::{LpOrder, NormKind};
pub use param::{Param, ParamRole};
pub use probe::{NormProbePoint, ProbePoints};
