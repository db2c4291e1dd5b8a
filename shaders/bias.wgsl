// bias.wgsl — a linear layer's bias and its gradient.
//
//   bias_add:  y[r, c] += bias[c]            (one thread per element)
//   bias_grad: dbias[c] = Σ_r dy[r, c]       (one thread per column; rows are few)
//
// Bindings: 0 params, 1 bias/dbias, 2 y/dy.
// Keep in sync with `BiasParams` in src/backend/gpu/bias.rs.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn bias_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= p.rows * p.cols) {
        return;
    }
    y[i] += bias[i % p.cols];
}

@compute @workgroup_size(256, 1, 1)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) {
        return;
    }
    var sum = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        sum += dy[r * p.cols + c];
    }
    dbias[c] = sum;
}
