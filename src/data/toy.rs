//! Toy 2-D data sets for the playground, as in TensorFlow Playground and scikit-learn:
//! two interleaved half-moons, two concentric circles, two interleaved spirals. Generated
//! from a fixed seed, so every run and backend sees the same points.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Dataset, Split};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Moons,
    Circles,
    Spirals,
}

const TRAIN: usize = 1000;
const TEST: usize = 500;
/// Gaussian noise added to every coordinate.
const NOISE: f32 = 0.1;

/// The points of `shape`: 1 000 for training and 500 for testing, half of each class.
pub fn generate(shape: Shape) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(match shape {
        Shape::Moons => 1,
        Shape::Circles => 2,
        Shape::Spirals => 3,
    });
    let mut split = |n: usize| {
        let mut images = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let class = i % 2;
            let t: f32 = rng.random_range(0.0..1.0);
            let (x, y) = point(shape, class, t);
            images.push(x + NOISE * gaussian(&mut rng));
            images.push(y + NOISE * gaussian(&mut rng));
            labels.push(class as f32);
        }
        Split { images, labels, len: n }
    };
    let train = split(TRAIN);
    let test = split(TEST);
    Dataset { train, test, channels: 2, height: 1, width: 1, classes: 2, pixel_mean: 0.0, pixel_std: 1.0, vocab: None }
}

/// A point of class `class` at position `t` ∈ [0, 1) along its curve, centred on 0.
fn point(shape: Shape, class: usize, t: f32) -> (f32, f32) {
    use std::f32::consts::PI;
    match shape {
        // scikit-learn's make_moons, shifted to centre on the origin.
        Shape::Moons => {
            let a = PI * t;
            if class == 0 {
                (a.cos() - 0.5, a.sin() - 0.25)
            } else {
                (0.5 - a.cos(), 0.25 - a.sin())
            }
        }
        Shape::Circles => {
            let a = 2.0 * PI * t;
            let r = if class == 0 { 1.0 } else { 0.45 };
            (r * a.cos(), r * a.sin())
        }
        // Two arms, each 1¾ turns, the second rotated by half a turn.
        Shape::Spirals => {
            let a = 3.5 * PI * t;
            let r = 0.15 + 1.1 * t;
            let phase = if class == 0 { 0.0 } else { PI };
            (r * (a + phase).cos(), r * (a + phase).sin())
        }
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_two_class_sets_in_a_small_box() {
        for shape in [Shape::Moons, Shape::Circles, Shape::Spirals] {
            let d = generate(shape);
            assert_eq!((d.train.len, d.test.len, d.features(), d.classes), (1000, 500, 2, 2));
            let ones = d.train.labels.iter().filter(|&&l| l == 1.0).count();
            assert_eq!(ones, 500);
            assert!(d.train.images.iter().all(|v| v.abs() < 2.5), "{shape:?}");
            assert_eq!(generate(shape), d, "the same points every time");
        }
    }
}
