// gather.wgsl — out[r, :] = src[indices[r], :]
//
// Assembles a mini-batch from a dataset that lives on the GPU, so a training step
// uploads only its row indices. gather_batch gathers the labels in the same dispatch:
// labels_out[r, j] = labels[indices[r], j] for the labels_per_row labels of a row (one
// class, or a target per position of a sequence; at most row_len), written by the threads
// of the row's first labels_per_row values.
//
// Bindings: 0 params, 1 src, 2 indices (whole numbers stored as f32), 3 out,
//           4 labels, 5 labels_out (gather_batch only).
// Keep in sync with `GatherParams` in src/backend/gpu/gather.rs.

struct Params {
    rows: u32,
    row_len: u32,
    labels_per_row: u32, // gather_batch
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> labels: array<f32>;
@group(0) @binding(5) var<storage, read_write> labels_out: array<f32>;

// Copies element i of the gathered rows (i < rows · row_len); returns the source row.
fn gather_element(i: u32) -> u32 {
    let r = i / p.row_len;
    let row = u32(indices[r]);
    out[i] = src[row * p.row_len + i % p.row_len];
    return row;
}

@compute @workgroup_size(256, 1, 1)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i < p.rows * p.row_len) {
        gather_element(i);
    }
}

@compute @workgroup_size(256, 1, 1)
fn gather_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i < p.rows * p.row_len) {
        let row = gather_element(i);
        let j = i % p.row_len;
        if (j < p.labels_per_row) {
            labels_out[(i / p.row_len) * p.labels_per_row + j] = labels[row * p.labels_per_row + j];
        }
    }
}
