//! Lessons 1 to 4: initialisation, the names model's running statistics, a high learning rate.

use crate::*;

#[test]
fn l1_too_small_the_plain_network_is_not_learning_while_batchnorm_learns() {
    let runs = train_named("deep-mlp-too-small-quick");
    let (plain, bn) = (&runs[0], &runs[1]);
    assert!(plain.not_learning(), "the plain network at ×0.5 was not labelled not learning: {:?}", plain.outcome);
    assert!(bn.accuracy() >= 0.70, "with BatchNorm at ×0.5: {}", bn.accuracy());
}

#[test]
fn l1_too_small_the_plain_histograms_collapse_to_a_spike_and_its_gradients_are_tiny() {
    let runs = train_named("deep-mlp-too-small-quick");
    let (plain, bn) = (runs[0].probes(), runs[1].probes());
    let spread = |p: &ProbeReport| p.activations.iter().map(|a| a.std).collect::<Vec<_>>();
    let (last_plain, last_bn) = (spread(plain.last().unwrap()), spread(bn.last().unwrap()));
    eprintln!("activation sd at the last probe: plain {last_plain:?}, BN {last_bn:?}");
    assert!(last_plain[0] > 2.0 * last_plain[1], "the plain network's layer 2 is not much narrower than layer 1");
    assert!(last_plain[2..].iter().all(|&s| s < 0.15), "the plain network's deep layers are not a thin spike");
    assert!(last_bn.iter().all(|&s| (0.5..0.8).contains(&s)), "BatchNorm's layers do not keep a similar width");
    // "Hundreds to thousands of times smaller than with BatchNorm" in layers 1 to 6.
    for (p, b) in plain.iter().zip(&bn) {
        for layer in 0..6 {
            let ratio = b.weight_grad_norms[layer] / p.weight_grad_norms[layer];
            assert!(
                ratio >= 100.0,
                "step {}, layer {}: BN's gradient only {ratio} times the plain one",
                p.step,
                layer + 1
            );
        }
    }
}

#[test]
fn l1_too_large_the_plain_network_saturates_and_learns_more_slowly() {
    let runs = train_named("deep-mlp-too-large-quick");
    let (plain, bn) = (&runs[0], &runs[1]);
    let saturated = |p: &ProbeReport| p.activations.iter().map(|a| a.saturated).collect::<Vec<_>>();
    let (first, last) = (saturated(plain.probes()[0]), saturated(plain.probes().last().unwrap()));
    let bn_last = saturated(bn.probes().last().unwrap());
    eprintln!("saturated share, plain: first probe {first:?}, last {last:?}; BN last {bn_last:?}");
    assert!(last[0] >= 0.8 && last.iter().all(|&s| s >= 0.3), "the plain network's layers are not saturated");
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    assert!(mean(&last) > mean(&first), "the plain network's saturation does not grow while it trains");
    assert!(bn_last.iter().all(|&s| s < 0.02), "BatchNorm's tanh layers saturate");
    // "About 60–65 % test accuracy against about 77 % with BatchNorm."
    let (plain_accuracy, bn_accuracy) = (plain.accuracy(), bn.accuracy());
    assert!((0.55..=0.70).contains(&plain_accuracy), "the plain network at ×5: {plain_accuracy}");
    assert!((0.72..=0.82).contains(&bn_accuracy), "BatchNorm at ×5: {bn_accuracy}");
    assert!(
        bn_accuracy >= plain_accuracy + 0.08,
        "BatchNorm {bn_accuracy} is not clearly ahead of the plain network {plain_accuracy}"
    );
}

#[test]
fn l1_too_large_the_plain_gradients_are_larger_than_with_batchnorm_and_grow_towards_the_input() {
    let runs = train_named("deep-mlp-too-large-quick");
    let (plain, bn) = (runs[0].probes(), runs[1].probes());
    let layers = plain[0].weight_grad_norms.len();
    for layer in 0..layers {
        let ratio = median(
            plain.iter().zip(&bn).map(|(p, b)| p.weight_grad_norms[layer] / b.weight_grad_norms[layer]).collect(),
        );
        assert!((1.3..=6.0).contains(&ratio), "layer {}: the plain gradient is {ratio} times BatchNorm's", layer + 1);
    }
    let spread = |g: &[f32]| g[0] / g[layers - 1];
    let (plain_spread, bn_spread) = (spread(&plain[0].weight_grad_norms), spread(&bn[0].weight_grad_norms));
    eprintln!("first probe, layer 1 ÷ layer 9: plain {plain_spread}, BN {bn_spread}");
    assert!(
        plain_spread >= 10.0,
        "the plain gradient does not grow towards the input: {:?}",
        plain[0].weight_grad_norms
    );
    // Not only layer 1, which sees the raw pixels: the hidden layers' gradients grow too.
    let hidden_growth = plain[0].weight_grad_norms[1] / plain[0].weight_grad_norms[layers - 1];
    assert!(hidden_growth >= 3.0, "layer 2 ÷ layer 9 at the first probe: {hidden_growth}");
    assert!(bn_spread <= 8.0, "BatchNorm's gradient spread at the first probe: {bn_spread}");
}

