//! CPU twin of `shaders/activation.wgsl`.

use crate::backend::Activation;

pub fn activation_forward(kind: Activation, x: &[f32], y: &mut [f32]) {
    for (out, &v) in y.iter_mut().zip(x) {
        *out = match kind {
            Activation::Relu => v.max(0.0),
            Activation::Tanh => v.tanh(),
        };
    }
}

/// ReLU's gradient is taken as 0 at exactly 0, as PyTorch does.
pub fn activation_backward(kind: Activation, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    for i in 0..dx.len() {
        dx[i] = match kind {
            Activation::Relu => {
                if x[i] > 0.0 {
                    dy[i]
                } else {
                    0.0
                }
            }
            Activation::Tanh => dy[i] * (1.0 - y[i] * y[i]),
        };
    }
}
