// norm.wgsl — one kernel family for every normalization in the lab.
//
// The input is viewed as [N, C, S] (S = H·W; S = 1 after a linear layer). A *statistic*
// is one (mean, rstd) pair shared by a set of elements:
//   reduce_over_batch = 1 (BatchNorm):  stat = channel group g,        over (N, C/G, S)
//   reduce_over_batch = 0 (Group/Instance/Layer/RMS): stat = (n, g),   over (C/G, S)
// with G = groups. BatchNorm is G = C; InstanceNorm G = C; LayerNorm and RMSNorm G = 1.
//
//   forward:   x̂ = (x − μ)·rstd,  rstd = 1/sqrt(s² + eps),  y = γ·x̂ + β
//              with d = x − μ over the statistic's M elements, the spread s is
//                spread 0 (standard):  s² = mean(d²) = σ², the biased variance
//                spread 1 (L1):        s  = mean(|d|)
//                spread 2 (L∞):        s  = max(|d|)
//              RMSNorm (subtract_mean = 0): μ = 0, s² = mean(x²)
//   running:   running_mean = (1−m)·running_mean + m·μ
//              running_var  = (1−m)·running_var  + m·σ²·M/(M−1)   (unbiased; L1/L∞: m·s²)
//              m = momentum, or 1/num_batches_tracked when cumulative (momentum=None)
//   eval:      μ and s² come from the running estimates (training = 0)
//   activation (activation ≠ 0): the block's activation follows in the same pass,
//              act_out = relu(y) or tanh(y), y still written; dy is then the gradient of
//              act_out, and every backward entry point first takes it through the
//              activation: dz = dy·[act_out > 0] (ReLU) or dy·(1 − act_out²) (tanh),
//              and uses dz as the gradient of y below.
//   residual (has_residual = 1): norm_backward_apply adds residual[i] to dx[i] as it writes
//              it (the gradient along a residual connection that skips the norm).
//   mask (masked = 1; BatchNorm with the standard spread over padded sequences): only the
//              elements of real rows enter a statistic, M is their count; element (n, c)
//              belongs to row n·(C / mask_features) + c / mask_features of binding 19's
//              targets, real where the target is ≥ 0 (padding is −1). Every element is
//              normalized; a statistic with M = 0 normalizes with the running estimates
//              and leaves them alone; the unbiased factor is M / max(M − 1, 1). Backward:
//              real elements as below (the sums over every element, whose outputs all
//              depend on the statistic, the means dividing by M); padding elements move no
//              statistic, dx = rstd·g.
//   backward:  g = dy·γ.  rstd depends on x through s; with u_i = rstd·s·∂s/∂d_i
//              (u = x̂/M for the standard spread; rstd·s·sign(d)/M for L1; for L∞
//              rstd·s·sign(d)/ties at the elements where |d| = s, else 0):
//              training: dx = rstd·(g − mean(g) − Σ(g·x̂)·(u − mean(u)))
//                        which for the standard spread is rstd·(g − mean(g) − x̂·mean(g·x̂))
//              eval:     dx = rstd·g
//              dγ[a] = Σ dy·x̂,  dβ[a] = Σ dy   over the elements sharing affine index a
//              When one statistic is one affine index (BatchNorm and its Lp variants:
//              affine_grads_in_stats = 1), these are the statistic's own sums, so
//              norm_backward_stats writes dγ and dβ and norm_param_grad is not dispatched.
//
// Five entry points, each a single dispatch:
//   norm_stats            one workgroup per statistic   → mean, rstd (+ running update)
//   norm_apply            one thread per element        → y
//   norm_backward_stats   one workgroup per statistic   → stat_grad (5 per statistic:
//                         Σ g, Σ g·x̂, s, Σ sign(d) over the elements that move s, their count)
//                         (+ dγ, dβ when affine_grads_in_stats = 1)
//   norm_backward_apply   one thread per element        → dx
//   norm_param_grad       one workgroup per affine index → dγ, dβ
//
// Bindings: 0 params, 1 x, 2 mean, 3 rstd, 4 running_mean, 5 running_var, 6 gamma,
//           7 beta, 8 y, 9 dy, 10 stat_grad, 11 dx, 12 dgamma, 13 dbeta,
//           14 mean (read-only view), 15 rstd (read-only view), 16 num_batches_tracked,
//           17 act_out (the fused activation's output), 18 residual, 19 targets (the mask).
// Keep in sync with `NormParams` in src/backend/gpu/norm.rs.

