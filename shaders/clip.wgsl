// clip.wgsl — gradient clipping before the optimizer step, entirely on the device
// (torch.nn.utils.clip_grad_norm_ and clip_grad_value_).
//
//   global norm  ‖g‖ over all tensors as one vector, of p.norm:
//                L2 sqrt(Σ g²), L1 Σ |g|, infinity max |g|
//   Norm:   coef = min(1, max_norm / (‖g‖ + 1e-6));  g *= coef;  ‖g‖ after = ‖g‖·coef
//   Value:  g = min(max(g, −clip), clip);             ‖g‖ after (L2) from a second pass
//   None:   nothing changes;                          ‖g‖ after = ‖g‖ (L2)
//   metrics[4·slot + 2] = ‖g‖ before,  metrics[4·slot + 3] = ‖g‖ after
//
// The host records, for a list of gradient tensors:
//   clip_partial      one dispatch per tensor (a model's whole gradient arena is one), G
//                     workgroups: thread t of workgroup w takes elements w·256 + t, then
//                     every 256·G-th, a tree combines each workgroup's, and
//                     partials[index + w] = its Σ g², Σ |g| or max |g|
//   clip_finalize     one workgroup: ‖g‖ from partials[0..count]; stage 0 writes the
//                     "before" metric (and "after" for None and Norm) and factor[0] = coef;
//                     stage 1 (after Value clipping) writes the "after" metric
//   clip_apply        one thread per element of one tensor: g *= factor[0] (Norm) or the clamp
//                     (Value); the coefficient never leaves the device
// For Value clipping the host then records clip_partial and clip_finalize (stage 1) again.
//
// NaN as PyTorch: a NaN gradient makes the norm NaN (sums carry it; the maximum is taken
// NaN-aware), the coefficient stays NaN (torch.clamp keeps NaN; WGSL's min would not be
// bound to), so every clipped gradient becomes NaN; value clipping leaves a NaN element
// NaN. NaN is found from the bits, which no compiler may assume away.
//
// Bindings: 0 params, 1 grad_in (read), 2 grad (read_write), 3 partials, 4 factor,
//           5 factor_in (read-only view of factor), 6 metrics.
// Keep in sync with `ClipParams` in src/backend/gpu/clip.rs and the CPU twin
// src/backend/cpu/clip.rs.

struct Params {
    len: u32,      // clip_partial, clip_apply: elements of this gradient
    index: u32,    // clip_partial: where its workgroups' partial results go
    count: u32,    // clip_finalize: how many partial sums there are
    slot: u32,     // clip_finalize: the metrics slot
    mode: u32,     // 0 None, 1 Norm, 2 Value
    stage: u32,    // clip_finalize: 0 before clipping, 1 after (Value only)
    max_norm: f32, // Norm
    clip: f32,     // Value
    norm: u32,     // clip_partial, clip_finalize: NORM_L2, NORM_L1 or NORM_INF
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const MODE_NONE: u32 = 0u;
const MODE_NORM: u32 = 1u;
const MODE_VALUE: u32 = 2u;
const NORM_L2: u32 = 0u;
const NORM_L1: u32 = 1u;
const NORM_INF: u32 = 2u;
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

fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// The larger of a and b, or the NaN when either is NaN.
fn max_or_nan(a: f32, b: f32) -> f32 {
    if (is_nan(a)) {
        return a;
    }
    if (is_nan(b)) {
        return b;
    }
    return max(a, b);
}

// Two partial results of one norm combined: a sum for L2 (of squares) and L1, a maximum
// for infinity.
fn combine(a: f32, b: f32) -> f32 {
    if (p.norm == NORM_INF) {
        return max_or_nan(a, b);
    }
    return a + b;
}

// What one element adds to its norm: g², |g| or |g| (to a maximum).
fn measure(g: f32) -> f32 {
    if (p.norm == NORM_L2) {
        return g * g;
    }
    return abs(g);
}

// Combines scratch across the workgroup; the result lands in scratch[0].
fn reduce(lid: u32) {
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            scratch[lid] = combine(scratch[lid], scratch[lid + stride]);
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256, 1, 1)
fn clip_partial(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    var acc = 0.0;
    for (var i = wid.x * WG + lid.x; i < p.len; i += WG * groups.x) {
        acc = combine(acc, measure(grad_in[i]));
    }
    scratch[lid.x] = acc;
    reduce(lid.x);
    if (lid.x == 0u) {
        partials[p.index + wid.x] = scratch[0];
    }
}

@compute @workgroup_size(256, 1, 1)
fn clip_finalize(@builtin(local_invocation_id) lid: vec3<u32>) {
    var acc = 0.0;
    for (var j = lid.x; j < p.count; j += WG) {
        acc = combine(acc, partials[j]);
    }
    scratch[lid.x] = acc;
    reduce(lid.x);
    if (lid.x != 0u) {
        return;
    }
    var norm = scratch[0];
    if (p.norm == NORM_L2) {
        norm = sqrt(norm);
    }
    if (p.stage == 1u) {
        metrics[4u * p.slot + 3u] = norm;
        return;
    }
    var coef = 1.0;
    if (p.mode == MODE_NORM) {
        coef = p.max_norm / (norm + CLIP_COEF_EPS);
        if (is_nan(norm)) {
            coef = norm;
        } else {
            coef = min(1.0, coef);
        }
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
        let g = grad[i];
        if (!is_nan(g)) {
            grad[i] = min(max(g, -p.clip), p.clip);
        }
    }
}
