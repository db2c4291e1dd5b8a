//! CPU twin of `shaders/attention.wgsl`: multi-head causal self-attention, written out as
//! the formulas (see `AttentionShape` for the layouts).
//!
//! Forward, per sample n, head h and query position t, over the keys t₂ ≤ t:
//!   s[t₂] = (q_t · k_t₂) / √Dh,   att[t, t₂] = softmax(s)[t₂],   out_t = Σ att[t, t₂] · v_t₂
//! Backward, from dout:
//!   datt[t, t₂] = dout_t · v_t₂
//!   dpre[t, t₂] = att[t, t₂] · (datt[t, t₂] − Σ_j att[t, j] · datt[t, j])   (softmax's Jacobian)
//!   dq_t  = Σ_{t₂ ≤ t} dpre[t, t₂] · k_t₂ / √Dh
//!   dk_t₂ = Σ_{t ≥ t₂} dpre[t, t₂] · q_t / √Dh
//!   dv_t₂ = Σ_{t ≥ t₂} att[t, t₂] · dout_t

use crate::backend::AttentionShape;

/// Where head `h`'s slice of part `part` (0 q, 1 k, 2 v) of token (n, t) starts in `qkv`.
fn qkv_at(s: &AttentionShape, n: usize, t: usize, part: usize, h: usize) -> usize {
    (n * s.seq_len + t) * 3 * s.model_dim() + part * s.model_dim() + h * s.head_dim
}

/// Where row (n, h, t) of the `[N, H, T, T]` attention starts.
fn att_row(s: &AttentionShape, n: usize, h: usize, t: usize) -> usize {
    ((n * s.heads + h) * s.seq_len + t) * s.seq_len
}

/// Writes `att` (0 above the diagonal) and `out`.
pub fn attention_forward(qkv: &[f32], att: &mut [f32], out: &mut [f32], s: AttentionShape) {
    let (t_len, dh, d) = (s.seq_len, s.head_dim, s.model_dim());
    let scale = s.scale();
    for n in 0..s.batch {
        for h in 0..s.heads {
            for t in 0..t_len {
                let q = &qkv[qkv_at(&s, n, t, 0, h)..][..dh];
                let row = &mut att[att_row(&s, n, h, t)..][..t_len];
                let mut max = f32::NEG_INFINITY;
                for (t2, score) in row.iter_mut().enumerate().take(t + 1) {
                    let k = &qkv[qkv_at(&s, n, t2, 1, h)..][..dh];
                    *score = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
                    max = max.max(*score);
                }
                let mut sum = 0.0;
                for score in row.iter_mut().take(t + 1) {
                    *score = (*score - max).exp();
                    sum += *score;
                }
                for (t2, p) in row.iter_mut().enumerate() {
                    *p = if t2 <= t { *p / sum } else { 0.0 };
                }
                let o = &mut out[(n * t_len + t) * d + h * dh..][..dh];
                o.fill(0.0);
                for (t2, &p) in row.iter().enumerate().take(t + 1) {
                    let v = &qkv[qkv_at(&s, n, t2, 2, h)..][..dh];
                    o.iter_mut().zip(v).for_each(|(o, v)| *o += p * v);
                }
            }
        }
    }
}

/// Writes `dqkv` from `dout`, using the forward pass's `att`; `dpre` (`[N, H, T, T]`) is
/// scratch that ends holding the gradient of the scores.
pub fn attention_backward(
    qkv: &[f32],
    att: &[f32],
    dout: &[f32],
    dpre: &mut [f32],
    dqkv: &mut [f32],
    s: AttentionShape,
) {
    let (t_len, dh, d) = (s.seq_len, s.head_dim, s.model_dim());
    let scale = s.scale();
    dqkv[..s.qkv_len()].fill(0.0);
    for n in 0..s.batch {
        for h in 0..s.heads {
            // Per query row: the scores' gradient, and dq.
            for t in 0..t_len {
                let dout_t = &dout[(n * t_len + t) * d + h * dh..][..dh];
                let att_t = &att[att_row(&s, n, h, t)..][..t_len];
                let row = &mut dpre[att_row(&s, n, h, t)..][..t_len];
                for (t2, datt) in row.iter_mut().enumerate() {
                    *datt = if t2 <= t {
                        let v = &qkv[qkv_at(&s, n, t2, 2, h)..][..dh];
                        dout_t.iter().zip(v).map(|(a, b)| a * b).sum()
                    } else {
                        0.0
                    };
                }
                let weighted: f32 = att_t.iter().zip(row.iter()).take(t + 1).map(|(p, g)| p * g).sum();
                for (t2, g) in row.iter_mut().enumerate() {
                    *g = if t2 <= t { att_t[t2] * (*g - weighted) } else { 0.0 };
                }
                let dq = qkv_at(&s, n, t, 0, h);
                for t2 in 0..=t {
                    let k = &qkv[qkv_at(&s, n, t2, 1, h)..][..dh];
                    let g = row[t2] * scale;
                    dqkv[dq..dq + dh].iter_mut().zip(k).for_each(|(dq, k)| *dq += g * k);
                }
            }
            // Per key row: dk and dv, summed over the queries that see it.
            for t2 in 0..t_len {
                let (dk, dv) = (qkv_at(&s, n, t2, 1, h), qkv_at(&s, n, t2, 2, h));
                for t in t2..t_len {
                    let q = &qkv[qkv_at(&s, n, t, 0, h)..][..dh];
                    let dout_t = &dout[(n * t_len + t) * d + h * dh..][..dh];
                    let g = dpre[att_row(&s, n, h, t) + t2] * scale;
                    let p = att[att_row(&s, n, h, t) + t2];
                    dqkv[dk..dk + dh].iter_mut().zip(q).for_each(|(dk, q)| *dk += g * q);
                    dqkv[dv..dv + dh].iter_mut().zip(dout_t).for_each(|(dv, o)| *dv += p * o);
                }
            }
        }
    }
}
