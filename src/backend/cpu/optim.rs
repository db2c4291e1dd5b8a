//! CPU twin of `shaders/optim.wgsl`: the update rules of `torch.optim.SGD` and `torch.optim.Adam`.

use super::parallel;
use crate::backend::{AdamHyper, SgdHyper, StepScalars};

/// SGD with momentum (dampening 0, no Nesterov). PyTorch starts the momentum buffer at the
/// first gradient, which equals `μ·0 + g` for a zero-initialised buffer.
pub fn sgd_step(param: &mut [f32], grad: &[f32], velocity: &mut [f32], hyper: SgdHyper, scalars: StepScalars) {
    for i in 0..param.len() {
        let g = grad[i] + hyper.weight_decay * param[i];
        let v = if hyper.momentum != 0.0 { hyper.momentum * velocity[i] + g } else { g };
        velocity[i] = v;
        param[i] -= scalars.learning_rate * v;
    }
}

/// Adam with bias correction; `weight_decay` is added to the gradient (L2), not decoupled.
pub fn adam_step(
    param: &mut [f32],
    grad: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    hyper: AdamHyper,
    scalars: StepScalars,
) {
    let t = scalars.step as i32;
    let bias_correction1 = 1.0 - hyper.beta1.powi(t);
    let bias_correction2 = 1.0 - hyper.beta2.powi(t);
    let step_size = scalars.learning_rate / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.sqrt();
    // Each coordinate is independent: threads take consecutive shares of them.
    let shares = parallel::shares(param.len(), 8);
    let jobs: Vec<_> = shares
        .iter()
        .map(|s| s.start)
        .zip(parallel::split_shares(param, &shares, 1))
        .zip(parallel::split_shares(m, &shares, 1))
        .zip(parallel::split_shares(v, &shares, 1))
        .collect();
    parallel::for_each_job(jobs, |(((first, param), m), v)| {
        let grad = &grad[first..first + param.len()];
        for (((p, m), v), &g) in param.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(grad) {
            let g = g + hyper.weight_decay * *p;
            *m = hyper.beta1 * *m + (1.0 - hyper.beta1) * g;
            *v = hyper.beta2 * *v + (1.0 - hyper.beta2) * g * g;
            let denom = v.sqrt() / bias_correction2_sqrt + hyper.eps;
            *p -= step_size * *m / denom;
        }
    });
}
