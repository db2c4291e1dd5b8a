//! CPU twin of `shaders/pool.wgsl`: 2-D max and average pooling (nn.MaxPool2d /
//! nn.AvgPool2d with a square window, no padding, floor mode) on NCHW tensors.
//!
//! ```text
//! max:  y[n, c, oh, ow] = max over the window of x[n, c, oh·s + kh, ow·s + kw]
//!       argmax[o] = (oh·s + kh)·W + (ow·s + kw) of the first maximum in row-major order
//!       dx[n, c, i] = Σ dy[o] over the windows o of plane (n, c) with argmax[o] = i
//! avg:  y[o] = (1/k²) Σ over the window;   dx[i] = Σ dy[o]/k² over the windows holding i
//! ```
//!
//! The backward pass here scatters each window's gradient onto its inputs; the GPU, which
//! has no float atomics, instead gathers per input from every window that holds it. With
//! overlapping windows (stride < kernel) both sum the same terms.
//!
//! Every function works on a range of samples, so that a large batch can be queued as
//! several short pieces of work.

use std::ops::Range;

use super::parallel;
use crate::backend::{PoolKind, PoolShape};

/// Consecutive ranges of samples of about `block_elements` input elements each (one
/// sample at least; none for an empty batch).
pub fn sample_blocks(shape: PoolShape, block_elements: usize) -> Vec<Range<usize>> {
    let per_sample = (shape.channels * shape.height * shape.width).max(1);
    let per_block = (block_elements / per_sample).max(1);
    (0..shape.batch).step_by(per_block).map(|start| start..(start + per_block).min(shape.batch)).collect()
}

/// The (n, c) planes of a range of samples.
fn planes(shape: PoolShape, samples: Range<usize>) -> Range<usize> {
    samples.start * shape.channels..samples.end * shape.channels
}

/// Samples `samples` of `y` (and, for max pooling, `argmax`).
pub fn pool_forward(x: &[f32], y: &mut [f32], argmax: Option<&mut [f32]>, shape: PoolShape, samples: Range<usize>) {
    assert!(x.len() >= shape.input_len() && y.len() >= shape.output_len(), "pool operands too small for {shape:?}");
    // Planes are independent: each thread takes a share of them.
    let planes = planes(shape, samples);
    let out_len = shape.out_height() * shape.out_width();
    let shares: Vec<Range<usize>> = parallel::shares(planes.len(), shape.height * shape.width)
        .into_iter()
        .map(|s| s.start + planes.start..s.end + planes.start)
        .collect();
    let y_shares = parallel::split_shares(&mut y[planes.start * out_len..planes.end * out_len], &shares, out_len);
    let argmax_shares: Vec<Option<&mut [f32]>> = match argmax {
        Some(a) => parallel::split_shares(&mut a[planes.start * out_len..planes.end * out_len], &shares, out_len)
            .into_iter()
            .map(Some)
            .collect(),
        None => shares.iter().map(|_| None).collect(),
    };
    let jobs: Vec<_> = shares.into_iter().zip(y_shares).zip(argmax_shares).collect();
    parallel::for_each_job(jobs, |((planes, y), argmax)| pool_planes(x, y, argmax, shape, planes));
}

/// Planes `planes` of the pooling; `y` and `argmax` hold exactly those planes' outputs.
fn pool_planes(x: &[f32], y: &mut [f32], mut argmax: Option<&mut [f32]>, shape: PoolShape, planes: Range<usize>) {
    let PoolShape { kind, height, width, kernel, stride, .. } = shape;
    let (out_h, out_w) = (shape.out_height(), shape.out_width());
    let first_plane = planes.start;
    for plane in planes {
        let x_plane = &x[plane * height * width..(plane + 1) * height * width];
        for oh in 0..out_h {
            for ow in 0..out_w {
                let o = ((plane - first_plane) * out_h + oh) * out_w + ow;
                // The window: `kernel` rows of `kernel` consecutive values, row-major.
                let window_row = |kh: usize| (oh * stride + kh) * width + ow * stride;
                match kind {
                    PoolKind::Max => {
                        // As PyTorch: start below every number, keep the first of equal
                        // maxima, and let a NaN win (it propagates instead of vanishing).
                        let (mut best, mut best_at) = (f32::NEG_INFINITY, window_row(0));
                        for kh in 0..kernel {
                            let start = window_row(kh);
                            for (kw, &v) in x_plane[start..start + kernel].iter().enumerate() {
                                // Selects rather than branches: which value wins is random
                                // data, and a mispredicted branch per value costs more.
                                let better = (v > best) | v.is_nan();
                                best = if better { v } else { best };
                                best_at = if better { start + kw } else { best_at };
                            }
                        }
                        y[o] = best;
                        if let Some(argmax) = argmax.as_deref_mut() {
                            argmax[o] = best_at as f32;
                        }
                    }
                    PoolKind::Avg => {
                        let sum: f32 = (0..kernel)
                            .map(|kh| x_plane[window_row(kh)..window_row(kh) + kernel].iter().sum::<f32>())
                            .sum();
                        y[o] = sum / (kernel * kernel) as f32;
                    }
                }
            }
        }
    }
}

