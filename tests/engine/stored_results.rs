//! The course's stored results (`www/results/`, written by `normlab-run --reproduce-course`):
//! each file was made with the configuration its experiment's full preset has now, over the
//! seeds it names, and what the lessons say the full presets show holds in it, at every
//! stored seed. A changed preset, a damaged file or an outcome that no longer holds fails
//! here, naming the experiment.

use std::path::PathBuf;

use normlab::experiment::catalog::Experiment;
use normlab::experiment::course_results::{ExperimentResults, ProbeMeans, VariantResults};
use normlab::experiment::Outcome;
use normlab::nn::NormKind;

fn results_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/results")
}

/// Every stored file, read.
fn stored() -> Vec<ExperimentResults> {
    ExperimentResults::read_dir(&results_dir()).unwrap_or_else(|problem| panic!("{problem}"))
}

fn results_of(experiment: Experiment) -> ExperimentResults {
    let path = results_dir().join(ExperimentResults::file_name(experiment));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (make it with normlab-run --reproduce-course --only {})", path.display(), experiment.name())
    });
    ExperimentResults::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_readme_shows_exactly_the_tables_the_stored_results_make() {
    // The README's results come from the files: `normlab-run --results-table` prints them,
    // and they stand between these two lines.
    const START: &str = "<!-- results: normlab-run --results-table -->\n";
    const END: &str = "<!-- end of results -->";
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md has no results block ({START:?} … {END:?})");
    };
    let shown = &readme[start + START.len()..end];
    let made = normlab::experiment::measured::markdown_tables(&stored());
    assert!(
        shown.trim() == made.trim(),
        "README.md's results differ from what the stored files make; paste the output of \
         `cargo run --release --bin normlab-run -- --results-table` between its markers"
    );
}

#[test]
fn the_index_lists_exactly_the_stored_experiments() {
    let path = results_dir().join(ExperimentResults::INDEX);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let listed: Vec<String> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut stored: Vec<String> = stored().into_iter().map(|r| r.experiment).collect();
    stored.sort();
    assert_eq!(
        listed,
        stored,
        "{} does not list the stored files (the page fetches only what it lists)",
        path.display()
    );
}

#[test]
fn every_stored_result_was_made_with_the_full_preset_it_names_over_at_least_three_seeds() {
    let all = stored();
    assert!(!all.is_empty(), "no results files in www/results/");
    for results in &all {
        let problems = results.differences_from_preset();
        assert!(
            problems.is_empty(),
            "{}: the stored results were made with another configuration; run normlab-run --reproduce-course --only {} again:\n  {}",
            results.experiment,
            results.experiment,
            problems.join("\n  ")
        );
        assert!(results.seeds.len() >= 3, "{}: only seeds {:?}", results.experiment, results.seeds);
        for run in &results.runs {
            for seed in &run.seeds {
                let finished = matches!(seed.outcome, Outcome::Finished { .. });
                assert!(
                    !finished || seed.epochs.len() == run.config.epochs,
                    "{} seed {}: {} epochs stored of {}",
                    results.experiment,
                    seed.seed,
                    seed.epochs.len(),
                    run.config.epochs
                );
            }
        }
    }
}

/// The stored runs in the preset's order, each with its seeds' outcomes.
fn runs(results: &ExperimentResults) -> &[VariantResults] {
    &results.runs
}

fn accuracies(run: &VariantResults) -> Vec<f32> {
    run.seeds.iter().map(|s| s.final_accuracy().unwrap_or(f32::NAN)).collect()
}

fn not_learning(run: &VariantResults) -> bool {
    run.seeds.iter().all(|s| matches!(s.outcome, Outcome::Finished { not_learning: true, .. }))
}

#[test]
fn l1_at_both_bad_initialisations_batchnorm_learns_at_every_seed_and_the_plain_network_too_small_does_not() {
    let small = results_of(Experiment::DeepMlpTooSmall);
    let [plain, bn] = runs(&small) else { panic!("lesson 1 has two runs") };
    assert!(not_learning(plain), "the plain network at ×0.5 learned at some seed: {:?}", accuracies(plain));
    assert!(accuracies(bn).iter().all(|&a| a >= 0.75), "BatchNorm at ×0.5: {:?}", accuracies(bn));
    let large = results_of(Experiment::DeepMlpTooLarge);
    let [plain, bn] = runs(&large) else { panic!("lesson 1 has two runs") };
    for (p, b) in accuracies(plain).into_iter().zip(accuracies(bn)) {
        assert!(b >= p + 0.03, "at ×5 BatchNorm ({b}) is not ahead of the plain network ({p})");
    }
}

