//! Lessons 5 and 6: batch size across the norms, and regularization.

use crate::*;

/// The quick sweep, trained once for all of lesson 5's tests.
pub(crate) fn sweep() -> &'static [Trained] {
    static SWEEP: OnceLock<Vec<Trained>> = OnceLock::new();
    SWEEP.get_or_init(|| train_named("batch-sweep-quick"))
}

pub(crate) fn swept(norm: NormKind, batch_size: usize) -> &'static Trained {
    let sizes = presets::sweep_batch_sizes(Preset::Quick);
    let n = SWEEP_NORMS.iter().position(|&k| k == norm).expect("a swept norm");
    let b = sizes.iter().position(|&s| s == batch_size).expect("a swept batch size");
    let trained = &sweep()[n * sizes.len() + b];
    assert_eq!(trained.config, presets::batch_sweep(norm, batch_size, Preset::Quick), "the sweep's order changed");
    trained
}

pub(crate) const GROUP: NormKind = NormKind::Group { groups: 8 };

#[test]
fn l5_at_batch_size_2_batchnorm_ends_far_below_groupnorm_layernorm_and_no_normalization() {
    // Seeds 1–4: BatchNorm 41–52 %, GroupNorm and LayerNorm 78–81 %, none 61–75 %.
    let bn = swept(NormKind::Batch, 2).accuracy();
    let (gn, ln, none) =
        (swept(GROUP, 2).accuracy(), swept(NormKind::Layer, 2).accuracy(), swept(NormKind::None, 2).accuracy());
    assert!((0.35..=0.58).contains(&bn), "BatchNorm at batch size 2: {bn}");
    assert!(
        (0.72..=0.86).contains(&gn) && (0.72..=0.86).contains(&ln),
        "GroupNorm {gn} and LayerNorm {ln} at batch size 2"
    );
    assert!((0.55..=0.80).contains(&none), "no normalization at batch size 2: {none}");
    assert!(bn <= gn.min(ln) - 0.20, "BatchNorm at batch size 2 ({bn}) is not 20 points below GroupNorm and LayerNorm");
    assert!(bn <= none - 0.10, "BatchNorm at batch size 2 ({bn}) is not 10 points below no normalization ({none})");
}

#[test]
fn l5_at_batch_size_2_batchnorm_fits_its_training_batches_even_worse_than_it_tests() {
    let bn = swept(NormKind::Batch, 2);
    let train = bn.last_epoch();
    assert!(train.train_accuracy <= 0.40, "training-mode accuracy {}", train.train_accuracy);
    assert!(
        train.train_accuracy < bn.accuracy(),
        "training-mode {} vs eval-mode {}",
        train.train_accuracy,
        bn.accuracy()
    );
    // "Its training loss stays near 2 nats", against under 1 for GroupNorm.
    let gn_loss = swept(GROUP, 2).last_epoch().train_loss;
    assert!(
        (1.7..=2.3).contains(&train.train_loss) && gn_loss < 1.0,
        "training loss {} (GroupNorm {gn_loss})",
        train.train_loss
    );
}

#[test]
fn l5_from_batch_size_8_up_the_three_norms_land_between_about_69_and_83_percent() {
    for batch_size in [8, 32, 128] {
        for norm in [NormKind::Batch, GROUP, NormKind::Layer] {
            let accuracy = swept(norm, batch_size).accuracy();
            assert!((0.65..=0.86).contains(&accuracy), "{norm:?} at batch size {batch_size}: {accuracy}");
        }
    }
}

#[test]
fn l5_without_normalization_the_largest_batch_size_falls_behind_every_norm() {
    // Seeds 1–4: 54–63 %, several points below every norm.
    let none = swept(NormKind::None, 128).accuracy();
    assert!((0.45..=0.70).contains(&none), "no normalization at batch size 128: {none}");
    for norm in [NormKind::Batch, GROUP, NormKind::Layer] {
        let accuracy = swept(norm, 128).accuracy();
        assert!(none <= accuracy - 0.05, "no normalization at 128 ({none}) is not behind {norm:?} ({accuracy})");
    }
}

#[test]
fn l5_the_loss_noise_without_normalization_falls_much_faster_than_one_over_root_m() {
    let (small, large) = (swept(NormKind::None, 2).loss_noise(), swept(NormKind::None, 128).loss_noise());
    // 1/√m alone: √(128 / 2) = 8; seeds 1–4 gave 20 to 42.
    assert!(
        (15.0..=60.0).contains(&(small / large)),
        "no normalization's loss noise falls {} times from 2 to 128",
        small / large
    );
    // "Barely trained after 31 steps (its training loss stays near 2 nats)".
    let barely = swept(NormKind::None, 128).last_epoch().train_loss;
    assert!((1.7..=2.3).contains(&barely), "no normalization's training loss at 128: {barely}");
    for norm in SWEEP_NORMS {
        let noise: Vec<f32> =
            presets::sweep_batch_sizes(Preset::Quick).iter().map(|&b| swept(norm, b).loss_noise()).collect();
        assert!(
            noise.windows(2).all(|w| w[1] < w[0]),
            "{norm:?}: the loss noise does not fall with batch size: {noise:?}"
        );
    }
}

#[test]
fn l5_at_batch_size_2_batchnorm_shows_no_extra_loss_noise() {
    let bn = swept(NormKind::Batch, 2).loss_noise();
    for norm in [GROUP, NormKind::Layer, NormKind::None] {
        let other = swept(norm, 2).loss_noise();
        assert!(bn <= 1.02 * other, "BatchNorm's loss noise at batch size 2 ({bn}) is above {norm:?}'s ({other})");
    }
}

// Lesson 6: regularizers on 1 000 training images.

#[test]
fn l6_dropout_narrows_the_generalization_gap_and_batchnorm_alone_does_not() {
    let runs = train_named("regularizers-quick");
    let gap = |t: &Trained| {
        let last = t.last_epoch();
        last.train_eval_accuracy.expect("the probes measure the training accuracy") - last.test_accuracy
    };
    let (none, dropout, bn, both) = (gap(&runs[0]), gap(&runs[1]), gap(&runs[2]), gap(&runs[3]));
    eprintln!("gaps: none {none}, dropout {dropout}, BN {bn}, both {both}");
    let plain_train = runs[0].last_epoch().train_eval_accuracy.unwrap();
    assert!(plain_train >= 0.90, "the plain run's training accuracy reached only {plain_train}");
    assert!(dropout <= none - 0.04, "Dropout's gap {dropout} is not clearly below the plain {none}");
    assert!(bn >= none - 0.01, "BatchNorm alone narrowed the gap: {bn} against {none}");
    assert!(dropout < both && both < bn, "the gaps are not ordered Dropout < both < BatchNorm");
    // Seeds 1–4: gaps of 8–9, about 16, 19–21 and 12–14 points; test accuracy 77–81 %.
    for (gap, range) in [(dropout, 0.05..=0.12), (none, 0.13..=0.20), (bn, 0.16..=0.24), (both, 0.09..=0.17)] {
        assert!(range.contains(&gap), "a gap of {gap} outside {range:?}");
    }
    for t in &runs {
        assert!((0.75..=0.83).contains(&t.accuracy()), "{}: test accuracy {}", t.label, t.accuracy());
    }
}

// Lesson 7: why BatchNorm works.
