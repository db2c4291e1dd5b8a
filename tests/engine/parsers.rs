//! Property tests of every parser a student's input reaches: the URL state, the stored
//! results, the shipped data format, a CIFAR-10 batch file and the names list. Whatever
//! the bytes, each parser returns a value or an error in words; it never panics, and what
//! it accepts is within the documented ranges and survives a round trip.

use proptest::prelude::*;

use normlab::backend::cpu::CpuBackend;
use normlab::data::{cifar, names, toy, Dataset, DatasetId};
use normlab::experiment::config::{BATCH_SIZE_RANGE, EPOCHS_RANGE, LEARNING_RATE_RANGE};
use normlab::experiment::{ExperimentConfig, Run};
use normlab::records;

/// The URL keys the page understands, and a few it does not.
const KEYS: [&str; 30] = [
    "data", "train", "test", "arch", "hidden", "channels", "embed", "init", "norm", "place", "act", "dropout", "bias",
    "affine", "momentum", "noise", "opt", "sgdm", "lr", "wd", "batch", "epochs", "seed", "batches", "clip", "drop",
    "lesson", "lang", "", "zzz",
];

/// Values that look right, look almost right, or are hostile.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9:,.\\-]{0,12}",
        any::<u64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        any::<i32>().prop_map(|v| v.to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("1e39".to_string()),
        prop::sample::select(vec![
            "batch",
            "layer",
            "instance",
            "group4",
            "group3",
            "rms",
            "none",
            "batch,none,layer",
            "l1",
            "linf",
            "mlp",
            "cnn",
            "char",
            "adam",
            "sgd",
            "norm:1",
            "value:0.5",
            "norm:-1",
            "value:abc",
            "0.5:0.1",
            "1:2",
            "fashion-mnist",
            "mnist",
            "names",
            "moons",
            "circles",
            "spirals",
            "cifar10",
            "32-64",
            "0",
            "1",
        ])
        .prop_map(str::to_string),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..12)
        .prop_map(|pairs| pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
}

/// Small widths, so that a model built from the configuration stays cheap to allocate.
fn small_query() -> impl Strategy<Value = String> {
    let small = prop::sample::select(vec!["4", "8-8", "3-5-7", "", "16", "2-2-2"]);
    (query(), small.clone(), small).prop_map(|(q, hidden, channels)| format!("{q}&hidden={hidden}&channels={channels}"))
}

fn assert_in_ranges(c: &ExperimentConfig) {
    assert!((BATCH_SIZE_RANGE.0..=BATCH_SIZE_RANGE.1).contains(&c.batch_size), "batch {}", c.batch_size);
    assert!((EPOCHS_RANGE.0..=EPOCHS_RANGE.1).contains(&c.epochs), "epochs {}", c.epochs);
    assert!(
        c.learning_rate.is_finite() && (LEARNING_RATE_RANGE.0..=LEARNING_RATE_RANGE.1).contains(&c.learning_rate),
        "lr {}",
        c.learning_rate
    );
    assert!((0.0..=1.0).contains(&c.model.dropout), "dropout {}", c.model.dropout);
    assert!(c.model.init_scale.is_finite() && c.model.init_scale > 0.0, "init {}", c.model.init_scale);
    assert!(c.model.norm_noise.is_finite() && c.model.norm_noise >= 0.0);
}

/// A tiny image set in the shipped format (4×4 grey images, 3 classes).
fn tiny_images() -> Dataset {
    let (train, test, side, classes) = (24u32, 8u32, 4u32, 3u32);
    let mut raw = b"NLDS".to_vec();
    for field in [1, train, test, side, side, 1, classes] {
        raw.extend(field.to_le_bytes());
    }
    let pixels = (side * side) as usize;
    raw.extend((0..train).map(|i| (i % classes) as u8));
    raw.extend((0..train as usize * pixels).map(|i| (i * 37 % 256) as u8));
    raw.extend((0..test).map(|i| (i % classes) as u8));
    raw.extend((0..test as usize * pixels).map(|i| (i * 11 % 256) as u8));
    Dataset::from_nlds(&raw).expect("the tiny set is well formed")
}