#[test]
fn l3_both_momenta_end_with_a_held_out_loss_below_2_1_nats_and_within_0_05_of_each_other() {
    let names = results_of(Experiment::Names);
    let [fast, slow] = runs(&names) else { panic!("lesson 3 has two runs") };
    for (f, s) in fast.seeds.iter().zip(&slow.seeds) {
        let (f, s) = (f.epochs.last().expect("epochs").test_loss, s.epochs.last().expect("epochs").test_loss);
        assert!(f < 2.1 && s < 2.1, "held-out losses {f} and {s}");
        assert!((f - s).abs() <= 0.05, "the two momenta end apart: {f} against {s}");
    }
}

#[test]
fn l4_at_adam_lr_0_1_the_plain_cnn_is_not_learning_at_every_seed_and_the_batchnorm_one_learns() {
    let high_lr = results_of(Experiment::HighLr);
    let [plain, bn] = runs(&high_lr) else { panic!("lesson 4 has two runs") };
    assert!(not_learning(plain), "the plain CNN at lr 0.1 learned at some seed: {:?}", accuracies(plain));
    assert!(accuracies(bn).iter().all(|&a| a >= 0.75), "the BatchNorm CNN at lr 0.1: {:?}", accuracies(bn));
}

/// A run of the sweep by its norm and batch size.
fn swept(results: &ExperimentResults, norm: NormKind, batch_size: usize) -> &VariantResults {
    results
        .runs
        .iter()
        .find(|r| r.config.model.norms == [norm] && r.config.batch_size == batch_size)
        .unwrap_or_else(|| panic!("the sweep has no {norm:?} at batch {batch_size}"))
}

#[test]
fn l5_at_batch_size_2_batchnorm_ends_far_below_groupnorm_and_layernorm_at_every_seed() {
    let sweep = results_of(Experiment::BatchSweep);
    let bn = accuracies(swept(&sweep, NormKind::Batch, 2));
    let gn = accuracies(swept(&sweep, NormKind::Group { groups: 8 }, 2));
    let ln = accuracies(swept(&sweep, NormKind::Layer, 2));
    for ((b, g), l) in bn.iter().zip(&gn).zip(&ln) {
        assert!(
            *b <= g.min(*l) - 0.25,
            "BatchNorm at batch 2 ({b}) is not 25 points below GroupNorm ({g}) and LayerNorm ({l})"
        );
    }
}

#[test]
fn l5_without_normalization_the_largest_batch_size_falls_behind_every_norm_at_every_seed() {
    let sweep = results_of(Experiment::BatchSweep);
    let none = accuracies(swept(&sweep, NormKind::None, 256));
    for norm in [NormKind::Batch, NormKind::Group { groups: 8 }, NormKind::Layer] {
        for (n, a) in none.iter().zip(accuracies(swept(&sweep, norm, 256))) {
            assert!(*n <= a - 0.05, "no normalization at 256 ({n}) is not 5 points behind {norm:?} ({a})");
        }
    }
}

#[test]
fn l6_dropout_narrows_the_generalization_gap_and_batchnorm_alone_does_not_at_every_seed() {
    let regularizers = results_of(Experiment::Regularizers);
    let [none, dropout, bn, both] = runs(&regularizers) else { panic!("lesson 6 has four runs") };
    // The gap as the lesson measures it: training accuracy in eval mode minus test accuracy.
    let gaps = |run: &VariantResults| -> Vec<f32> {
        run.seeds
            .iter()
            .map(|s| {
                let last = s.epochs.last().expect("epochs");
                last.train_eval_accuracy.expect("the probes measure the training accuracy") - last.test_accuracy
            })
            .collect()
    };
    let (none, dropout, bn, both) = (gaps(none), gaps(dropout), gaps(bn), gaps(both));
    for i in 0..none.len() {
        assert!(
            dropout[i] <= none[i] - 0.03,
            "seed {i}: Dropout's gap {} is not clearly below the plain {}",
            dropout[i],
            none[i]
        );
        assert!(bn[i] >= none[i] - 0.01, "seed {i}: BatchNorm alone narrowed the gap: {} against {}", bn[i], none[i]);
        assert!(
            dropout[i] < both[i] && both[i] < bn[i],
            "seed {i}: the gaps are not ordered Dropout < both < BatchNorm"
        );
    }
}

