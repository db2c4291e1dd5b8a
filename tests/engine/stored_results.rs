//! The course's stored results (`www/results/`, written by `normlab-run --reproduce-course`):
//! each file was made with the configuration its experiment's full preset has now, over the
//! seeds it names, and what the lessons say the full presets show holds in it, at every
//! stored seed. A changed preset, a damaged file or an outcome that no longer holds fails
//! here, naming the experiment.

use std::path::PathBuf;

use normlab::experiment::catalog::Experiment;
use normlab::experiment::course_results::{ExperimentResults, VariantResults};
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
