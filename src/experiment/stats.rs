//! Summaries the lessons compute from a run's numbers: histograms, norms, the noise of a
//! loss curve, and how batch statistics scatter around population values.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// One activation layer's output over a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationStats {
    pub histogram: Histogram,
    pub mean: f32,
    pub std: f32,
    /// The share of values with |a| > 0.99 (a saturated tanh).
    pub saturated: f32,
}

/// Counts of values in equal-width bins over `[low, high]`; values outside land in the
/// first or last bin, NaN in none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub low: f32,
    pub high: f32,
    pub counts: Vec<u32>,
}

impl Histogram {
    pub fn new(values: &[f32], low: f32, high: f32, bins: usize) -> Self {
        let bins = bins.max(1);
        let mut counts = vec![0u32; bins];
        let width = (high - low) / bins as f32;
        for &v in values.iter().filter(|v| !v.is_nan()) {
            let bin = ((v - low) / width).floor().clamp(0.0, (bins - 1) as f32) as usize;
            counts[bin] += 1;
        }
        Histogram { low, high, counts }
    }

    /// The centre of bin `i`.
    pub fn centre(&self, i: usize) -> f32 {
        self.low + (i as f32 + 0.5) * (self.high - self.low) / self.counts.len() as f32
    }

    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }
}

/// Histogram, mean, standard deviation and saturated share (|a| > 0.99) of activations.
pub fn activation_stats(values: &[f32], low: f32, high: f32, bins: usize) -> ActivationStats {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let saturated = values.iter().filter(|v| v.abs() > 0.99).count() as f64 / n;
    ActivationStats {
        histogram: Histogram::new(values, low, high, bins),
        mean: mean as f32,
        std: var.sqrt() as f32,
        saturated: saturated as f32,
    }
}

/// The Euclidean norm, summed in f64.
pub fn l2_norm(values: &[f32]) -> f32 {
    values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt() as f32
}

/// ‖a − b‖, summed in f64.
pub fn l2_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>().sqrt() as f32
}

/// cos(a, b); 0 when either is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let norms = l2_norm(a) as f64 * l2_norm(b) as f64;
    if norms > 0.0 {
        (dot / norms) as f32
    } else {
        0.0
    }
}

/// How noisy a sequence of per-batch losses is, apart from its trend: the standard
/// deviation of the differences of consecutive losses, divided by √2 (for independent
/// noise of standard deviation s around a slowly moving mean, the differences have
/// standard deviation s·√2). NaN for fewer than three losses.
pub fn loss_noise(losses: &[f32]) -> f32 {
    if losses.len() < 3 {
        return f32::NAN;
    }
    let diffs: Vec<f64> = losses.windows(2).map(|w| w[1] as f64 - w[0] as f64).collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (diffs.len() - 1) as f64;
    (var.sqrt() / std::f64::consts::SQRT_2) as f32
}

/// Batch statistics of one feature at one batch size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchSpread {
    pub batch_size: usize,
    /// One entry per batch drawn: its mean and its biased variance (what BatchNorm
    /// normalizes with).
    pub means: Vec<f32>,
    pub variances: Vec<f32>,
    /// The standard deviation of `means` across the batches drawn.
    pub mean_sd: f32,
    /// The average of `variances`, to compare with the population variance.
    pub variance_average: f32,
}

/// Draws `draws` batches (without replacement within a batch) of each size from
/// `population` and records each batch's mean and biased variance. Returns the
/// population mean and variance and one row per batch size.
pub fn batch_spread(population: &[f32], sizes: &[usize], draws: usize, seed: u64) -> (f32, f32, Vec<BatchSpread>) {
    let n = population.len();
    let (mean, var) = moments(population);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = sizes
        .iter()
        .filter(|&&m| m >= 1 && m <= n)
        .map(|&m| {
            let (means, variances): (Vec<f32>, Vec<f32>) = (0..draws)
                .map(|_| {
                    let batch: Vec<f32> = sample(&mut rng, n, m).iter().map(|i| population[i]).collect();
                    moments(&batch)
                })
                .map(|(mu, v)| (mu as f32, v as f32))
                .unzip();
            let (_, means_var) = moments(&means);
            let variance_average = variances.iter().map(|&v| v as f64).sum::<f64>() / draws.max(1) as f64;
            BatchSpread {
                batch_size: m,
                means,
                variances,
                mean_sd: means_var.sqrt() as f32,
                variance_average: variance_average as f32,
            }
        })
        .collect();
    (mean as f32, var as f32, rows)
}

/// Mean and biased variance, in f64.
fn moments(values: &[f32]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_and_clamps() {
        let h = Histogram::new(&[-2.0, -1.0, -0.1, 0.1, 0.99, 5.0, f32::NAN], -1.0, 1.0, 4);
        assert_eq!(h.counts, vec![2, 1, 1, 2]);
        assert_eq!(h.total(), 6);
        assert!((h.centre(0) + 0.75).abs() < 1e-6);
    }

    #[test]
    fn loss_noise_ignores_a_trend() {
        let trend: Vec<f32> = (0..100).map(|i| 2.0 - 0.01 * i as f32).collect();
        assert!(loss_noise(&trend) < 1e-5);
        let zigzag: Vec<f32> = (0..100).map(|i| if i % 2 == 0 { 1.1 } else { 0.9 }).collect();
        // Differences alternate ±0.2: standard deviation 0.2, / √2.
        assert!((loss_noise(&zigzag) - 0.2 / 2f32.sqrt()).abs() < 2e-3, "{}", loss_noise(&zigzag));
    }

    #[test]
    fn batch_means_spread_like_one_over_root_m() {
        // A uniform population on 0..1000: variance ≈ 1000²/12.
        let population: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let (mean, var, rows) = batch_spread(&population, &[4, 64], 4000, 1);
        assert!((mean - 499.5).abs() < 1e-3);
        let sigma = var.sqrt();
        for row in &rows {
            let m = row.batch_size as f32;
            // Sampling without replacement shrinks the spread by sqrt((N − m)/(N − 1)).
            let expected = sigma / m.sqrt() * ((1000.0 - m) / 999.0).sqrt();
            assert!((row.mean_sd / expected - 1.0).abs() < 0.05, "m={m}: {} vs {expected}", row.mean_sd);
            // The biased variance is centred low, at (m − 1)/m of the population's
            // (times N/(N − 1) without replacement).
            let expected_var = var * (m - 1.0) / m * 1000.0 / 999.0;
            assert!((row.variance_average / expected_var - 1.0).abs() < 0.05);
        }
    }

    #[test]
    fn l2_norm_is_euclidean() {
        assert_eq!(l2_norm(&[3.0, 4.0]), 5.0);
    }
}
