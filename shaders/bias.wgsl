// bias.wgsl — the gradient of a per-channel bias on [N, C, S]
// (S = 1 after a linear layer, S = H·W after a convolution). The bias itself is added in
// the epilogue of the product that precedes it (matmul.wgsl, conv.wgsl).
//
//   bias_grad: dbias[c] = Σ_{n, s} dy[n, c, s]   (one 64-thread workgroup per channel)
//
// bias_grad finishes its sum in two short serial steps (8 threads sum 8 partials each, then
// one thread sums those 8) rather than a log₂ tree: three barriers instead of seven, which
// software GPUs (SwiftShader, lavapipe) pay for by switching between all 64 threads.
//
// Bindings: 0 params, 3 dy, 4 dbias.
// Keep in sync with `BiasParams` in src/backend/gpu/bias.rs.

struct Params {
    batch: u32,
    channels: u32,
    spatial: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

var<workgroup> partial: array<f32, 64>;
var<workgroup> level2: array<f32, 8>;

@compute @workgroup_size(64, 1, 1)
fn bias_grad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let c = wid.x;
    let count = p.batch * p.spatial;
    var sum = 0.0;
    for (var j = lid.x; j < count; j += 64u) {
        let n = j / p.spatial;
        let s = j % p.spatial;
        sum += dy[(n * p.channels + c) * p.spatial + s];
    }
    partial[lid.x] = sum;
    workgroupBarrier();
    if (lid.x < 8u) {
        var part = 0.0;
        for (var k = 0u; k < 8u; k++) {
            part += partial[lid.x * 8u + k];
        }
        level2[lid.x] = part;
    }
    workgroupBarrier();
    if (lid.x == 0u) {
        var total = 0.0;
        for (var k = 0u; k < 8u; k++) {
            total += level2[k];
        }
        dbias[c] = total;
    }
}
