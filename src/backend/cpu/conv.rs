//! CPU twin of `shaders/conv.wgsl`: 2-D convolution (nn.Conv2d with a square kernel,
//! dilation 1, groups 1) on NCHW tensors, as im2col followed by a matrix product.
//!
//! im2col unrolls the receptive fields of one sample into a matrix `cols[K, OH·OW]`,
//! K = CI·k·k, whose row (ci, kh, kw) and column (oh, ow) hold
//! `x[ci, oh·s − p + kh, ow·s − p + kw]` (0 in the zero padding). With the weight viewed
//! as a matrix `W[CO, K]`, each sample n is then one matrix product:
//!
//! ```text
//! forward:           y[n]   = W · cols            [CO, OH·OW]
//! backward, input:   dcols  = Wᵀ · dy[n]          [K, OH·OW], then col2im adds every
//!                                                 entry back onto the pixel it came from
//! backward, weight:  dW    += dy[n] · colsᵀ       [CO, K], summed over the batch
//! ```
//!
//! The GPU computes the same three products without ever storing `cols` (an "implicit
//! GEMM" that unrolls while loading tiles); here the unrolled matrix lives in a scratch
//! buffer, which is simpler and lets `matrixmultiply` do the arithmetic quickly.
//!
//! Every function works on a range of samples so that the backend can queue a large
//! batch as several short pieces of work (see [`sample_blocks`]).

use std::ops::Range;

use super::matmul::matmul;
use super::parallel;
use crate::backend::{ConvShape, MatmulShape};

/// Rows of the unrolled matrix: CI·k·k.
fn unrolled_rows(shape: ConvShape) -> usize {
    shape.in_channels * shape.kernel * shape.kernel
}

/// Consecutive ranges of samples of about `block_macs` multiply-adds each (one sample at
/// least). A batch of 0 gives one empty range, so that the weight gradient is still zeroed.
pub fn sample_blocks(shape: ConvShape, block_macs: usize) -> Vec<Range<usize>> {
    let out_spatial = shape.out_height() * shape.out_width();
    let macs_per_sample = (shape.out_channels * unrolled_rows(shape) * out_spatial).max(1);
    let per_block = (block_macs / macs_per_sample).max(1);
    // `batch.max(1)`: an empty batch still yields its one (empty) range.
    (0..shape.batch.max(1)).step_by(per_block).map(|start| start..(start + per_block).min(shape.batch)).collect()
}

/// One output-image row of one row of the unrolled matrix: the `out_w` entries from
/// `entry` on. Entry `entry + ow` reads the input at `source + (ow − first)·stride` for
/// `ow` in `first..end`; the others lie in the zero padding (all of them when `source` is
/// None: the input row is padding, or no column of it is reached).
struct Segment {
    entry: usize,
    source: Option<usize>,
    first: usize,
    end: usize,
}

/// Calls `f` for every segment of one sample's unrolled matrix. im2col reads through it,
/// col2im writes back through it, so the two are each other's adjoint by construction.
fn for_each_segment(shape: ConvShape, mut f: impl FnMut(Segment)) {
    let ConvShape { in_channels, height, width, kernel, stride, padding, .. } = shape;
    let (out_h, out_w) = (shape.out_height(), shape.out_width());
    for ci in 0..in_channels {
        for kh in 0..kernel {
            for kw in 0..kernel {
                let row = (ci * kernel + kh) * kernel + kw;
                // Output column ow reads image column ow·s + kw − p: valid for ow in first..end.
                let first = padding.saturating_sub(kw).div_ceil(stride).min(out_w);
                let end = ((width + padding).saturating_sub(kw).div_ceil(stride)).clamp(first, out_w);
                for oh in 0..out_h {
                    // The padded coordinate oh·s + kh is the image row oh·s + kh − p.
                    let ih = (oh * stride + kh).checked_sub(padding).filter(|&ih| ih < height && first < end);
                    let source = ih.map(|ih| (ci * height + ih) * width + first * stride + kw - padding);
                    f(Segment { entry: row * out_h * out_w + oh * out_w, source, first, end });
                }
            }
        }
    }
}

/// `cols[K, OH·OW]` of one sample `x_n[CI, H, W]`.
fn im2col(x_n: &[f32], shape: ConvShape, cols: &mut [f32]) {
    let (out_w, stride) = (shape.out_width(), shape.stride);
    for_each_segment(shape, |Segment { entry, source, first, end }| {
        let out = &mut cols[entry..entry + out_w];
        let Some(source) = source else {
            out.fill(0.0);
            return;
        };
        out[..first].fill(0.0);
        out[end..].fill(0.0);
        let inside = &mut out[first..end];
        if stride == 1 {
            inside.copy_from_slice(&x_n[source..source + inside.len()]);
        } else {
            for (j, v) in inside.iter_mut().enumerate() {
                *v = x_n[source + j * stride];
            }
        }
    });
}

