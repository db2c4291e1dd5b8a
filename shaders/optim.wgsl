// optim.wgsl — parameter updates of torch.optim.SGD and torch.optim.Adam.
//
//   sgd_step:  g = grad + λ·p;  v = μ·v + g (v = g when μ = 0);  p -= lr·v
//   adam_step: g = grad + λ·p;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//              p -= (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
//
// The learning rate and the step count t change every step, so they come from a
// second uniform (`step`) that the host writes once per step; `p` holds what is fixed.
//
// Bindings: 0 params, 1 step, 2 param, 3 grad, 4 m (SGD: velocity), 5 v.
// Keep in sync with `OptimParams` and `StepUniform` in src/backend/gpu/optim.rs.

struct Params {
    len: u32,
    momentum: f32,
    weight_decay: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
}

struct Step {
    learning_rate: f32,
    t: f32, // 1-based step count, for the bias corrections
    index: u32, // the step exactly, for random numbers
    _pad1: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;

fn index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256, 1, 1)
fn sgd_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.len) {
        return;
    }
    let g = grad[i] + p.weight_decay * param[i];
    var velocity = g;
    if (p.momentum != 0.0) {
        velocity = p.momentum * m[i] + g;
    }
    m[i] = velocity;
    param[i] -= step.learning_rate * velocity;
}

@compute @workgroup_size(256, 1, 1)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.len) {
        return;
    }
    let g = grad[i] + p.weight_decay * param[i];
    let m_new = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let v_new = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = m_new;
    v[i] = v_new;
    let bias_correction1 = 1.0 - pow(p.beta1, step.t);
    let bias_correction2_sqrt = sqrt(1.0 - pow(p.beta2, step.t));
    let denom = sqrt(v_new) / bias_correction2_sqrt + p.eps;
    param[i] -= (step.learning_rate / bias_correction1) * m_new / denom;
}