struct Params {
    batch: u32,
    channels: u32,
    spatial: u32,
    groups: u32,
    reduce_over_batch: u32,
    affine_per_element: u32,
    subtract_mean: u32,
    training: u32,
    update_running: u32,
    eps: f32,
    momentum: f32,
    cumulative: u32,
    spread: u32,
    activation: u32, // 0 none, 1 ReLU, 2 tanh
    affine_grads_in_stats: u32,
    has_residual: u32,
    masked: u32,
    mask_features: u32,
    _pad0: u32,
    _pad1: u32,
}

const SPREAD_STD: u32 = 0u;
const SPREAD_MEAN_ABS: u32 = 1u;
const SPREAD_MAX_ABS: u32 = 2u;
const STAT_GRAD_WIDTH: u32 = 5u;
const ACTIVATION_RELU: u32 = 1u;
const ACTIVATION_TANH: u32 = 2u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(6) var<storage, read> gamma: array<f32>;
@group(0) @binding(7) var<storage, read> beta: array<f32>;
@group(0) @binding(8) var<storage, read_write> y: array<f32>;
@group(0) @binding(9) var<storage, read> dy: array<f32>;
@group(0) @binding(10) var<storage, read_write> stat_grad: array<f32>;
@group(0) @binding(11) var<storage, read_write> dx: array<f32>;
@group(0) @binding(12) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(13) var<storage, read_write> dbeta: array<f32>;

// Read-only views for the backward entry points, which must not write the statistics.
@group(0) @binding(14) var<storage, read> mean_in: array<f32>;
@group(0) @binding(15) var<storage, read> rstd_in: array<f32>;
// One element, shared by every statistic of the layer.
@group(0) @binding(16) var<storage, read_write> batches_tracked: array<f32>;
@group(0) @binding(17) var<storage, read_write> act_out: array<f32>;
@group(0) @binding(18) var<storage, read> residual: array<f32>;
@group(0) @binding(19) var<storage, read> targets: array<f32>;

// Element-wise entry points use 256-thread workgroups. The reductions use 64 threads and
// finish in two short serial steps (8 threads sum 8 partials each, then one thread sums
// those 8) instead of a log₂ tree: three barriers instead of seven. A GPU hardly notices
// at these sizes; a software one (SwiftShader, lavapipe), which pays for every barrier by
// switching between all of the workgroup's threads, runs these kernels many times faster.
const WG: u32 = 256u;
const WG_REDUCE: u32 = 64u;
const FAN: u32 = 8u; // FAN · FAN = WG_REDUCE
var<workgroup> scratch_a: array<f32, 64>;
var<workgroup> scratch_b: array<f32, 64>;
var<workgroup> level2_a: array<f32, 8>;
var<workgroup> level2_b: array<f32, 8>;

fn channels_per_group() -> u32 {
    return p.channels / p.groups;
}

fn elements_per_stat() -> u32 {
    let samples = select(1u, p.batch, p.reduce_over_batch == 1u);
    return samples * channels_per_group() * p.spatial;
}

// Flat index of the j-th element of statistic `stat`.
fn stat_element(stat: u32, j: u32) -> u32 {
    let per_sample = channels_per_group() * p.spatial;
    var n: u32;
    var g: u32;
    if (p.reduce_over_batch == 1u) {
        n = j / per_sample;
        g = stat;
    } else {
        n = stat / p.groups;
        g = stat % p.groups;
    }
    let rem = j % per_sample;
    let c = g * channels_per_group() + rem / p.spatial;
    return (n * p.channels + c) * p.spatial + rem % p.spatial;
}

// The statistic element i belongs to.
fn stat_of(i: u32) -> u32 {
    let n = i / (p.channels * p.spatial);
    let g = ((i / p.spatial) % p.channels) / channels_per_group();
    if (p.reduce_over_batch == 1u) {
        return g;
    }
    return n * p.groups + g;
}

// Whether element i enters its statistic: every element, or with a mask only those of
// real rows.
fn counts(i: u32) -> bool {
    if (p.masked == 0u) {
        return true;
    }
    let n = i / (p.channels * p.spatial);
    let c = (i / p.spatial) % p.channels;
    return targets[n * (p.channels / p.mask_features) + c / p.mask_features] >= 0.0;
}