/// The 1/a rule alone predicts a factor of 10 between the two BatchNorm runs (×0.5 and ×5);
/// the output layer, with no BatchNorm after it, is scaled too and cancels most of it.
#[test]
fn l1_the_two_batchnorm_runs_weight_gradients_differ_far_less_than_the_one_over_a_rule_predicts() {
    let small =
        train(&presets::deep_mlp(presets::BadInit::TooSmall, true, Preset::Quick), Some(presets::deep_mlp_probes()));
    let large =
        train(&presets::deep_mlp(presets::BadInit::TooLarge, true, Preset::Quick), Some(presets::deep_mlp_probes()));
    let ratios: Vec<Vec<f32>> = small
        .probes()
        .iter()
        .zip(large.probes())
        .map(|(s, l)| s.weight_grad_norms.iter().zip(&l.weight_grad_norms).map(|(a, b)| a / b).collect())
        .collect();
    // The hidden layers 2 to 8, each with a BatchNorm after it and one before it.
    let first = median(ratios[0][1..8].to_vec());
    let overall = median(ratios.iter().flat_map(|r| r[..8].to_vec()).collect());
    eprintln!("×0.5 ÷ ×5 weight-gradient norms: first probe {first}, whole run {overall}");
    assert!((0.6..=1.6).contains(&first), "at the first probe the two runs differ by {first}, not about 1");
    assert!((1.2..=4.0).contains(&overall), "over the run they differ by {overall}, not about 2");
    // Scale invariance: the two runs' activations look alike although their weights differ.
    let spread = |t: &Trained| t.probes().last().unwrap().activations.iter().map(|a| a.std).collect::<Vec<_>>();
    for (a, b) in spread(&small).iter().zip(spread(&large)) {
        assert!((a - b).abs() <= 0.06, "the two BatchNorm runs' activation spreads differ: {a} against {b}");
    }
}

// Lesson 3: the names model at momentum 0.1 and 0.001.

/// The held-out loss in eval mode and with batch statistics: apart early for momentum
/// 0.001, whose running estimates start at 0 and 1, together by the end of the run.
#[test]
fn l3_the_eval_mode_gap_of_momentum_0_001_is_large_early_and_closes_by_the_end() {
    let runs = train_named("names-quick");
    // Eval-mode loss minus batch-statistics loss at the first probe (`early`) or the last.
    let gap = |t: &Trained, early: bool| {
        let probes = t.probes();
        let p = if early { probes[0] } else { *probes.last().unwrap() };
        let e = p.evaluation.expect("names probes evaluate");
        e.eval_loss - e.batch_stats_loss
    };
    let (fast, slow) = (&runs[0], &runs[1]);
    eprintln!(
        "eval − batch-stats loss, momentum 0.1: {} → {}; 0.001: {} → {}",
        gap(fast, true),
        gap(fast, false),
        gap(slow, true),
        gap(slow, false)
    );
    assert!(gap(slow, true) >= 0.03, "momentum 0.001's early gap is small");
    assert!(
        gap(slow, true) >= 5.0 * gap(fast, true).abs().max(0.002),
        "momentum 0.001's early gap is not larger than 0.1's"
    );
    assert!(gap(slow, false).abs() <= 0.02, "momentum 0.001's gap has not closed by the end");
    for t in &runs {
        assert!(t.last_epoch().test_loss < 2.4, "{}: held-out loss {}", t.label, t.last_epoch().test_loss);
    }
}

// Lesson 4: the CNN at Adam's learning rate 0.1.

#[test]
fn l4_at_adam_lr_0_1_the_plain_cnn_is_not_learning_and_the_batchnorm_one_ends_near_76_to_80_percent() {
    let runs = train_named("high-lr-quick");
    let (plain, bn) = (&runs[0], &runs[1]);
    assert!(plain.not_learning(), "the plain CNN at lr 0.1 was not labelled not learning: {:?}", plain.outcome);
    assert!((0.72..=0.84).contains(&bn.accuracy()), "the BatchNorm CNN at lr 0.1 ended at {}", bn.accuracy());
}

// Lesson 5: the batch-size sweep.
