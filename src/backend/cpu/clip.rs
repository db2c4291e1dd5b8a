//! CPU twin of `shaders/clip.wgsl`: gradient clipping before the optimizer step, as
//! `torch.nn.utils.clip_grad_norm_` (L2, `foreach=False`) and `clip_grad_value_` do it.
//!
//! The global norm treats all gradients as one long vector:
//! `‖g‖ = sqrt(Σ_tensors Σ_i g[i]²)`. Norm clipping rescales every gradient by the same
//! `coef = min(1, max_norm / (‖g‖ + 1e-6))`, which keeps the update's direction; value
//! clipping clamps each element on its own, which does not.

use super::per_channel::interleaved_sum;
use crate::backend::GradClip;

/// PyTorch's `clip_grad_norm_` adds this to the norm before dividing (its `clip_coef`).
pub const CLIP_COEF_EPS: f32 = 1e-6;

/// `Σ g[i]²`, summed in f64.
pub fn sum_squares(g: &[f32]) -> f64 {
    interleaved_sum(g, g, |v, _| v as f64 * v as f64)
}

/// The L2 norm of all the gradients together.
pub fn global_norm(grads: &[&mut [f32]]) -> f32 {
    grads.iter().map(|g| sum_squares(g)).sum::<f64>().sqrt() as f32
}

/// `min(1, max_norm / (norm + 1e-6))` in f32, as PyTorch computes it. A NaN norm gives 1
/// (`f32::min` ignores NaN); the NaN in the metrics reports the divergence.
pub fn norm_clip_coef(norm: f32, max_norm: f32) -> f32 {
    (max_norm / (norm + CLIP_COEF_EPS)).min(1.0)
}

/// Clips `grads` in place and returns the global norm before and after.
///
/// * `None`: nothing changes; after = before.
/// * `Norm { max_norm }`: every element ×= `coef` (also when `coef` is 1, like PyTorch);
///   after = before·coef.
/// * `Value { clip }`: every element clamped to `[−clip, clip]`; after is measured again.
pub fn clip_gradients(grads: &mut [&mut [f32]], clip: GradClip) -> (f32, f32) {
    let before = global_norm(grads);
    match clip {
        GradClip::None => (before, before),
        GradClip::Norm { max_norm } => {
            let coef = norm_clip_coef(before, max_norm);
            for g in grads.iter_mut() {
                g.iter_mut().for_each(|v| *v *= coef);
            }
            (before, before * coef)
        }
        GradClip::Value { clip } => {
            // max then min (not f32::clamp, which panics on a negative bound): the
            // shader's order, so both treat odd bounds the same way.
            for g in grads.iter_mut() {
                g.iter_mut().for_each(|v| *v = v.max(-clip).min(clip));
            }
            (before, global_norm(grads))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_clipping_scales_every_gradient_alike() {
        let (mut a, mut b) = (vec![3.0f32, 0.0], vec![4.0f32]);
        let (before, after) = clip_gradients(&mut [&mut a, &mut b], GradClip::Norm { max_norm: 1.0 });
        assert_eq!(before, 5.0);
        let coef = 1.0 / (5.0 + CLIP_COEF_EPS);
        assert_eq!((a[0], b[0]), (3.0 * coef, 4.0 * coef));
        assert!((after - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_small_norm_is_left_alone() {
        let mut a = vec![0.3f32, -0.4];
        let (before, after) = clip_gradients(&mut [&mut a], GradClip::Norm { max_norm: 1.0 });
        assert_eq!((before, after), (0.5, 0.5));
        assert_eq!(a, [0.3, -0.4]);
    }

    #[test]
    fn value_clipping_clamps_each_element() {
        let mut a = vec![3.0f32, -0.5, -7.0];
        let (before, after) = clip_gradients(&mut [&mut a], GradClip::Value { clip: 1.0 });
        assert_eq!(a, [1.0, -0.5, -1.0]);
        assert!((before - (9.0f32 + 0.25 + 49.0).sqrt()).abs() < 1e-6);
        assert!((after - 2.25f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn no_gradients_have_norm_zero() {
        assert_eq!(clip_gradients(&mut [], GradClip::Norm { max_norm: 1.0 }), (0.0, 0.0));
    }
}
