//! What an optimizer step is told: the optimizers' fixed hyper-parameters, the scalars
//! that change every step, and how the gradients are clipped first.

/// Hyper-parameters of `optim.SGD` that stay fixed during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdHyper {
    pub momentum: f32,
    pub weight_decay: f32,
}

/// Hyper-parameters of `optim.Adam` that stay fixed during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamHyper {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Default for AdamHyper {
    fn default() -> Self {
        AdamHyper { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// The values an optimizer step needs that change from step to step.
/// Set once per step with [`Backend::begin_step`]; every optimizer op of that step reads them, and
/// dropout and channel noise draw their random numbers for `step`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepScalars {
    pub learning_rate: f32,
    /// 1-based count of optimizer steps taken, including this one (Adam's bias correction).
    pub step: u32,
}

/// How gradients are clipped before the optimizer step (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GradClip {
    None,
    /// Rescale all gradients together so that their global norm (of `norm_type`) is at
    /// most `max_norm`.
    Norm {
        max_norm: f32,
        #[serde(default, skip_serializing_if = "ClipNorm::is_l2")]
        norm_type: ClipNorm,
    },
    /// Clamp every gradient element to `[−clip, clip]`.
    Value {
        clip: f32,
    },
}

impl GradClip {
    /// Norm clipping in the L2 norm, PyTorch's default `norm_type`.
    pub const fn norm(max_norm: f32) -> GradClip {
        GradClip::Norm { max_norm, norm_type: ClipNorm::L2 }
    }

    /// The norm the clipping measures: its own for norm clipping, L2 for the others (what
    /// the metrics report as "gradient norm").
    pub fn norm_type(self) -> ClipNorm {
        match self {
            GradClip::Norm { norm_type, .. } => norm_type,
            _ => ClipNorm::L2,
        }
    }
}

/// Which vector norm `clip_grad_norm_` measures over all gradients together (its
/// `norm_type`: 1, 2 or `inf`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipNorm {
    /// Σ |g|
    L1,
    /// sqrt(Σ g²)
    #[default]
    L2,
    /// max |g|
    Inf,
}

impl ClipNorm {
    fn is_l2(&self) -> bool {
        *self == ClipNorm::L2
    }

    /// The subscript written after ‖g‖: "₁", "" (L2 is the plain norm) or "∞".
    pub fn subscript(self) -> &'static str {
        match self {
            ClipNorm::L1 => "₁",
            ClipNorm::L2 => "",
            ClipNorm::Inf => "∞",
        }
    }
}
