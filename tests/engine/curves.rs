//! The CPU backend's training curves are a fixed point: the first 50 batch losses of a
//! few lesson experiments, exactly as they were recorded (`tests/fixtures/cpu_curves.json`,
//! written by `cargo test --release --test engine -- --ignored record_cpu_curves`). A
//! change to the engine's structure (layers, the parameter arena, the engine door) must
//! leave them bit for bit the same; only a deliberate change of semantics may re-record
//! them, and says so in its commit.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use normlab::backend::engine::Engine;
use normlab::data::Dataset;
use normlab::experiment::{presets, Recorder, Run};

/// The experiments whose curves are kept: a deep tanh MLP with BatchNorm (and one
/// without), the CNN with BatchNorm at lr 0.1, the character model, Dropout, noisy
/// BatchNorm, GroupNorm in the CNN, clipping by value.
const KEPT: [(&str, usize); 8] = [
    ("deep-mlp-too-small-quick", 0),
    ("deep-mlp-too-large-quick", 1),
    ("high-lr-smoke", 1),
    ("names-smoke", 0),
    ("regularizers-smoke", 3),
    ("noisy-bn-smoke", 1),
    ("family-smoke", 6),
    ("clipping-smoke", 2),
];
const LOSSES: usize = 50;

fn dataset(name: &str) -> &'static Dataset {
    static FASHION: OnceLock<Dataset> = OnceLock::new();
    static NAMES: OnceLock<Dataset> = OnceLock::new();
    let read = |file: &str| std::fs::read(format!("{}/www/data/{file}", env!("CARGO_MANIFEST_DIR"))).expect("data");
    if name == "names" {
        NAMES.get_or_init(|| {
            Dataset::from_file_bytes(normlab::data::DatasetId::Names, &read("names.txt")).expect("names parse")
        })
    } else {
        FASHION.get_or_init(|| Dataset::from_nlds_gz(&read("fashion-mnist.nlds.gz")).expect("parses"))
    }
}

/// The first losses of run `index` of the named experiment, as bit patterns.
fn first_losses(experiment: &str, index: usize) -> Vec<u32> {
    let (config, probes) = presets::named(experiment).expect("a lesson experiment").swap_remove(index);
    let data = dataset(config.dataset.name());
    let mut run = Run::new(Engine::cpu().backend(), &config, data).expect("valid");
    if let Some(spec) = probes {
        run.set_probes(spec);
    }
    let mut recorder = Recorder::default();
    pollster::block_on(run.train(&mut recorder)).expect("trains");
    recorder.losses().iter().take(LOSSES).map(|l| l.to_bits()).collect()
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cpu_curves.json");

#[test]
#[ignore = "re-records the kept curves; only for a deliberate change of semantics"]
fn record_cpu_curves() {
    let curves: BTreeMap<String, Vec<u32>> =
        KEPT.iter().map(|&(name, index)| (format!("{name}#{index}"), first_losses(name, index))).collect();
    std::fs::write(FIXTURE, serde_json::to_string_pretty(&curves).expect("serializes")).expect("writes");
}

#[test]
fn the_cpu_training_curves_are_bit_for_bit_the_recorded_ones() {
    let kept: BTreeMap<String, Vec<u32>> =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).expect("the recorded curves")).expect("parses");
    assert_eq!(kept.len(), KEPT.len(), "the fixture holds other experiments than KEPT");
    for (name, index) in KEPT {
        let key = format!("{name}#{index}");
        let now = first_losses(name, index);
        let then = &kept[&key];
        let first_change = now.iter().zip(then).position(|(a, b)| a != b);
        assert!(
            first_change.is_none() && now.len() == then.len(),
            "{key}: loss {} is {} now, {} as recorded ({} losses now, {} recorded)",
            first_change.unwrap_or(now.len().min(then.len())),
            first_change.map_or(f32::NAN, |i| f32::from_bits(now[i])),
            first_change.map_or(f32::NAN, |i| f32::from_bits(then[i])),
            now.len(),
            then.len()
        );
    }
}