fn valid_nlds() -> Vec<u8> {
    let mut raw = b"NLDS".to_vec();
    for field in [1u32, 3, 2, 2, 2, 1, 4] {
        raw.extend(field.to_le_bytes());
    }
    raw.extend([0, 1, 2]);
    raw.extend(0..12u8);
    raw.extend([3, 0]);
    raw.extend(100..108u8);
    raw
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_as_a_url_gives_a_configuration_in_range_that_round_trips(text in any::<String>()) {
        let (config, _problems) = ExperimentConfig::from_query(&text);
        assert_in_ranges(&config);
        let (again, problems) = ExperimentConfig::from_query(&config.to_query());
        prop_assert!(problems.is_empty(), "{:?}", problems);
        prop_assert_eq!(again, config);
    }

    #[test]
    fn hostile_url_values_are_reported_and_never_fatal(q in query()) {
        let (config, problems) = ExperimentConfig::from_query(&q);
        assert_in_ranges(&config);
        for p in &problems {
            prop_assert!(p.en.starts_with("ignored "), "{}", p);
        }
        let (again, problems) = ExperimentConfig::from_query(&config.to_query());
        prop_assert!(problems.is_empty(), "{:?}", problems);
        prop_assert_eq!(again, config);
    }

    #[test]
    fn stored_results_in_any_form_are_read_or_refused_in_words(text in any::<String>()) {
        if let Err(message) = records::from_json(&text) {
            prop_assert!(message.en.starts_with("the stored results"), "{}", message);
        }
    }

    #[test]
    fn a_mangled_byte_in_stored_results_costs_at_most_the_runs_it_touches(at in any::<prop::sample::Index>(), byte in 32u8..127) {
        let runs: Vec<_> = (1..=3).map(stored_run).collect();
        let mut text = records::to_json(&runs).into_bytes();
        let i = at.index(text.len());
        text[i] = byte;
        let text = String::from_utf8(text).expect("ASCII in, ASCII out");
        if let Ok(stored) = records::from_json(&text) {
            // One byte sits inside one run (or the envelope, which is then refused whole).
            prop_assert_eq!(stored.runs.len() + stored.damaged, 3);
            prop_assert!(stored.damaged <= 1);
        }
    }

    #[test]
    fn exported_csv_in_any_form_is_read_or_refused(text in any::<String>()) {
        let _ = records::parse_csv(&text);
        let _ = records::parse_csv(&format!("{}\n{text}", records::CSV_HEADER));
    }

    #[test]
    fn any_bytes_as_a_shipped_data_file_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Dataset::from_nlds(&bytes);
        let _ = Dataset::from_nlds_gz(&bytes);
        let mut headed = b"NLDS".to_vec();
        headed.extend(&bytes);
        let _ = Dataset::from_nlds(&headed);
    }

    #[test]
    fn a_shipped_data_header_with_any_sizes_is_checked_before_use(fields in prop::collection::vec(any::<u32>(), 7), tail in 0usize..64) {
        let mut raw = b"NLDS".to_vec();
        for f in &fields {
            raw.extend(f.to_le_bytes());
        }
        raw.extend(std::iter::repeat_n(1u8, tail));
        let _ = Dataset::from_nlds(&raw);
    }

    #[test]
    fn one_changed_byte_in_a_shipped_data_file_is_caught_or_harmless(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut raw = valid_nlds();
        let i = at.index(raw.len());
        raw[i] = byte;
        if let Ok(data) = Dataset::from_nlds(&raw) {
            prop_assert!(data.train.labels.iter().chain(&data.test.labels).all(|&l| (l as usize) < data.classes));
            prop_assert!(data.train.images.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn any_bytes_as_a_cifar_file_are_read_or_refused_in_words(
        records in 0usize..40,
        labels in prop::collection::vec(0u8..12, 40),
        cut in 0usize..3073,
    ) {
        let mut bytes = Vec::new();
        for label in labels.iter().take(records) {
            bytes.push(*label);
            bytes.extend(std::iter::repeat_n(label.wrapping_mul(20), 3072));
        }
        bytes.truncate(bytes.len().saturating_sub(cut));
        let whole = bytes.len() % 3073 == 0;
        let n = bytes.len() / 3073;
        let bad_label = labels.iter().take(n).any(|&l| l > 9);
        match cifar::parse(&bytes) {
            Ok(data) => {
                prop_assert!(whole && n >= 20 && !bad_label);
                prop_assert_eq!(data.train.len + data.test.len, n);
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(!whole || n < 20 || bad_label, "refused a good file: {}", message);
                prop_assert!(message.contains("empty") || message.contains("whole number") || message.contains("label") || message.contains("at least 20"), "{}", message);
            }
        }
    }

    #[test]
    fn any_text_as_a_names_list_is_read_or_refused(text in any::<String>()) {
        let _ = names::names_dataset(&text);
        let _ = Dataset::from_file_bytes(DatasetId::Names, text.as_bytes());
    }
}

proptest! {
    // Each case builds a model, so fewer of them.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever a link asks for, building the run either works or says why in words:
    /// a CNN on 2-D points, a batch larger than the data, the character model on images.
    #[test]
    fn any_link_builds_a_run_or_says_why(q in small_query(), on_images in any::<bool>()) {
        let (config, _) = ExperimentConfig::from_query(&q);
        let data = if on_images { tiny_images() } else { toy::generate(toy::Shape::Moons) };
        match Run::new(CpuBackend::new(), &config, &data) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

fn stored_run(id: u64) -> records::RunRecord {
    use normlab::chart::RunSeries;
    let mut series = RunSeries::new(format!("run {id}"));
    for i in 0..10 {
        series.batch_losses.push((i as f64 / 10.0, 2.0 - i as f32 / 10.0));
    }
    records::RunRecord {
        id,
        group: "playground".into(),
        config: ExperimentConfig::default(),
        device: "CPU".into(),
        engine: Some("cpu".into()),
        trial: false,
        series,
        status: records::RunStatus::Interrupted,
        started_ms: 0.0,
        loss_noise: None,
    }
}
