// attention.wgsl — multi-head causal self-attention (the core of nn.MultiheadAttention
// with a causal mask, after the input projection and before the output projection).
//
// Shapes: qkv [N, T, 3·d] (each token's q, then k, then v, each d = H·Dh values, head h
// at columns h·Dh .. (h+1)·Dh of its part); att and dpre [N, H, T, T]; out and dout
// [N, T, d]; dqkv like qkv. scale = 1/√Dh.
//
//   forward:   s[t₂] = scale · q_t·k_t₂ for t₂ ≤ t,  att[t, t₂] = softmax(s)[t₂] (0 for t₂ > t)
//              out_t = Σ_{t₂ ≤ t} att[t, t₂] · v_t₂
//   backward:  datt[t, t₂] = dout_t · v_t₂
//              dpre[t, t₂] = att[t, t₂] · (datt[t, t₂] − Σ_j att[t, j] · datt[t, j])
//              dq_t  = scale · Σ_{t₂ ≤ t} dpre[t, t₂] · k_t₂
//              dk_t₂ = scale · Σ_{t ≥ t₂} dpre[t, t₂] · q_t
//              dv_t₂ = Σ_{t ≥ t₂} att[t, t₂] · dout_t
//
// Three entry points, one thread per (n, h, t) row each: the forward pass; the query side
// of the backward pass (dpre and dq, needing only the row's own attention); the key side
// (dk and dv, summing over the later queries that see the key), which reads the dpre the
// query side wrote, so it is a dispatch of its own. No thread writes another's values:
// no atomics. The lab's sequences are short (T ≤ 64), so a thread walks its row serially.
//
// Bindings: 0 params, 1 qkv, 2 att, 3 out, 4 dout, 5 dpre, 6 dqkv.
// Keep in sync with `AttentionParams` in src/backend/gpu/attention.rs.

struct Params {
    batch: u32,
    seq_len: u32,
    heads: u32,
    head_dim: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> dpre: array<f32>;
@group(0) @binding(6) var<storage, read_write> dqkv: array<f32>;

fn model_dim() -> u32 {
    return p.heads * p.head_dim;
}

// Where head h's slice of part (0 q, 1 k, 2 v) of token (n, t) starts in qkv and dqkv.
fn qkv_at(n: u32, t: u32, part: u32, h: u32) -> u32 {
    return (n * p.seq_len + t) * 3u * model_dim() + part * model_dim() + h * p.head_dim;
}

// Where token (n, t)'s head h starts in out and dout.
fn out_at(n: u32, t: u32, h: u32) -> u32 {
    return (n * p.seq_len + t) * model_dim() + h * p.head_dim;
}

// Where row (n, h, t) of att and dpre starts.
fn att_row(n: u32, h: u32, t: u32) -> u32 {
    return ((n * p.heads + h) * p.seq_len + t) * p.seq_len;
}

struct Row {
    n: u32,
    h: u32,
    t: u32,
    valid: bool,
}

// The (n, h, t) row of thread i (rows run t fastest, then h, then n).
fn row_of(gid: vec3<u32>, groups: vec3<u32>) -> Row {
    let i = gid.x + gid.y * groups.x * 64u;
    let t = i % p.seq_len;
    let h = (i / p.seq_len) % p.heads;
    let n = i / (p.seq_len * p.heads);
    return Row(n, h, t, i < p.batch * p.heads * p.seq_len);
}

fn dot_rows(a_at: u32, b_at: u32) -> f32 {
    var acc = 0.0;
    for (var i = 0u; i < p.head_dim; i++) {
        acc += qkv[a_at + i] * qkv[b_at + i];
    }
    return acc;
}

@compute @workgroup_size(64, 1, 1)
fn attention_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = row_of(gid, groups);
    if (!r.valid) {
        return;
    }
    let row = att_row(r.n, r.h, r.t);
    let q = qkv_at(r.n, r.t, 0u, r.h);
    // Scores into the row, then the softmax in place (shifted by the maximum).
    var max_score = -3.0e38;
    for (var t2 = 0u; t2 <= r.t; t2++) {
        let s = dot_rows(q, qkv_at(r.n, t2, 1u, r.h)) * p.scale;
        att[row + t2] = s;
        max_score = max(max_score, s);
    }
    var sum = 0.0;
    for (var t2 = 0u; t2 <= r.t; t2++) {
        let e = exp(att[row + t2] - max_score);
        att[row + t2] = e;
        sum += e;
    }
    for (var t2 = 0u; t2 < p.seq_len; t2++) {
        att[row + t2] = select(0.0, att[row + t2] / sum, t2 <= r.t);
    }
    let o = out_at(r.n, r.t, r.h);
    for (var i = 0u; i < p.head_dim; i++) {
        var acc = 0.0;
        for (var t2 = 0u; t2 <= r.t; t2++) {
            acc += att[row + t2] * qkv[qkv_at(r.n, t2, 2u, r.h) + i];
        }
        out[o + i] = acc;
    }
}

@compute @workgroup_size(64, 1, 1)
fn attention_backward_query(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = row_of(gid, groups);
    if (!r.valid) {
        return;
    }
    let row = att_row(r.n, r.h, r.t);
    let o = out_at(r.n, r.t, r.h);
    // datt into dpre, and Σ_j att·datt.
    var weighted = 0.0;
    for (var t2 = 0u; t2 < p.seq_len; t2++) {
        var datt = 0.0;
        if (t2 <= r.t) {
            let v = qkv_at(r.n, t2, 2u, r.h);
            for (var i = 0u; i < p.head_dim; i++) {
                datt += dout[o + i] * qkv[v + i];
            }
            weighted += att[row + t2] * datt;
        }
        dpre[row + t2] = datt;
    }
    for (var t2 = 0u; t2 < p.seq_len; t2++) {
        dpre[row + t2] = select(0.0, att[row + t2] * (dpre[row + t2] - weighted), t2 <= r.t);
    }
    let dq = qkv_at(r.n, r.t, 0u, r.h);
    for (var i = 0u; i < p.head_dim; i++) {
        var acc = 0.0;
        for (var t2 = 0u; t2 <= r.t; t2++) {
            acc += dpre[row + t2] * p.scale * qkv[qkv_at(r.n, t2, 1u, r.h) + i];
        }
        dqkv[dq + i] = acc;
    }
}

@compute @workgroup_size(64, 1, 1)
fn attention_backward_key(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = row_of(gid, groups);
    if (!r.valid) {
        return;
    }
    // This thread's row is key position t₂ = r.t.
    let dk = qkv_at(r.n, r.t, 1u, r.h);
    let dv = qkv_at(r.n, r.t, 2u, r.h);
    for (var i = 0u; i < p.head_dim; i++) {
        var acc_k = 0.0;
        var acc_v = 0.0;
        for (var t = r.t; t < p.seq_len; t++) {
            let at = att_row(r.n, r.h, t) + r.t;
            acc_k += dpre[at] * p.scale * qkv[qkv_at(r.n, t, 0u, r.h) + i];
            acc_v += att[at] * dout[out_at(r.n, t, r.h) + i];
        }
        dqkv[dk + i] = acc_k;
        dqkv[dv + i] = acc_v;
    }
}