// The γ/β entry element i uses.
fn affine_of(i: u32) -> u32 {
    let per_sample = p.channels * p.spatial;
    if (p.affine_per_element == 1u) {
        return i % per_sample;
    }
    return (i / p.spatial) % p.channels;
}

// The gradient of the norm's output y at element i: dy itself, or dy taken back through
// the fused activation (ReLU's gradient is 0 at 0, as PyTorch's).
fn dz(i: u32) -> f32 {
    if (p.activation == ACTIVATION_RELU) {
        return select(0.0, dy[i], act_out[i] > 0.0);
    }
    if (p.activation == ACTIVATION_TANH) {
        let a = act_out[i];
        return dy[i] * (1.0 - a * a);
    }
    return dy[i];
}

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG;
}

// Max of scratch_a across the workgroup; the result lands in scratch_a[0].
fn reduce_max(lid: u32) {
    workgroupBarrier();
    if (lid < FAN) {
        var m = scratch_a[lid * FAN];
        for (var k = 1u; k < FAN; k++) {
            m = max(m, scratch_a[lid * FAN + k]);
        }
        level2_a[lid] = m;
    }
    workgroupBarrier();
    if (lid == 0u) {
        var m = level2_a[0];
        for (var k = 1u; k < FAN; k++) {
            m = max(m, level2_a[k]);
        }
        scratch_a[0] = m;
    }
    workgroupBarrier();
}

// The spread s of statistic `stat` around `mu` (not for the standard spread, whose s² the
// caller sums itself). Every thread of the workgroup gets the same value, bit for bit, as
// the forward pass and the backward pass compute it with the same operations.
fn lp_spread(stat: u32, mu: f32, lid: u32) -> f32 {
    let count = elements_per_stat();
    var acc = 0.0;
    for (var j = lid; j < count; j += WG_REDUCE) {
        let a = abs(x[stat_element(stat, j)] - mu);
        if (p.spread == SPREAD_MAX_ABS) {
            acc = max(acc, a);
        } else {
            acc += a;
        }
    }
    scratch_a[lid] = acc;
    scratch_b[lid] = 0.0;
    var s: f32;
    if (p.spread == SPREAD_MAX_ABS) {
        reduce_max(lid);
        s = scratch_a[0];
    } else {
        reduce_pair(lid);
        s = scratch_a[0] / f32(count);
    }
    workgroupBarrier();
    return s;
}

// Whether element i (deviation d) moves the spread s, for the L1/L∞ gradient.
fn moves_spread(d: f32, s: f32) -> bool {
    return p.spread == SPREAD_MEAN_ABS || abs(d) == s;
}

// Sums of scratch_a and scratch_b across the workgroup; the results land in [0].
fn reduce_pair(lid: u32) {
    workgroupBarrier();
    if (lid < FAN) {
        var a = 0.0;
        var b = 0.0;
        for (var k = 0u; k < FAN; k++) {
            a += scratch_a[lid * FAN + k];
            b += scratch_b[lid * FAN + k];
        }
        level2_a[lid] = a;
        level2_b[lid] = b;
    }
    workgroupBarrier();
    if (lid == 0u) {
        var a = 0.0;
        var b = 0.0;
        for (var k = 0u; k < FAN; k++) {
            a += level2_a[k];
            b += level2_b[k];
        }
        scratch_a[0] = a;
        scratch_b[0] = b;
    }
    workgroupBarrier();
}

