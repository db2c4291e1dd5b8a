//! The causal transformer on whole first names: it learns on both backends, the two agree
//! step by step, a name's padding never reaches the loss, and the data set refuses what
//! the model cannot read.

use std::sync::OnceLock;

use normlab::backend::engine::Engine;
use normlab::backend::Backend;
use normlab::data::{Dataset, DatasetId};
use normlab::experiment::{sample_names, Event, ExperimentConfig, Outcome, ProbeSpec, Recorder, Run};
use normlab::nn::{Architecture, ModelChoices, NormKind, NormPosition};

use crate::fixtures::assert_close;
use crate::gpu_vs_cpu::gpu_or_skip;

fn name_sequences() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/names.txt");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Dataset::from_file_bytes(DatasetId::NameSequences, &bytes).expect("the shipped names parse")
    })
}

/// Lesson 11's model: 2 pre-norm blocks of width 64 with 4 heads over 16 positions.
fn transformer(norm: NormKind, position: NormPosition) -> ExperimentConfig {
    let architecture = Architecture::Transformer { dim: 64, heads: 4, blocks: 2, context: 16, norm_position: position };
    ExperimentConfig {
        dataset: DatasetId::NameSequences,
        model: ModelChoices { architecture, norms: vec![norm], ..ModelChoices::default() },
        batch_size: 32,
        ..ExperimentConfig::default()
    }
}

fn train<B: Backend>(backend: B, config: &ExperimentConfig) -> (Outcome, Recorder) {
    let mut run = Run::new(backend, config, name_sequences()).expect("a valid configuration");
    let mut recorder = Recorder::default();
    let outcome = pollster::block_on(run.train(&mut recorder)).expect("training runs");
    (outcome, recorder)
}

#[test]
fn every_name_is_one_sequence_with_its_padding_ignored() {
    let data = name_sequences();
    assert_eq!((data.features(), data.targets_per_example()), (16, 16));
    // Row r: input ". e m m a . . …", targets "e m m a . −1 −1 …": each target is the
    // next input, and the first padding target follows the end marker.
    for r in 0..data.train.len {
        let input = &data.train.images[r * 16..(r + 1) * 16];
        let targets = &data.train.labels[r * 16..(r + 1) * 16];
        assert_eq!(input[0], 0.0, "row {r} starts with the start marker");
        let real = targets.iter().take_while(|&&t| t >= 0.0).count();
        assert!(targets[real..].iter().all(|&t| t == -1.0), "row {r}: padding only after the end");
        assert_eq!(targets[real - 1], 0.0, "row {r}: the last real target is the end marker");
        assert_eq!(&input[1..real], &targets[..real - 1], "row {r}: targets are the inputs shifted by one");
    }
}

#[test]
fn the_transformer_learns_names_on_the_cpu() {
    // One epoch (145 steps of 32 names): from ln 27 ≈ 3.30 nats per character to well
    // below a bigram model's 2.45 on the held-out names.
    let (outcome, recorder) = train(Engine::cpu().backend(), &transformer(NormKind::Layer, NormPosition::Pre));
    assert!(matches!(outcome, Outcome::Finished { .. }), "{outcome:?}");
    let losses = recorder.losses();
    assert!((losses[0] - 27f32.ln()).abs() < 0.3, "the first loss {} is near chance, ln 27", losses[0]);
    let epoch = &recorder.epochs()[0];
    eprintln!("one epoch: train loss {:.3}, held-out loss {:.3}", epoch.train_loss, epoch.test_loss);
    assert!(epoch.test_loss < 2.35, "held-out loss per character {} after one epoch", epoch.test_loss);
}

#[test]
fn gpu_and_cpu_transformers_agree_for_20_batches() {
    for (norm, position) in [
        (NormKind::Layer, NormPosition::Pre),
        (NormKind::Rms, NormPosition::Post),
        (NormKind::BatchPerPosition, NormPosition::Pre),
    ] {
        let Some(ctx) = gpu_or_skip("gpu_and_cpu_transformers_agree_for_20_batches") else { return };
        let config = ExperimentConfig { max_batches_per_epoch: Some(20), ..transformer(norm, position) };
        let (_, cpu) = train(Engine::cpu().backend(), &config);
        let (_, gpu) = train(Engine::Gpu(Box::new(ctx)).backend(), &config);
        let (cpu, gpu) = (cpu.losses(), gpu.losses());
        assert_eq!((cpu.len(), gpu.len()), (20, 20));
        // Adam amplifies rounding differences step by step (see the MLP's test in
        // `training`); the first step agrees to float precision.
        assert_close(&format!("{norm:?} {position:?}: first loss"), &gpu[..1], &cpu[..1], 1e-5, 0.0);
        assert_close(&format!("{norm:?} {position:?}: 20 losses"), &gpu, &cpu, 3e-3, 0.0);
    }
}

#[test]
fn each_character_model_refuses_the_other_data_set() {
    let names = {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/names.txt");
        Dataset::from_file_bytes(DatasetId::Names, &std::fs::read(path).expect("the names file")).expect("parses")
    };
    let on_contexts = ExperimentConfig { dataset: DatasetId::Names, ..transformer(NormKind::Layer, NormPosition::Pre) };
    let refused = Run::new(Engine::cpu().backend(), &on_contexts, &names).err().expect("refused");
    assert!(refused.to_string().contains("data=name-sequences"), "{refused}");
    let char_mlp = ExperimentConfig {
        dataset: DatasetId::NameSequences,
        model: ModelChoices {
            architecture: Architecture::CharMlp { embed: 10, hidden: vec![200] },
            ..ModelChoices::default()
        },
        ..ExperimentConfig::default()
    };
    let refused = Run::new(Engine::cpu().backend(), &char_mlp, name_sequences()).err().expect("refused");
    assert!(refused.to_string().contains("data=names"), "{refused}");
}