#[test]
fn l7_noisy_batchnorm_ends_below_batchnorm_and_the_lp_normalizations_within_a_few_points_at_every_seed() {
    let noisy = results_of(Experiment::NoisyBn);
    let [bn, noisy_bn, _none] = runs(&noisy) else { panic!("lesson 7's noisy BatchNorm has three runs") };
    for (b, n) in accuracies(bn).into_iter().zip(accuracies(noisy_bn)) {
        assert!(n < b, "noisy BatchNorm ({n}) is not below BatchNorm ({b})");
    }
    let lp = results_of(Experiment::LpNorm);
    let [l1, l2, linf, _none] = runs(&lp) else { panic!("lesson 7's Lp normalization has four runs") };
    for ((a, b), c) in accuracies(l1).into_iter().zip(accuracies(l2)).zip(accuracies(linf)) {
        let spread = a.max(b).max(c) - a.min(b).min(c);
        assert!(spread <= 0.04, "L1 {a}, L2 {b}, L∞ {c}: not within 4 points");
    }
}

/// One probe mean of every seed of a run.
fn probe_means(run: &VariantResults, value: impl Fn(&ProbeMeans) -> Option<f32>) -> Vec<f32> {
    run.seeds.iter().map(|s| s.probes.as_ref().and_then(&value).expect("the run's probes are stored")).collect()
}

#[test]
fn l7_with_batchnorm_the_landscape_is_smoother_in_the_first_epoch_and_after_at_every_seed() {
    let smoothness = results_of(Experiment::Smoothness);
    let [none, bn] = runs(&smoothness) else { panic!("lesson 7's landscape has two runs") };
    type Measure = (&'static str, fn(&ProbeMeans) -> Option<f32>);
    let measures: [Measure; 4] = [
        ("loss range, first epoch", |p| p.loss_range.0),
        ("gradient change, first epoch", |p| p.gradient_change.0),
        ("β-smoothness, first epoch", |p| p.beta_smoothness.0),
        ("loss range, later epochs", |p| p.loss_range.1),
    ];
    for (name, value) in measures {
        for (n, b) in probe_means(none, value).into_iter().zip(probe_means(bn, value)) {
            assert!(b < n, "{name}: BatchNorm {b} is not below no normalization {n}");
        }
    }
}

#[test]
fn l7_in_this_shallow_mlp_batchnorm_shows_less_covariate_shift_than_no_normalization_at_every_seed() {
    let noisy = results_of(Experiment::NoisyBn);
    let [bn, _noisy_bn, none] = runs(&noisy) else { panic!("lesson 7's noisy BatchNorm has three runs") };
    // Layers 2 on: the first layer has no layer before it, so nothing shifts it.
    let later = |values: &[f32]| values[1..].iter().sum::<f32>() / (values.len() - 1) as f32;
    for (b, n) in bn.seeds.iter().zip(&none.seeds) {
        let (b, n) = (b.probes.as_ref().expect("probes"), n.probes.as_ref().expect("probes"));
        assert!(
            later(&b.shift_cosine) > later(&n.shift_cosine) + 0.3,
            "cosines {:?} against {:?}",
            b.shift_cosine,
            n.shift_cosine
        );
        assert!(
            later(&b.shift_distance) < later(&n.shift_distance),
            "distances {:?} against {:?}",
            b.shift_distance,
            n.shift_distance
        );
    }
}

#[test]
fn l9_the_two_placements_and_the_bias_before_batchnorm_differ_by_no_more_than_a_change_of_seed() {
    for experiment in [Experiment::Placement, Experiment::RedundantBias] {
        let results = results_of(experiment);
        let [a, b] = runs(&results) else { panic!("{} has two runs", experiment.name()) };
        let (a, b) = (accuracies(a), accuracies(b));
        // How far apart two seeds of the same run end, at most.
        let spread =
            |v: &[f32]| v.iter().cloned().fold(f32::MIN, f32::max) - v.iter().cloned().fold(f32::MAX, f32::min);
        let seed_spread = spread(&a).max(spread(&b));
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= seed_spread.max(0.015),
                "{}: {x} against {y}, seeds spread {seed_spread}",
                experiment.name()
            );
            assert!(x.min(*y) >= 0.8, "{}: {x} and {y}", experiment.name());
        }
    }
}

