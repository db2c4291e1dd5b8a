//! The CPU backend's normalization ops as it records them: which plainly written norm of
//! `norm.rs` and `span_norm.rs` a geometry is, the running estimates moved beside the
//! outputs, and the fused activation and residual applied around the norm, in the order
//! the separate ops would run.

use super::store::{with_output, with_outputs};
use super::{activation, masked_norm, norm, CpuBackend};
use crate::backend::{Backend, NormFamily, NormGeometry, NormGrads, NormMode, NormTensors, RowMask, Spread};

impl CpuBackend {
    pub(super) fn record_norm_forward(&mut self, geometry: &NormGeometry, mode: NormMode, tensors: &NormTensors) {
        let g = *geometry;
        let ts = *tensors;
        let shape = (g.batch, g.channels, g.spatial);
        self.record(move |t| {
            // Running estimates are moved out too, so they can be written beside the others.
            let mut running = ts.running.map(|r| {
                let count = t[r.batches_tracked.0][0];
                (t.take(r.mean.0), t.take(r.var.0), count)
            });
            with_outputs(t, [ts.y.0, ts.mean.0, ts.rstd.0], |t, [y, mean, rstd]| {
                let cache = norm::NormCache { mean, rstd };
                let (x, gamma, beta) = (&t[ts.x.0], &t[ts.gamma.0], &t[ts.beta.0]);
                let update = |running| norm::running_update(mode.running, running);
                let real = |mask: RowMask| {
                    let targets = &t[mask.targets.0];
                    move |n, c| mask.counts(targets, g.channels, n, c)
                };
                match (g.family, g.spread, mode.batch_statistics) {
                    (NormFamily::Batch, Spread::StdDev, true) if ts.mask.is_some() => {
                        let (mean, var, batches_tracked) = running.as_mut().expect("BatchNorm's running estimates");
                        let estimates = masked_norm::Estimates { mean, var, batches_tracked };
                        let real = real(ts.mask.expect("a mask"));
                        masked_norm::masked_batch_norm_train(
                            x,
                            y,
                            gamma,
                            beta,
                            cache,
                            estimates,
                            mode.running,
                            shape,
                            g.eps,
                            &real,
                        )
                    }
                    (NormFamily::Batch, _, false) => {
                        let (rm, rv, _) = running.as_mut().expect("running statistics for eval mode");
                        norm::batch_norm_eval(x, y, gamma, beta, cache, rm, rv, shape, g.eps)
                    }
                    (NormFamily::Batch, Spread::StdDev, true) => {
                        norm::batch_norm_train(x, y, gamma, beta, cache, update(running.as_mut()), shape, g.eps)
                    }
                    (NormFamily::Batch, spread, true) => {
                        let running = update(running.as_mut());
                        norm::lp_norm_train(x, y, gamma, beta, cache, running, shape, g.eps, spread)
                    }
                    (NormFamily::Layer, ..) => norm::layer_norm_forward(x, y, gamma, beta, cache, shape, g.eps),
                    (NormFamily::Rms, ..) => norm::rms_norm_forward(x, y, gamma, beta, cache, shape, g.eps),
                    (NormFamily::Instance, ..) => norm::instance_norm_forward(x, y, gamma, beta, cache, shape, g.eps),
                    (NormFamily::Group, ..) => {
                        norm::group_norm_forward(x, y, gamma, beta, cache, shape, g.groups, g.eps)
                    }
                }
            });
            if let (Some(r), Some((rm, rv, count))) = (ts.running, running) {
                t.put(r.mean.0, rm);
                t.put(r.var.0, rv);
                t[r.batches_tracked.0][0] = count;
            }
        });
        if let Some(activation) = ts.activation {
            self.activation_forward(activation.kind, ts.y, activation.out, g.elements());
        }
    }

    pub(super) fn record_norm_backward(
        &mut self,
        geometry: &NormGeometry,
        mode: NormMode,
        tensors: &NormTensors,
        grads: &NormGrads,
    ) {
        let g = *geometry;
        let ts = *tensors;
        let gr = *grads;
        let shape = (g.batch, g.channels, g.spatial);
        self.record(move |t| {
            with_outputs(t, [gr.dx.0, gr.dgamma.0, gr.dbeta.0], |t, [dx, dgamma, dbeta]| {
                // Through the fused activation first: the gradient of the norm's output.
                let len = g.elements();
                let through_activation = ts.activation.map(|a| {
                    let mut dz = vec![0.0; len];
                    let (z, out, dout) = (&t[ts.y.0][..len], &t[a.out.0][..len], &t[gr.dy.0][..len]);
                    activation::activation_backward(a.kind, z, out, dout, &mut dz);
                    dz
                });
                let dy = through_activation.as_deref().unwrap_or(&t[gr.dy.0]);
                let (x, gamma, mean, rstd) = (&t[ts.x.0], &t[ts.gamma.0], &t[ts.mean.0], &t[ts.rstd.0]);
                // With running statistics the layer is a fixed affine map: its statistics
                // are constants, whatever the spread.
                let batch = mode.batch_statistics;
                match (g.family, g.spread) {
                    (NormFamily::Batch, Spread::StdDev) if batch && ts.mask.is_some() => {
                        let mask = ts.mask.expect("a mask");
                        let targets = &t[mask.targets.0];
                        let real = |n, c| mask.counts(targets, g.channels, n, c);
                        masked_norm::masked_batch_norm_backward(
                            x, dy, gamma, mean, rstd, dx, dgamma, dbeta, shape, &real,
                        )
                    }
                    (NormFamily::Batch, Spread::StdDev) => {
                        norm::batch_norm_backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, batch, shape)
                    }
                    (NormFamily::Batch, spread) if batch => {
                        norm::lp_norm_backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, shape, spread)
                    }
                    (NormFamily::Batch, _) => {
                        norm::batch_norm_backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, false, shape)
                    }
                    (NormFamily::Layer, _) => {
                        norm::layer_norm_backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, shape)
                    }
                    (NormFamily::Rms, _) => norm::rms_norm_backward(x, dy, gamma, rstd, dx, dgamma, dbeta, shape),
                    (NormFamily::Instance, _) => {
                        norm::instance_norm_backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, shape)
                    }
                    (NormFamily::Group, _) => {
                        norm::group_norm_backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, shape, g.groups)
                    }
                }
            })
        });
        if let Some(residual) = gr.residual {
            let len = g.elements();
            self.record(move |t| {
                with_output(t, gr.dx.0, |t, dx| dx[..len].iter_mut().zip(&t[residual.0]).for_each(|(d, r)| *d += r))
            });
        }
    }
}