/// `dx_n[CI, H, W] = Σ` of the entries of `dcols` unrolled from each pixel (the adjoint
/// of [`im2col`]); padding entries are dropped.
fn col2im(dcols: &[f32], shape: ConvShape, dx_n: &mut [f32]) {
    dx_n.fill(0.0);
    let stride = shape.stride;
    for_each_segment(shape, |Segment { entry, source, first, end }| {
        if let Some(source) = source {
            for (j, &d) in dcols[entry + first..entry + end].iter().enumerate() {
                dx_n[source + j * stride] += d;
            }
        }
    });
}

fn check_lengths(shape: ConvShape, input: usize, weight: usize, output: usize) {
    assert!(
        input >= shape.input_len() && weight >= shape.weight_len() && output >= shape.output_len(),
        "conv2d operands too small for {shape:?}"
    );
}

/// Samples `samples` of `y = conv(x, weight)`.
pub fn conv2d_forward(x: &[f32], weight: &[f32], y: &mut [f32], shape: ConvShape, samples: Range<usize>) {
    check_lengths(shape, x.len(), weight.len(), y.len());
    let k = unrolled_rows(shape);
    let out_spatial = shape.out_height() * shape.out_width();
    let (in_per, out_per) = (shape.input_len() / shape.batch.max(1), shape.out_channels * out_spatial);
    let product = MatmulShape { m: shape.out_channels, k, n: out_spatial, trans_a: false, trans_b: false };
    let y = &mut y[samples.start * out_per..samples.end * out_per];
    // Samples are independent: each thread takes a share, with its own unrolled matrix.
    parallel::for_each_share_mut(y, out_per, out_per * k, |first, y_share| {
        let mut cols = vec![0.0; k * out_spatial];
        for (i, y_n) in y_share.chunks_exact_mut(out_per).enumerate() {
            let n = samples.start + first + i;
            im2col(&x[n * in_per..(n + 1) * in_per], shape, &mut cols);
            matmul(weight, &cols, y_n, product);
        }
    });
}

/// Samples `samples` of `dx`, the gradient of `Σ y·dy` with respect to `x`.
pub fn conv2d_backward_input(dy: &[f32], weight: &[f32], dx: &mut [f32], shape: ConvShape, samples: Range<usize>) {
    check_lengths(shape, dx.len(), weight.len(), dy.len());
    let k = unrolled_rows(shape);
    let out_spatial = shape.out_height() * shape.out_width();
    let (in_per, out_per) = (shape.input_len() / shape.batch.max(1), shape.out_channels * out_spatial);
    // W is stored [CO, K]; Wᵀ is the transposed operand.
    let product = MatmulShape { m: k, k: shape.out_channels, n: out_spatial, trans_a: true, trans_b: false };
    let dx = &mut dx[samples.start * in_per..samples.end * in_per];
    parallel::for_each_share_mut(dx, in_per, out_per * k, |first, dx_share| {
        let mut dcols = vec![0.0; k * out_spatial];
        for (i, dx_n) in dx_share.chunks_exact_mut(in_per).enumerate() {
            let n = samples.start + first + i;
            matmul(weight, &dy[n * out_per..(n + 1) * out_per], &mut dcols, product);
            col2im(&dcols, shape, dx_n);
        }
    });
}

