//! CPU twin of `shaders/clip.wgsl`: gradient clipping before the optimizer step, as
//! `torch.nn.utils.clip_grad_norm_` (`foreach=False`) and `clip_grad_value_` do it.
//!
//! The global norm treats all gradients as one long vector: L2 `sqrt(Σ g²)`, L1 `Σ |g|`,
//! or infinity `max |g|`. Norm clipping rescales every gradient by the same
//! `coef = min(1, max_norm / (‖g‖ + 1e-6))`, which keeps the update's direction; value
//! clipping clamps each element on its own, which does not.
//!
//! NaN follows PyTorch: a NaN anywhere makes the norm NaN, `torch.clamp` keeps a NaN
//! coefficient NaN, so every clipped gradient becomes NaN (the divergence cannot hide in
//! one tensor); value clipping leaves a NaN element NaN.

use super::per_channel::interleaved_sum;
use crate::backend::{ClipNorm, GradClip};

/// PyTorch's `clip_grad_norm_` adds this to the norm before dividing (its `clip_coef`).
pub const CLIP_COEF_EPS: f32 = 1e-6;

/// `Σ g[i]²`, summed in f64.
pub fn sum_squares(g: &[f32]) -> f64 {
    interleaved_sum(g, g, |v, _| v as f64 * v as f64)
}

/// The larger of two magnitudes, NaN when either is NaN (like `torch.amax`; `f32::max`
/// would drop the NaN).
pub fn max_or_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// The norm of all the gradients together.
pub fn global_norm(grads: &[&mut [f32]], norm: ClipNorm) -> f32 {
    match norm {
        ClipNorm::L2 => grads.iter().map(|g| sum_squares(g)).sum::<f64>().sqrt() as f32,
        ClipNorm::L1 => grads.iter().map(|g| interleaved_sum(g, g, |v, _| v.abs() as f64)).sum::<f64>() as f32,
        ClipNorm::Inf => grads.iter().flat_map(|g| g.iter()).fold(0.0, |m, &v| max_or_nan(m, v.abs())),
    }
}

/// `min(1, max_norm / (norm + 1e-6))` in f32, as PyTorch computes it; NaN stays NaN (as
/// `torch.clamp` keeps it), where `f32::min` would turn it into 1.
pub fn norm_clip_coef(norm: f32, max_norm: f32) -> f32 {
    let coef = max_norm / (norm + CLIP_COEF_EPS);
    if coef.is_nan() {
        coef
    } else {
        coef.min(1.0)
    }
}

/// `g` clamped to `[−clip, clip]`, NaN kept (as `torch.clamp`). Max then min, not
/// `f32::clamp` (which panics on a negative bound): the shader's order, so both treat odd
/// bounds the same way.
pub fn clamp_value(g: f32, clip: f32) -> f32 {
    if g.is_nan() {
        g
    } else {
        g.max(-clip).min(clip)
    }
}

/// Clips `grads` in place and returns the global norm before and after.
///
/// * `None`: nothing changes; after = before (L2).
/// * `Norm { max_norm, norm_type }`: every element ×= `coef` (also when `coef` is 1, like
///   PyTorch); both norms in `norm_type`; after = before·coef.
/// * `Value { clip }`: every element clamped to `[−clip, clip]`; after (L2) is measured again.
pub fn clip_gradients(grads: &mut [&mut [f32]], clip: GradClip) -> (f32, f32) {
    let before = global_norm(grads, clip.norm_type());
    match clip {
        GradClip::None => (before, before),
        GradClip::Norm { max_norm, .. } => {
            let coef = norm_clip_coef(before, max_norm);
            for g in grads.iter_mut() {
                g.iter_mut().for_each(|v| *v *= coef);
            }
            (before, before * coef)
        }
        GradClip::Value { clip } => {
            for g in grads.iter_mut() {
                g.iter_mut().for_each(|v| *v = clamp_value(*v, clip));
            }
            (before, global_norm(grads, ClipNorm::L2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_clipping_scales_every_gradient_alike() {
        let (mut a, mut b) = (vec![3.0f32, 0.0], vec![4.0f32]);
        let (before, after) = clip_gradients(&mut [&mut a, &mut b], GradClip::norm(1.0));
        assert_eq!(before, 5.0);
        let coef = 1.0 / (5.0 + CLIP_COEF_EPS);
        assert_eq!((a[0], b[0]), (3.0 * coef, 4.0 * coef));
        assert!((after - 1.0).abs() < 1e-6);
    }

    #[test]
    fn l1_and_infinity_norms_measure_sum_and_largest_magnitude() {
        let grads = || (vec![3.0f32, -1.0], vec![-4.0f32]);
        let (mut a, mut b) = grads();
        let l1 = GradClip::Norm { max_norm: 4.0, norm_type: ClipNorm::L1 };
        let (before, after) = clip_gradients(&mut [&mut a, &mut b], l1);
        assert_eq!(before, 8.0);
        assert!((after - 4.0).abs() < 1e-5 && (a[0] - 1.5).abs() < 1e-5, "{after} {a:?}");
        let (mut a, mut b) = grads();
        let inf = GradClip::Norm { max_norm: 2.0, norm_type: ClipNorm::Inf };
        let (before, _) = clip_gradients(&mut [&mut a, &mut b], inf);
        assert_eq!(before, 4.0);
        assert!((b[0] + 2.0).abs() < 1e-5, "{b:?}");
    }

    #[test]
    fn one_nan_gradient_makes_every_clipped_gradient_nan() {
        for norm_type in [ClipNorm::L1, ClipNorm::L2, ClipNorm::Inf] {
            let (mut a, mut b) = (vec![1.0f32, f32::NAN], vec![2.0f32, 3.0]);
            let (before, after) = clip_gradients(&mut [&mut a, &mut b], GradClip::Norm { max_norm: 1.0, norm_type });
            assert!(before.is_nan() && after.is_nan(), "{norm_type:?}");
            assert!(a.iter().chain(&b).all(|v| v.is_nan()), "{norm_type:?}: {a:?} {b:?}");
        }
    }

    #[test]
    fn value_clipping_keeps_nan() {
        let mut a = vec![f32::NAN, 5.0];
        clip_gradients(&mut [&mut a], GradClip::Value { clip: 1.0 });
        assert!(a[0].is_nan() && a[1] == 1.0, "{a:?}");
    }

    #[test]
    fn a_small_norm_is_left_alone() {
        let mut a = vec![0.3f32, -0.4];
        let (before, after) = clip_gradients(&mut [&mut a], GradClip::norm(1.0));
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
        assert_eq!(clip_gradients(&mut [], GradClip::norm(1.0)), (0.0, 0.0));
    }
}