#[test]
fn l9_without_clipping_the_run_diverges_at_every_seed_and_both_clipped_runs_learn() {
    let clipping = results_of(Experiment::Clipping);
    let [plain, by_norm, by_value] = runs(&clipping) else { panic!("lesson 9's clipping has three runs") };
    for seed in &plain.seeds {
        assert!(matches!(seed.outcome, Outcome::Diverged { epoch: 1, .. }), "seed {}: {:?}", seed.seed, seed.outcome);
    }
    for run in [by_norm, by_value] {
        assert!(accuracies(run).iter().all(|&a| a >= 0.5), "{}: {:?}", run.config.label(), accuracies(run));
    }
}

/// The last epoch's held-out loss of each seed, in eval mode and with the batch's statistics.
fn held_out(run: &VariantResults) -> Vec<(f32, f32)> {
    run.seeds
        .iter()
        .map(|s| {
            let last = s.epochs.last().expect("epochs");
            (last.test_loss, last.test_loss_batch_stats.expect("the probes measure the batch-statistics loss"))
        })
        .collect()
}

#[test]
fn l10_norms_without_running_statistics_give_one_loss_in_both_modes_and_batchnorm_per_position_breaks_in_eval_mode() {
    let norms = results_of(Experiment::SeqNorms);
    let [pre_ln, post_ln, rms, bn_tokens, bn_position, none] = runs(&norms) else { panic!("lesson 10 has six runs") };
    for run in [pre_ln, post_ln, rms, none] {
        for (eval, batch_stats) in held_out(run) {
            assert_eq!(eval, batch_stats, "{}: eval {eval} against batch statistics {batch_stats}", run.config.label());
        }
    }
    for (eval, batch_stats) in held_out(bn_tokens) {
        assert!((eval - batch_stats).abs() < 0.02, "BatchNorm over the real tokens: {eval} against {batch_stats}");
    }
    for (eval, batch_stats) in held_out(bn_position) {
        assert!(
            eval > 1000.0 && batch_stats < 2.1,
            "BatchNorm per position: eval {eval}, batch statistics {batch_stats}"
        );
    }
    // The five that work end within a few hundredths of each other at every seed.
    let working = [pre_ln, post_ln, rms, bn_tokens, none];
    for seed in 0..norms.seeds.len() {
        let losses: Vec<f32> = working.iter().map(|r| held_out(r)[seed].0).collect();
        let spread = losses.iter().cloned().fold(f32::MIN, f32::max) - losses.iter().cloned().fold(f32::MAX, f32::min);
        assert!(spread < 0.05 && losses.iter().all(|&l| l < 2.0), "seed {}: {losses:?}", norms.seeds[seed]);
    }
}

#[test]
fn l10_past_the_longest_training_name_layernorm_and_rmsnorm_carry_on_and_batchnorm_per_position_is_broken() {
    use normlab::experiment::measured::unseen_positions_loss;
    let length = results_of(Experiment::SeqLength);
    let [ln, rms, bn_tokens, bn_position] = runs(&length) else {
        panic!("lesson 10's length experiment has four runs")
    };
    let unseen = |run: &VariantResults| -> Vec<f64> {
        run.seeds
            .iter()
            .map(|s| unseen_positions_loss(s.epochs.last().expect("epochs")).expect("position losses"))
            .collect()
    };
    for run in [ln, rms] {
        assert!(unseen(run).iter().all(|&l| l < 2.3), "{}: {:?}", run.config.label(), unseen(run));
    }
    assert!(unseen(bn_tokens).iter().all(|&l| l < 3.0), "BatchNorm over the real tokens: {:?}", unseen(bn_tokens));
    assert!(unseen(bn_position).iter().all(|&l| l > 1000.0), "BatchNorm per position: {:?}", unseen(bn_position));
}

