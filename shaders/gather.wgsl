// gather.wgsl — out[r, :] = src[indices[r], :]
//
// Assembles a mini-batch from a dataset that lives on the GPU, so a training step
// uploads only its row indices.
//
// Bindings: 0 params, 1 src, 2 indices (whole numbers stored as f32), 3 out.
// Keep in sync with `GatherParams` in src/backend/gpu/gather.rs.

struct Params {
    rows: u32,
    row_len: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= p.rows * p.row_len) {
        return;
    }
    let r = i / p.row_len;
    let j = i % p.row_len;
    out[i] = src[u32(indices[r]) * p.row_len + j];
}
