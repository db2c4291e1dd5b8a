//! Every normalization (also on inputs far from zero, and with the block's activation
//! fused) and the optimizers.

use super::*;

pub(super) async fn norm(
    p: &mut Pair<'_>,
    label: &str,
    kind: NormKind,
    shape: (usize, usize, usize),
    mode: NormMode,
) -> Result<(), String> {
    norm_at(p, label, kind, shape, mode, 0.0, Joined::default()).await
}

/// What a norm case joins to the norm itself.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Joined {
    /// An activation fused after the norm (then `dy` is the activation's output gradient).
    pub activation: Option<Activation>,
    /// A residual gradient added to `dx`.
    pub residual: bool,
    /// Padding rows left out of BatchNorm's statistics, `features` channels per row (see
    /// `RowMask`): every third row, and the last of every sequence of C / features rows,
    /// so that in the per-position view one statistic has no real element.
    pub mask_features: Option<usize>,
}

/// The targets of `rows` rows in sequences of `seq_len`, −1 marking padding (see
/// [`Joined::mask_features`]).
fn padded_targets(rows: usize, seq_len: usize) -> Vec<f32> {
    (0..rows)
        .map(|r| {
            let last = seq_len > 1 && r % seq_len == seq_len - 1;
            if last || r % 3 == 2 {
                -1.0
            } else {
                (r % 5) as f32
            }
        })
        .collect()
}

/// A norm with what `joined` adds.
pub(super) async fn norm_joined(
    p: &mut Pair<'_>,
    label: &str,
    kind: NormKind,
    shape: (usize, usize, usize),
    mode: NormMode,
    joined: Joined,
) -> Result<(), String> {
    norm_at(p, label, kind, shape, mode, 0.0, joined).await
}

/// A norm's forward and backward on inputs spread over [offset − 2, offset + 2.5], with
/// what `joined` adds.
pub(super) async fn norm_at(
    p: &mut Pair<'_>,
    label: &str,
    kind: NormKind,
    (n, c, s): (usize, usize, usize),
    mode: NormMode,
    offset: f32,
    joined: Joined,
) -> Result<(), String> {
    let activation = joined.activation;
    let fused = activation.map_or(String::new(), |a| format!(" → {a:?}"));
    let skip = if joined.residual { ", + residual" } else { "" };
    let masked = joined.mask_features.map_or(String::new(), |f| format!(", padding masked ({f} per row)"));
    let name = format!("norm {label}{fused}{skip}{masked} [N={n}, C={c}, S={s}] {mode:?}");
    let training = mode.batch_statistics;
    let g = kind
        .geometry(n, c, s, training)
        .map_err(|e| format!("{name}: {e}"))?
        .ok_or_else(|| format!("{name}: no geometry"))?;
    let elements = g.elements();
    let stats = g.stat_count();
    let affine = g.affine_len();
    let x = p.random(elements, offset - 2.0, offset + 2.5, "x")?;
    let running = if kind.has_running_stats() {
        let mean = p.random(c, -0.5, 0.5, "running_mean")?;
        let var = p.random(c, 0.5, 1.5, "running_var")?;
        let batches_tracked = p.input(&[3.0], "num_batches_tracked")?;
        Some((mean, var, batches_tracked))
    } else {
        None
    };
    let gamma = p.random(affine, 0.5, 1.5, "gamma")?;
    let beta = p.random(affine, -0.5, 0.5, "beta")?;
    let y = p.output(elements, "y")?;
    let mean = p.output(stats, "mean")?;
    let rstd = p.output(stats, "rstd")?;
    let dy = p.random(elements, -1.0, 1.0, "dy")?;
    let dx = p.output(elements, "dx")?;
    let dgamma = p.output(affine, "dgamma")?;
    let dbeta = p.output(affine, "dbeta")?;
    let stat_grad = p.output(g.stat_grad_len(), "stat_grad")?;
    let out = match activation {
        Some(kind) => Some((kind, p.output(elements, "activation out")?)),
        None => None,
    };
    let residual = if joined.residual { Some(p.random(elements, -1.0, 1.0, "residual")?) } else { None };
    let mask = match joined.mask_features {
        Some(features) => {
            let seq_len = c / features;
            Some((p.input(&padded_targets(n * seq_len, seq_len), "targets")?, features))
        }
        None => None,
    };
    p.both(|be, side| {
        let tensors = NormTensors {
            x: x.on(side),
            y: y.on(side),
            gamma: gamma.on(side),
            beta: beta.on(side),
            mean: mean.on(side),
            rstd: rstd.on(side),
            running: running.map(|(m, v, n)| RunningStats {
                mean: m.on(side),
                var: v.on(side),
                batches_tracked: n.on(side),
            }),
            activation: out.map(|(kind, out)| FusedActivation { kind, out: out.on(side) }),
            mask: mask.map(|(targets, features)| RowMask { targets: targets.on(side), features }),
        };
        let grads = NormGrads {
            dy: dy.on(side),
            dx: dx.on(side),
            dgamma: dgamma.on(side),
            dbeta: dbeta.on(side),
            stat_grad: stat_grad.on(side),
            residual: residual.map(|r| r.on(side)),
        };
        be.norm_forward(&g, mode, &tensors);
        be.norm_backward(&g, mode, &tensors, &grads);
    });
    for (what, t) in [("y", y), ("mean", mean), ("rstd", rstd), ("dx", dx)] {
        p.compare(&format!("{name}: {what}"), t, RTOL, ATOL).await?;
    }
    // dγ and dβ sum dy·x̂ and dy over every element that shares a γ (dy uniform on [−1, 1]).
    let affine_atol = sum_atol(elements / affine.max(1), 1.0 / 3f32.sqrt());
    for (what, t) in [("dgamma", dgamma), ("dbeta", dbeta)] {
        p.compare(&format!("{name}: {what}"), t, RTOL, affine_atol).await?;
    }
    if let Some((kind, out)) = out {
        let rtol = if kind == Activation::Tanh { RTOL_TRANSCENDENTAL } else { RTOL };
        p.compare(&format!("{name}: activation out"), out, rtol, ATOL).await?;
    }
    if let Some((m, v, _)) = running {
        p.compare(&format!("{name}: running_mean"), m, RTOL, ATOL).await?;
        p.compare(&format!("{name}: running_var"), v, RTOL, ATOL).await?;
    }
    p.done(Kernel::Norm, &name)
}

