//! CPU twin of `shaders/activation.wgsl`.

use super::parallel;
use crate::backend::Activation;

pub fn activation_forward(kind: Activation, x: &[f32], y: &mut [f32]) {
    parallel::for_each_share_mut(y, 1, 1, |first, y| {
        for (out, &v) in y.iter_mut().zip(&x[first..]) {
            *out = match kind {
                Activation::Relu => v.max(0.0),
                Activation::Tanh => v.tanh(),
            };
        }
    });
}

/// ReLU's gradient is taken as 0 at exactly 0, as PyTorch does.
pub fn activation_backward(kind: Activation, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    parallel::for_each_share_mut(dx, 1, 1, |first, dx| {
        let values = dx.iter_mut().zip(&x[first..]).zip(&y[first..]).zip(&dy[first..]);
        match kind {
            Activation::Relu => values.for_each(|(((d, &x), _), &g)| *d = if x > 0.0 { g } else { 0.0 }),
            Activation::Tanh => values.for_each(|(((d, _), &y), &g)| *d = g * (1.0 - y * y)),
        }
    });
}