/// The trained model of lesson 11's attention map and sampled names: every name is made
/// of letters and the same seed writes the same ones; every head's attention over a name
/// is causal, each row a distribution over the positions at or before it.
#[test]
fn a_trained_transformer_writes_names_and_attends_only_backwards() {
    let config =
        ExperimentConfig { max_batches_per_epoch: Some(60), ..transformer(NormKind::Layer, NormPosition::Pre) };
    let mut run = Run::new(Engine::cpu().backend(), &config, name_sequences()).expect("a valid configuration");
    pollster::block_on(run.train(&mut Recorder::default())).expect("training runs");
    let names = pollster::block_on(sample_names(&mut run, 16, 5)).expect("samples");
    eprintln!("sampled after 60 steps: {names:?}");
    assert_eq!(names, pollster::block_on(sample_names(&mut run, 16, 5)).expect("samples"), "the same seed");
    assert!(names.iter().all(|n| n.len() <= 15 && n.chars().all(|c| c.is_ascii_lowercase())), "{names:?}");
    let written: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    let mean = written.iter().map(|n| n.len()).sum::<usize>() as f32 / written.len().max(1) as f32;
    assert!(
        written.len() >= 12 && (2.0..=10.0).contains(&mean),
        "{} names written, {mean} letters on average",
        written.len()
    );

    let maps = pollster::block_on(run.attention_maps("emma", &|| false)).expect("a map");
    assert_eq!(maps.tokens, ['.', 'e', 'm', 'm', 'a']);
    assert_eq!((maps.maps.len(), maps.maps[0].len(), maps.maps[1][3].len()), (2, 4, 25));
    for (block, heads) in maps.maps.iter().enumerate() {
        for head in 0..heads.len() {
            for from in 0..5 {
                let row: Vec<f32> = (0..5).map(|to| maps.weight(block, head, from, to)).collect();
                let sum: f32 = row[..=from].iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "block {block} head {head} row {from}: {row:?}");
                assert!(
                    row[from + 1..].iter().all(|&w| w == 0.0),
                    "block {block} head {head} row {from} looks ahead: {row:?}"
                );
            }
        }
    }
    for refused in ["", "emma1", "abcdefghijklmnop"] {
        assert!(pollster::block_on(run.attention_maps(refused, &|| false)).is_err(), "{refused:?} was read");
    }
}

#[test]
fn gpu_and_cpu_attention_maps_agree() {
    let Some(ctx) = gpu_or_skip("gpu_and_cpu_attention_maps_agree") else { return };
    let config = transformer(NormKind::Rms, NormPosition::Pre);
    let map = |backend| {
        let mut run = Run::new(backend, &config, name_sequences()).expect("a valid configuration");
        pollster::block_on(run.attention_maps("sophia", &|| false)).expect("a map")
    };
    let (cpu, gpu) = (map(Engine::cpu().backend()), map(Engine::Gpu(Box::new(ctx)).backend()));
    assert_eq!(cpu.tokens, gpu.tokens);
    let flat = |m: &normlab::experiment::AttentionMaps| m.maps.concat().concat();
    assert_close("attention maps of \"sophia\"", &flat(&gpu), &flat(&cpu), 1e-5, 0.0);
}

/// Lesson 11's gradients at initialisation are taken on the first batch with nothing
/// updated: the run trains exactly as it would without them.
#[test]
fn measuring_the_gradient_at_initialisation_changes_nothing_in_training() {
    let config =
        ExperimentConfig { max_batches_per_epoch: Some(6), ..transformer(NormKind::Batch, NormPosition::Post) };
    let train_with = |probes: Option<ProbeSpec>| {
        let mut run = Run::new(Engine::cpu().backend(), &config, name_sequences()).expect("a valid configuration");
        if let Some(spec) = probes {
            run.set_probes(spec);
        }
        let mut recorder = Recorder::default();
        pollster::block_on(run.train(&mut recorder)).expect("training runs");
        recorder
    };
    let plain = train_with(None);
    let measured = train_with(Some(ProbeSpec { gradients_at_init: true, ..ProbeSpec::default() }));
    assert_eq!(plain.losses(), measured.losses(), "the measurement moved the training");
    assert_eq!(plain.epochs()[0].test_loss, measured.epochs()[0].test_loss, "the running estimates moved");
    let reports: Vec<_> = measured
        .events
        .iter()
        .filter_map(|e| match e {
            Event::GradientsAtInit(g) => Some(g.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1, "one measurement, before the first step");
    let g = &reports[0];
    assert!((g.loss - plain.losses()[0]).abs() < 1e-5, "its loss {} is the first step's {}", g.loss, plain.losses()[0]);
    assert_eq!((g.blocks.len(), g.mlp_output.len()), (2, 2));
    for (block, mlp) in g.blocks.iter().zip(&g.mlp_output) {
        assert!(mlp.is_finite() && *mlp > 0.0 && block > mlp, "a block's gradient {block} holds its W₂'s {mlp}");
    }
}
