// bias.wgsl — a per-channel bias and its gradient on [N, C, S]
// (S = 1 after a linear layer, S = H·W after a convolution).
//
//   bias_add:  y[n, c, s] += bias[c]             (one thread per element)
//   bias_grad: dbias[c] = Σ_{n, s} dy[n, c, s]   (one workgroup per channel, tree sum)
//
// Bindings: 0 params, 1 bias, 2 y (bias_add); 3 dy, 4 dbias (bias_grad).
// Keep in sync with `BiasParams` in src/backend/gpu/bias.rs.

struct Params {
    batch: u32,
    channels: u32,
    spatial: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn bias_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= p.batch * p.channels * p.spatial) {
        return;
    }
    y[i] += bias[(i / p.spatial) % p.channels];
}

@compute @workgroup_size(256, 1, 1)
fn bias_grad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let c = wid.x;
    let count = p.batch * p.spatial;
    var sum = 0.0;
    for (var j = lid.x; j < count; j += 256u) {
        let n = j / p.spatial;
        let s = j % p.spatial;
        sum += dy[(n * p.channels + c) * p.spatial + s];
    }
    partial[lid.x] = sum;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] += partial[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        dbias[c] = partial[0];
    }
}
