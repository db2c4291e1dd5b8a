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
pub fn pool_forward(x: &[f32], y: &mut [f32], mut argmax: Option<&mut [f32]>, shape: PoolShape, samples: Range<usize>) {
    assert!(x.len() >= shape.input_len() && y.len() >= shape.output_len(), "pool operands too small for {shape:?}");
    let PoolShape { kind, height, width, kernel, stride, .. } = shape;
    let (out_h, out_w) = (shape.out_height(), shape.out_width());
    for plane in planes(shape, samples) {
        let x_plane = &x[plane * height * width..(plane + 1) * height * width];
        for oh in 0..out_h {
            for ow in 0..out_w {
                let o = (plane * out_h + oh) * out_w + ow;
                let window =
                    (0..kernel).flat_map(|kh| (0..kernel).map(move |kw| (oh * stride + kh) * width + ow * stride + kw));
                match kind {
                    PoolKind::Max => {
                        // As PyTorch: start below every number, keep the first of equal
                        // maxima, and let a NaN win (it propagates instead of vanishing).
                        let first = (oh * stride) * width + ow * stride;
                        let (mut best, mut best_at) = (f32::NEG_INFINITY, first);
                        for i in window {
                            let v = x_plane[i];
                            if v > best || v.is_nan() {
                                (best, best_at) = (v, i);
                            }
                        }
                        y[o] = best;
                        if let Some(argmax) = argmax.as_deref_mut() {
                            argmax[o] = best_at as f32;
                        }
                    }
                    PoolKind::Avg => {
                        let sum: f32 = window.map(|i| x_plane[i]).sum();
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
    for plane in planes(shape, samples) {
        let dx_plane = &mut dx[plane * plane_len..(plane + 1) * plane_len];
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