/// Samples `samples` of `dx`; inputs that no window reaches get 0.
pub fn pool_backward(dy: &[f32], argmax: &[f32], dx: &mut [f32], shape: PoolShape, samples: Range<usize>) {
    assert!(dx.len() >= shape.input_len() && dy.len() >= shape.output_len(), "pool operands too small for {shape:?}");
    let PoolShape { kind, height, width, kernel, stride, .. } = shape;
    let (out_h, out_w) = (shape.out_height(), shape.out_width());
    let plane_len = height * width;
    let planes = planes(shape, samples);
    // Planes are independent: each thread takes a share of them.
    let dx = &mut dx[planes.start * plane_len..planes.end * plane_len];
    parallel::for_each_share_mut(dx, plane_len, plane_len, |first, dx_share| {
        for (i, dx_plane) in dx_share.chunks_exact_mut(plane_len).enumerate() {
            let plane = planes.start + first + i;
            dx_plane.fill(0.0);
            for oh in 0..out_h {
                for ow in 0..out_w {
                    let o = (plane * out_h + oh) * out_w + ow;
                    match kind {
                        PoolKind::Max => {
                            let i = argmax[o] as usize;
                            assert!(i < plane_len, "argmax[{o}] = {} is outside its {height}×{width} plane", argmax[o]);
                            dx_plane[i] += dy[o];
                        }
                        PoolKind::Avg => {
                            let share = dy[o] / (kernel * kernel) as f32;
                            for kh in 0..kernel {
                                let row = (oh * stride + kh) * width + ow * stride;
                                for v in &mut dx_plane[row..row + kernel] {
                                    *v += share;
                                }
                            }
                        }
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_max_windows_send_a_shared_maximum_its_gradient_twice() {
        // 1×1×3×3 with the maximum in the middle; 2×2 windows at stride 1 all contain it.
        let shape = PoolShape { kind: PoolKind::Max, batch: 1, channels: 1, height: 3, width: 3, kernel: 2, stride: 1 };
        let x = [0.0, 1.0, 0.0, 2.0, 9.0, 3.0, 0.0, 4.0, 0.0];
        let (mut y, mut argmax, mut dx) = ([0.0; 4], [0.0; 4], [f32::NAN; 9]);
        pool_forward(&x, &mut y, Some(&mut argmax), shape, 0..1);
        assert_eq!((y, argmax), ([9.0; 4], [4.0; 4]));
        pool_backward(&[1.0, 2.0, 3.0, 4.0], &argmax, &mut dx, shape, 0..1);
        assert_eq!(dx, [0.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn ties_keep_the_first_maximum_and_avg_leaves_argmax_alone() {
        let shape = PoolShape { kind: PoolKind::Max, batch: 1, channels: 1, height: 2, width: 2, kernel: 2, stride: 2 };
        let (mut y, mut argmax) = ([0.0], [f32::NAN]);
        pool_forward(&[1.0, 5.0, 5.0, 5.0], &mut y, Some(&mut argmax), shape, 0..1);
        assert_eq!((y[0], argmax[0]), (5.0, 1.0));
        let avg = PoolShape { kind: PoolKind::Avg, ..shape };
        pool_forward(&[1.0, 5.0, 5.0, 5.0], &mut y, None, avg, 0..1);
        assert_eq!(y[0], 4.0);
    }
}