/// Adds the weight gradient of samples `samples` to `dweight`; the range that starts at
/// sample 0 first clears it, so consecutive ranges run in order sum the whole batch.
pub fn conv2d_backward_weight(dy: &[f32], x: &[f32], dweight: &mut [f32], shape: ConvShape, samples: Range<usize>) {
    check_lengths(shape, x.len(), dweight.len(), dy.len());
    let k = unrolled_rows(shape);
    let out_spatial = shape.out_height() * shape.out_width();
    let (in_per, out_per) = (shape.input_len() / shape.batch.max(1), shape.out_channels * out_spatial);
    let dweight = &mut dweight[..shape.weight_len()];
    if samples.start == 0 {
        dweight.fill(0.0);
    }
    // cols is stored [K, OH·OW]; colsᵀ is the transposed operand.
    let product = MatmulShape { m: shape.out_channels, k: out_spatial, n: k, trans_a: false, trans_b: true };
    // Each thread sums its share of the samples; the shares are then added in order.
    let sums = parallel::map_shares(samples.len(), out_per * k, |share| {
        let mut cols = vec![0.0; k * out_spatial];
        let mut part = vec![0.0; shape.weight_len()];
        let mut sum = vec![0.0; shape.weight_len()];
        for n in share.start + samples.start..share.end + samples.start {
            im2col(&x[n * in_per..(n + 1) * in_per], shape, &mut cols);
            matmul(&dy[n * out_per..(n + 1) * out_per], &cols, &mut part, product);
            sum.iter_mut().zip(&part).for_each(|(s, p)| *s += p);
        }
        sum
    });
    for sum in sums {
        dweight.iter_mut().zip(&sum).for_each(|(d, s)| *d += s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defining sums, written out directly (f64), for shapes small enough to loop over.
    fn direct(x: &[f32], w: &[f32], dy: &[f32], s: ConvShape) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (oh_n, ow_n, k) = (s.out_height(), s.out_width(), s.kernel);
        let mut y = vec![0.0; s.output_len()];
        let mut dx = vec![0.0; s.input_len()];
        let mut dw = vec![0.0; s.weight_len()];
        for n in 0..s.batch {
            for co in 0..s.out_channels {
                for oh in 0..oh_n {
                    for ow in 0..ow_n {
                        let o = ((n * s.out_channels + co) * oh_n + oh) * ow_n + ow;
                        for ci in 0..s.in_channels {
                            for kh in 0..k {
                                for kw in 0..k {
                                    let ih = (oh * s.stride + kh) as isize - s.padding as isize;
                                    let iw = (ow * s.stride + kw) as isize - s.padding as isize;
                                    if ih < 0 || iw < 0 || ih >= s.height as isize || iw >= s.width as isize {
                                        continue;
                                    }
                                    let i = ((n * s.in_channels + ci) * s.height + ih as usize) * s.width + iw as usize;
                                    let wi = ((co * s.in_channels + ci) * k + kh) * k + kw;
                                    y[o] += x[i] as f64 * w[wi] as f64;
                                    dx[i] += dy[o] as f64 * w[wi] as f64;
                                    dw[wi] += dy[o] as f64 * x[i] as f64;
                                }
                            }
                        }
                    }
                }
            }
        }
        (y, dx, dw)
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0) - 1.0).collect()
    }

    fn assert_near(what: &str, got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what} length");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!((g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
        }
    }

    #[test]
    fn im2col_products_match_the_defining_sums() {
        for (stride, padding, kernel, height, width) in
            [(1, 1, 3, 5, 4), (2, 0, 3, 7, 6), (2, 2, 5, 6, 5), (1, 0, 1, 3, 4)]
        {
            let s = ConvShape { batch: 3, in_channels: 2, out_channels: 3, height, width, kernel, stride, padding };
            let (x, w, dy) = (values(s.input_len(), 1), values(s.weight_len(), 2), values(s.output_len(), 3));
            let (y_want, dx_want, dw_want) = direct(&x, &w, &dy, s);
            let (mut y, mut dx, mut dw) =
                (vec![f32::NAN; s.output_len()], vec![f32::NAN; s.input_len()], vec![f32::NAN; s.weight_len()]);
            // Two blocks, as the backend queues them, so that the weight gradient sums across them.
            for samples in [0..1, 1..3] {
                conv2d_forward(&x, &w, &mut y, s, samples.clone());
                conv2d_backward_input(&dy, &w, &mut dx, s, samples.clone());
                conv2d_backward_weight(&dy, &x, &mut dw, s, samples);
            }
            assert_near(&format!("{s:?} y"), &y, &y_want);
            assert_near(&format!("{s:?} dx"), &dx, &dx_want);
            assert_near(&format!("{s:?} dw"), &dw, &dw_want);
        }
    }

    #[test]
    fn sample_blocks_cover_the_batch_in_order() {
        let s = ConvShape {
            batch: 64,
            in_channels: 32,
            out_channels: 64,
            height: 14,
            width: 14,
            kernel: 3,
            stride: 1,
            padding: 1,
        };
        let blocks = sample_blocks(s, 1 << 21);
        assert_eq!(blocks.len(), 64, "3.6 M multiply-adds per sample: one sample per block");
        let blocks = sample_blocks(ConvShape { in_channels: 1, out_channels: 32, height: 28, width: 28, ..s }, 1 << 21);
        assert_eq!(blocks.first(), Some(&(0..9)));
        assert_eq!(blocks.last().map(|r| r.end), Some(64));
        assert!(blocks.windows(2).all(|w| w[0].end == w[1].start));
        let empty = sample_blocks(ConvShape { batch: 0, ..s }, 1 << 21);
        assert!(empty.len() == 1 && empty[0].is_empty(), "{empty:?}");
    }
}
