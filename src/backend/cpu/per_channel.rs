//! Loops over a `[N, C, S]` tensor for the ops with one value per channel (bias,
//! BatchNorm). They walk memory in order, sample by sample, and never divide to find an
//! element's channel; when S = 1 (after a linear layer) the inner loop runs across the
//! channels, so the compiler can vectorize it.

use std::ops::Range;

use super::parallel;

/// `(N, C, S)`: samples, channels, positions per channel (H·W, or 1).
pub type Dims = (usize, usize, usize);

/// For each channel of `channels`, the sum over its N·S elements of `term(&per_channel[ch], a, b)`,
/// `a` and `b` being the element's values in `a` and `b` (both laid out as `[N, C, S]`;
/// pass one tensor twice for a term of one). Accumulated in f64.
///
/// `per_channel` holds what the term needs of each channel (a mean, a scale; `&vec![(); c]`
/// for nothing): handing it over beside the values, rather than indexing by channel inside
/// the term, is what lets the S = 1 loop vectorize.
pub fn sums<P>(
    channels: Range<usize>,
    (n, c, s): Dims,
    a: &[f32],
    b: &[f32],
    per_channel: &[P],
    term: impl Fn(&P, f32, f32) -> f64,
) -> Vec<f64> {
    let per_channel = &per_channel[channels.clone()];
    let mut acc = vec![0.0f64; channels.len()];
    for sample in 0..n {
        let base = sample * c;
        if s == 1 {
            let row = base + channels.start..base + channels.end;
            for (((sum, p), &a), &b) in acc.iter_mut().zip(per_channel).zip(&a[row.clone()]).zip(&b[row]) {
                *sum += term(p, a, b);
            }
        } else {
            for ((sum, p), ch) in acc.iter_mut().zip(per_channel).zip(channels.clone()) {
                let row = (base + ch) * s..(base + ch + 1) * s;
                *sum += interleaved_sum(&a[row.clone()], &b[row], |a, b| term(p, a, b));
            }
        }
    }
    acc
}

/// [`sums`] for every channel, each thread taking a share of the channels (so each
/// channel's sum is formed in the same order whatever the thread count).
pub fn sums_of_all<P: Sync>(
    dims: Dims,
    a: &[f32],
    b: &[f32],
    per_channel: &[P],
    term: impl Fn(&P, f32, f32) -> f64 + Sync + Send,
) -> Vec<f64> {
    let (n, c, s) = dims;
    parallel::map_shares(c, n * s, |channels| sums(channels, dims, a, b, per_channel, &term)).concat()
}

/// Σ `term(a[i], b[i])` in four interleaved partial sums: consecutive additions do not
/// wait on each other, which makes a long f64 sum several times faster.
pub fn interleaved_sum(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f64) -> f64 {
    let mut lanes = [0.0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_tail, b_tail) = (a4.remainder(), b4.remainder());
    for (a, b) in a4.zip(b4) {
        for (lane, sum) in lanes.iter_mut().enumerate() {
            *sum += term(a[lane], b[lane]);
        }
    }
    let tail: f64 = a_tail.iter().zip(b_tail).map(|(&a, &b)| term(a, b)).sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// Sets every element of `out` to `f(&per_channel[ch], a, b)` of its values in `a` and `b`
/// (all three laid out as `[N, C, S]`), each thread taking a share of the samples.
pub fn map<P: Sync>(
    out: &mut [f32],
    (n, c, s): Dims,
    a: &[f32],
    b: &[f32],
    per_channel: &[P],
    f: impl Fn(&P, f32, f32) -> f32 + Sync + Send,
) {
    let sample_len = c * s;
    if sample_len == 0 {
        return;
    }
    let per_channel = &per_channel[..c];
    parallel::for_each_share_mut(&mut out[..n * sample_len], sample_len, sample_len, |first, samples| {
        for (k, sample) in samples.chunks_exact_mut(sample_len).enumerate() {
            let at = (first + k) * sample_len..(first + k + 1) * sample_len;
            let (a, b) = (&a[at.clone()], &b[at]);
            if s == 1 {
                for (((out, p), &a), &b) in sample.iter_mut().zip(per_channel).zip(a).zip(b) {
                    *out = f(p, a, b);
                }
            } else {
                let rows = sample.chunks_exact_mut(s).zip(a.chunks_exact(s)).zip(b.chunks_exact(s));
                for (((row, a), b), p) in rows.zip(per_channel) {
                    for ((out, &a), &b) in row.iter_mut().zip(a).zip(b) {
                        *out = f(p, a, b);
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The channel of flat index i in [N, C, S], the slow way.
    fn channel_of(i: usize, (_, c, s): Dims) -> usize {
        (i / s) % c
    }

    #[test]
    fn sums_and_maps_follow_the_layout() {
        for dims in [(3, 4, 1), (2, 3, 5), (1, 1, 9), (4, 2, 3)] {
            let (n, c, s) = dims;
            let x: Vec<f32> = (0..n * c * s).map(|i| i as f32 * 0.5 - 3.0).collect();
            let y: Vec<f32> = (0..n * c * s).map(|i| (i % 7) as f32).collect();
            let expected: Vec<f64> = (0..c)
                .map(|ch| {
                    (0..x.len()).filter(|&i| channel_of(i, dims) == ch).map(|i| (x[i] * y[i]) as f64 + ch as f64).sum()
                })
                .collect();
            let channels: Vec<usize> = (0..c).collect();
            let term = |&ch: &usize, x: f32, y: f32| (x * y) as f64 + ch as f64;
            assert_eq!(sums(0..c, dims, &x, &y, &channels, term), expected, "{dims:?}");
            assert_eq!(sums_of_all(dims, &x, &y, &channels, term), expected, "{dims:?}");
            assert_eq!(sums(1..c, dims, &x, &y, &channels, term), expected[1..], "{dims:?}");
            let mut out = vec![0.0f32; x.len()];
            map(&mut out, dims, &x, &y, &channels, |&ch, x, y| x * 1000.0 + y * 10.0 + ch as f32 * 0.125);
            for (i, &v) in out.iter().enumerate() {
                assert_eq!(v, x[i] * 1000.0 + y[i] * 10.0 + channel_of(i, dims) as f32 * 0.125, "{dims:?} at {i}");
            }
        }
    }

    #[test]
    fn interleaved_sum_adds_every_term() {
        for len in 0..11 {
            let a: Vec<f32> = (0..len).map(|i| i as f32).collect();
            let b = vec![2.0f32; len];
            assert_eq!(interleaved_sum(&a, &b, |a, b| (a * b) as f64), (0..len).sum::<usize>() as f64 * 2.0);
        }
    }
}
