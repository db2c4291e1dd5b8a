// activation.wgsl — element-wise nonlinearities and their gradients.
//
//   ReLU: y = max(x, 0),  dx = dy · [x > 0]   (gradient 0 at x = 0, as PyTorch)
//   tanh: y = tanh(x),    dx = dy · (1 − y²)
//
// Bindings: 0 params, 1 x, 2 y, 3 dy, 4 dx.
// Keep in sync with `ActivationParams` in src/backend/gpu/activation.rs.

struct Params {
    len: u32,
    kind: u32, // 0 ReLU, 1 tanh
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read> y_in: array<f32>;

fn index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256, 1, 1)
fn activation_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.len) {
        return;
    }
    if (p.kind == 0u) {
        y[i] = max(x[i], 0.0);
    } else {
        y[i] = tanh(x[i]);
    }
}

@compute @workgroup_size(256, 1, 1)
fn activation_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if (i >= p.len) {
        return;
    }
    if (p.kind == 0u) {
        dx[i] = select(0.0, dy[i], x[i] > 0.0);
    } else {
        dx[i] = dy[i] * (1.0 - y_in[i] * y_in[i]);
    }
}
