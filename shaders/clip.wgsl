// clip.wgsl — gradient clipping before the optimizer step, entirely on the device
// (torch.nn.utils.clip_grad_norm_ and clip_grad_value_).
//
//   global norm  ‖g‖ = sqrt(Σ_tensors Σ_i g[i]²)
//   Norm:   coef = min(1, max_norm / (‖g‖ + 1e-6));  g *= coef;  ‖g‖ after = ‖g‖·coef
//   Value:  g = min(max(g, −clip), clip);             ‖g‖ after from a second pass
//   None:   nothing changes;                          ‖g‖ after = ‖g‖
//   metrics[4·slot + 2] = ‖g‖ before,  metrics[4·slot + 3] = ‖g‖ after
//
// The host records, for a list of gradient tensors:
//   clip_sum_squares  one dispatch per tensor, one workgroup: each thread sums the squares
//                     of every 256th element, a tree sum combines them, and
//                     partials[index] = Σ g[i]²
//   clip_finalize     one workgroup: ‖g‖ = sqrt(Σ partials[0..count]); stage 0 writes the
//                     "before" metric (and "after" for None and Norm) and factor[0] = coef;
//                     stage 1 (after Value clipping) writes the "after" metric
//   clip_apply        one thread per element of one tensor: g *= factor[0] (Norm) or the clamp
//                     (Value); the coefficient never leaves the device
// For Value clipping the host then records clip_sum_squares and clip_finalize (stage 1) again.
// A non-finite norm makes coef 1 on most devices (WGSL leaves min with NaN unspecified);
// the NaN or Inf in the metrics is how the host sees the divergence.
//
// Bindings: 0 params, 1 grad_in (read), 2 grad (read_write), 3 partials, 4 factor,
//           5 factor_in (read-only view of factor), 6 metrics.
// Keep in sync with `ClipParams` in src/backend/gpu/clip.rs and the CPU twin
// src/backend/cpu/clip.rs.

struct Params {
    len: u32,      // clip_sum_squares, clip_apply: elements of this gradient
    index: u32,    // clip_sum_squares: where its partial sum goes
    count: u32,    // clip_finalize: how many partial sums there are
    slot: u32,     // clip_finalize: the metrics slot
    mode: u32,     // 0 None, 1 Norm, 2 Value
    stage: u32,    // clip_finalize: 0 before clipping, 1 after (Value only)
    max_norm: f32, // Norm
    clip: f32,     // Value
}

const MODE_NONE: u32 = 0u;
const MODE_NORM: u32 = 1u;
const MODE_VALUE: u32 = 2u;
// PyTorch's clip_grad_norm_ adds this to the norm before dividing.
const CLIP_COEF_EPS: f32 = 1e-6;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<storage, read_write> factor: array<f32>;
@group(0) @binding(5) var<storage, read> factor_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> metrics: array<f32>;

const WG: u32 = 256u;
var<workgroup> scratch: array<f32, 256>;

// Tree sum of scratch across the workgroup; the result lands in scratch[0].
fn reduce(lid: u32) {
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            scratch[lid] += scratch[lid + stride];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256, 1, 1)
fn clip_sum_squares(@builtin(local_invocation_id) lid: vec3<u32>) {
    var sum = 0.0;
    for (var i = lid.x; i < p.len; i += WG) {
        let g = grad_in[i];
        sum += g * g;
    }
    scratch[lid.x] = sum;
    reduce(lid.x);
    if (lid.x == 0u) {
        partials[p.index] = scratch[0];
    }
}

@compute @workgroup_size(256, 1, 1)
fn clip_finalize(@builtin(local_invocation_id) lid: vec3<u32>) {
    var sum = 0.0;
    for (var j = lid.x; j < p.count; j += WG) {
        sum += partials[j];
    }
    scratch[lid.x] = sum;
    reduce(lid.x);
    if (lid.x != 0u) {
        return;
    }
    let norm = sqrt(scratch[0]);
    if (p.stage == 1u) {
        metrics[4u * p.slot + 3u] = norm;
        return;
    }
    var coef = 1.0;
    if (p.mode == MODE_NORM) {
        coef = min(1.0, p.max_norm / (norm + CLIP_COEF_EPS));
    }
    factor[0] = coef;
    metrics[4u * p.slot + 2u] = norm;
    if (p.mode != MODE_VALUE) {
        metrics[4u * p.slot + 3u] = norm * coef;
    }
}

@compute @workgroup_size(256, 1, 1)
fn clip_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WG;
    if (i >= p.len) {
        return;
    }
    if (p.mode == MODE_NORM) {
        grad[i] = grad[i] * factor_in[0];
    } else if (p.mode == MODE_VALUE) {
        grad[i] = min(max(grad[i], -p.clip), p.clip);
    }
}