@compute @workgroup_size(64, 1, 1)
fn norm_stats(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let stat = wid.x;
    let count = elements_per_stat();
    if (p.training == 0u) {
        if (lid.x == 0u) {
            mean[stat] = running_mean[stat];
            rstd[stat] = inverseSqrt(running_var[stat] + p.eps);
        }
        return;
    }
    // Two passes over the elements (mean, then squared deviations) for accuracy when
    // the inputs sit far from zero. The mean is summed shifted by the statistic's first
    // element, so that the float32 sum adds deviations (a few units) rather than the
    // values themselves (around 1e3, say, where each addition would lose the digits
    // that the deviations live in).
    var shift = 0.0;
    var sum = 0.0;
    var real = 0.0;
    if (p.subtract_mean == 1u) {
        // With a mask, the shift is the first real element (every thread finds the same
        // one): a padding element may sit far from the real ones, and a statistic of one
        // real element must then get that element's value exactly (x̂ = 0, as in f64).
        var first = 0u;
        if (p.masked == 1u) {
            while (first + 1u < count && !counts(stat_element(stat, first))) {
                first += 1u;
            }
        }
        shift = x[stat_element(stat, first)];
        for (var j = lid.x; j < count; j += WG_REDUCE) {
            let i = stat_element(stat, j);
            if (counts(i)) {
                sum += x[i] - shift;
                real += 1.0;
            }
        }
    }
    scratch_a[lid.x] = sum;
    scratch_b[lid.x] = real;
    reduce_pair(lid.x);
    // M, the number of elements in the statistic.
    var elements = f32(count);
    if (p.masked == 1u) {
        elements = scratch_b[0];
    }
    let mu = shift + scratch_a[0] / max(elements, 1.0);
    workgroupBarrier();
    var spread_sq: f32;
    if (p.spread == SPREAD_STD) {
        var sq = 0.0;
        for (var j = lid.x; j < count; j += WG_REDUCE) {
            let i = stat_element(stat, j);
            let d = x[i] - mu;
            if (counts(i)) {
                sq += d * d;
            }
        }
        scratch_a[lid.x] = sq;
        reduce_pair(lid.x);
        spread_sq = scratch_a[0] / max(elements, 1.0);
    } else {
        let s = lp_spread(stat, mu, lid.x);
        spread_sq = s * s;
    }
    if (lid.x == 0u && elements == 0.0) {
        // No real element: the running estimates normalize, unchanged.
        mean[stat] = running_mean[stat];
        rstd[stat] = inverseSqrt(running_var[stat] + p.eps);
    } else if (lid.x == 0u) {
        mean[stat] = mu;
        rstd[stat] = inverseSqrt(spread_sq + p.eps);
        if (p.update_running == 1u) {
            // Every statistic's workgroup reads the count from before this step;
            // norm_apply, the next dispatch, then increments it once.
            let batches = batches_tracked[0] + 1.0;
            let m = select(p.momentum, 1.0 / batches, p.cumulative == 1u);
            var tracked = spread_sq;
            if (p.spread == SPREAD_STD) {
                tracked = spread_sq * elements / max(elements - 1.0, 1.0);  // unbiased
            }
            running_mean[stat] = (1.0 - m) * running_mean[stat] + m * mu;
            running_var[stat] = (1.0 - m) * running_var[stat] + m * tracked;
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn norm_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i == 0u && p.update_running == 1u) {
        batches_tracked[0] += 1.0;
    }
    if (i >= p.batch * p.channels * p.spatial) {
        return;
    }
    let s = stat_of(i);
    let a = affine_of(i);
    let z = (x[i] - mean_in[s]) * rstd_in[s] * gamma[a] + beta[a];
    y[i] = z;
    if (p.activation == ACTIVATION_RELU) {
        act_out[i] = max(z, 0.0);
    } else if (p.activation == ACTIVATION_TANH) {
        act_out[i] = tanh(z);
    }
}

@compute @workgroup_size(64, 1, 1)
fn norm_backward_stats(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let stat = wid.x;
    let count = elements_per_stat();
    // With one affine index per statistic, sum dz and dz·x̂ (dβ and dγ) and scale by γ once.
    let own_affine = p.affine_grads_in_stats == 1u;
    var sum_g = 0.0;
    var sum_g_xhat = 0.0;
    var real = 0.0;
    for (var j = lid.x; j < count; j += WG_REDUCE) {
        let i = stat_element(stat, j);
        let g = dz(i) * select(gamma[affine_of(i)], 1.0, own_affine);
        sum_g += g;
        sum_g_xhat += g * (x[i] - mean_in[stat]) * rstd_in[stat];
        if (counts(i)) {
            real += 1.0;
        }
    }
    scratch_a[lid.x] = sum_g;
    scratch_b[lid.x] = sum_g_xhat;
    reduce_pair(lid.x);
    let base = STAT_GRAD_WIDTH * stat;
    if (lid.x == 0u) {
        if (own_affine) {
            dbeta[stat] = scratch_a[0];
            dgamma[stat] = scratch_b[0];
            stat_grad[base] = gamma[stat] * scratch_a[0];
            stat_grad[base + 1u] = gamma[stat] * scratch_b[0];
        } else {
            stat_grad[base] = scratch_a[0];
            stat_grad[base + 1u] = scratch_b[0];
        }
    }
    if (p.masked == 1u) {
        // M, the statistic's real elements, for norm_backward_apply.
        workgroupBarrier();
        scratch_a[lid.x] = real;
        scratch_b[lid.x] = 0.0;
        reduce_pair(lid.x);
        if (lid.x == 0u) {
            stat_grad[base + 2u] = scratch_a[0];
        }
    }
    if (p.spread == SPREAD_STD || p.training == 0u) {
        return;
    }
    workgroupBarrier();
    let mu = mean_in[stat];
    let s = lp_spread(stat, mu, lid.x);
    var sign_sum = 0.0;
    var movers = 0.0;
    for (var j = lid.x; j < count; j += WG_REDUCE) {
        let d = x[stat_element(stat, j)] - mu;
        if (moves_spread(d, s)) {
            sign_sum += sign(d);
            movers += 1.0;
        }
    }
    scratch_a[lid.x] = sign_sum;
    scratch_b[lid.x] = movers;
    reduce_pair(lid.x);
    if (lid.x == 0u) {
        stat_grad[base + 2u] = s;
        stat_grad[base + 3u] = scratch_a[0];
        stat_grad[base + 4u] = scratch_b[0];
    }
}

@compute @workgroup_size(256, 1, 1)
fn norm_backward_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.batch * p.channels * p.spatial) {
        return;
    }
    let s = stat_of(i);
    let g = dz(i) * gamma[affine_of(i)];
    var skipped = 0.0;
    if (p.has_residual == 1u) {
        skipped = residual[i];
    }
    if (p.training == 0u) {
        dx[i] = g * rstd_in[s] + skipped;
        return;
    }
    var count = f32(elements_per_stat());
    let base = STAT_GRAD_WIDTH * s;
    if (p.masked == 1u) {
        // A padding element moves no statistic.
        count = stat_grad[base + 2u];
        if (!counts(i)) {
            dx[i] = g * rstd_in[s] + skipped;
            return;
        }
    }
    let d = x[i] - mean_in[s];
    let x_hat = d * rstd_in[s];
    var centred: f32;
    if (p.spread == SPREAD_STD) {
        centred = g - x_hat * stat_grad[base + 1u] / count;
    } else {
        let spread = stat_grad[base + 2u];
        let movers = max(stat_grad[base + 4u], 1.0);
        let u_scale = rstd_in[s] * spread / movers;
        var u = 0.0;
        if (moves_spread(d, spread)) {
            u = u_scale * sign(d);
        }
        let u_mean = u_scale * stat_grad[base + 3u] / count;
        centred = g - stat_grad[base + 1u] * (u - u_mean);
    }
    if (p.subtract_mean == 1u) {
        centred -= stat_grad[base] / count;
    }
    dx[i] = rstd_in[s] * centred + skipped;
}

@compute @workgroup_size(64, 1, 1)
fn norm_param_grad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let a = wid.x;
    // Elements sharing γ[a]: per channel, every (n, s) of channel a; per element, every n.
    var count = p.batch * p.spatial;
    if (p.affine_per_element == 1u) {
        count = p.batch;
    }
    var sum_dy = 0.0;
    var sum_dy_xhat = 0.0;
    for (var j = lid.x; j < count; j += WG_REDUCE) {
        var i: u32;
        if (p.affine_per_element == 1u) {
            i = j * p.channels * p.spatial + a;
        } else {
            i = ((j / p.spatial) * p.channels + a) * p.spatial + j % p.spatial;
        }
        let s = stat_of(i);
        let g = dz(i);
        sum_dy += g;
        sum_dy_xhat += g * (x[i] - mean_in[s]) * rstd_in[s];
    }
    scratch_a[lid.x] = sum_dy_xhat;
    scratch_b[lid.x] = sum_dy;
    reduce_pair(lid.x);
    if (lid.x == 0u) {
        dgamma[a] = scratch_a[0];
        dbeta[a] = scratch_b[0];
    }
}