#[test]
fn l10_one_name_alone_and_in_a_batch_differ_only_where_batchnorm_compares_names_and_per_position_refuses_one() {
    let batch_one = results_of(Experiment::SeqBatchOne);
    let [ln, rms, bn_tokens, bn_position] = runs(&batch_one) else { panic!("lesson 10's batch of one has four runs") };
    let largest = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    for run in [ln, rms, bn_tokens, bn_position] {
        for seed in &run.seeds {
            let one = seed.epochs.last().and_then(|e| e.batch_of_one.as_ref()).expect("the batch of one is measured");
            let name = format!("{} seed {}", run.config.label(), seed.seed);
            // Eval mode: every norm uses fixed statistics, so the batch never matters.
            assert_eq!(largest(&one.alone_eval, &one.in_batch_eval), 0.0, "{name}: eval mode");
            let with_batch = one.alone_batch_stats.as_ref().map(|alone| largest(alone, &one.in_batch_batch_stats));
            let short_long = largest(&one.among_short_names, &one.among_long_names);
            match run {
                r if std::ptr::eq(r, ln) || std::ptr::eq(r, rms) => {
                    assert_eq!(with_batch, Some(0.0), "{name}: alone against in a batch");
                    assert_eq!(short_long, 0.0, "{name}: among short against among long names");
                }
                r if std::ptr::eq(r, bn_tokens) => {
                    assert!(with_batch.is_some_and(|d| d > 0.5), "{name}: {with_batch:?}");
                    assert!(short_long > 0.5, "{name}: {short_long}");
                }
                _ => {
                    assert!(with_batch.is_none() && one.refusal.is_some(), "{name}: a batch of one was not refused");
                    assert!(short_long > 0.5, "{name}: {short_long}");
                }
            }
        }
    }
}

#[test]
fn l10_at_six_blocks_pre_layernorm_ends_below_post_layernorm_with_and_without_warm_up_at_every_seed() {
    let placement = results_of(Experiment::SeqPlacement);
    let [pre, post, warm] = runs(&placement) else { panic!("lesson 10's placement has three runs") };
    let losses = |run: &VariantResults| -> Vec<f32> {
        run.seeds.iter().map(|s| s.epochs.last().expect("epochs").test_loss).collect()
    };
    for ((p, q), w) in losses(pre).into_iter().zip(losses(post)).zip(losses(warm)) {
        assert!(p + 0.05 < q && p + 0.05 < w, "pre-LN {p}, post-LN {q}, post-LN with warm-up {w}");
    }
    // Before the first step, post-LN's W₂ gradient is larger than pre-LN's in every block.
    for (p, q) in pre.seeds.iter().zip(&post.seeds) {
        let (p, q) = (p.gradients_at_init.as_ref().expect("measured"), q.gradients_at_init.as_ref().expect("measured"));
        assert!(
            p.mlp_output.iter().zip(&q.mlp_output).all(|(a, b)| b > a),
            "{:?} against {:?}",
            p.mlp_output,
            q.mlp_output
        );
    }
}

#[test]
fn l8_at_batch_size_2_batchnorm_falls_far_below_the_norms_that_ignore_the_batch_and_instancenorm_does_not_learn() {
    let family = results_of(Experiment::Family);
    let at = |norm: NormKind, batch_size: usize| {
        let run = family
            .runs
            .iter()
            .find(|r| r.config.model.norms.first() == Some(&norm) && r.config.batch_size == batch_size)
            .unwrap_or_else(|| panic!("the family has no {norm:?} at batch {batch_size}"));
        (run, accuracies(run))
    };
    let batch_free = [NormKind::Layer, NormKind::Group { groups: 8 }, NormKind::Rms];
    let (_, bn) = at(NormKind::Batch, 2);
    for norm in batch_free {
        for (b, a) in bn.iter().zip(at(norm, 2).1) {
            assert!(*b <= a - 0.25, "at batch 2 BatchNorm ({b}) is not 25 points below {norm:?} ({a})");
        }
    }
    let (instance, _) = at(NormKind::Instance, 2);
    assert!(not_learning(instance), "InstanceNorm at batch 2 learned at some seed: {:?}", accuracies(instance));
    let (_, none) = at(NormKind::None, 128);
    for norm in [NormKind::Batch, NormKind::Layer, NormKind::Instance, NormKind::Group { groups: 8 }, NormKind::Rms] {
        for (n, a) in none.iter().zip(at(norm, 128).1) {
            assert!(*n < a, "at batch 128 no normalization ({n}) is not behind {norm:?} ({a})");
        }
    }
}