pub(super) async fn sgd(p: &mut Pair<'_>, len: usize, hyper: SgdHyper, read_each_step: bool) -> Result<(), String> {
    let name = format!("sgd_step len={len} {hyper:?}, read each step {read_each_step}");
    let param = p.random(len, -1.0, 1.0, "param")?;
    let velocity = p.input(&vec![0.0; len], "velocity")?;
    for step in 1..=3u32 {
        let grad = p.random(len, -1.0, 1.0, "grad")?;
        // A different rate each step, so that a stale step uniform shows.
        let learning_rate = 0.1 / step as f32;
        p.both(|be, s| {
            be.begin_step(StepScalars { learning_rate, step });
            be.sgd_step(param.on(s), grad.on(s), velocity.on(s), len, hyper);
        });
        if read_each_step || step == 3 {
            p.compare(&format!("{name} step {step}: param"), param, RTOL, ATOL).await?;
            p.compare(&format!("{name} step {step}: velocity"), velocity, RTOL, ATOL).await?;
        }
    }
    p.done(Kernel::Sgd, &name)
}

pub(super) async fn adam(p: &mut Pair<'_>, len: usize, hyper: AdamHyper, read_each_step: bool) -> Result<(), String> {
    let name = format!("adam_step len={len} {hyper:?}, read each step {read_each_step}");
    let param = p.random(len, -1.0, 1.0, "param")?;
    let m = p.input(&vec![0.0; len], "m")?;
    let v = p.input(&vec![0.0; len], "v")?;
    for step in 1..=3u32 {
        let grad = p.random(len, -1.0, 1.0, "grad")?;
        p.both(|be, s| {
            be.begin_step(StepScalars { learning_rate: 1e-2, step });
            be.adam_step(param.on(s), grad.on(s), m.on(s), v.on(s), len, hyper);
        });
        if read_each_step || step == 3 {
            p.compare(&format!("{name} step {step}: param"), param, RTOL, ATOL).await?;
            p.compare(&format!("{name} step {step}: m"), m, RTOL, ATOL).await?;
            p.compare(&format!("{name} step {step}: v"), v, RTOL, ATOL).await?;
        }
    }
    p.done(Kernel::Adam, &name)
}
