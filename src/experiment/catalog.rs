//! The lessons' experiments by name, as the native runner's `--preset` and the tests
//! name them: `EXPERIMENT-PRESET`, each a list of runs made from [`super::presets`].

use super::presets::*;
use super::{ExperimentConfig, ProbeSpec};
use crate::nn::NormKind;

/// The lessons' experiments by name, for the command-line runner: `EXPERIMENT-PRESET`
/// with PRESET `quick` or `full`.
pub const EXPERIMENTS: [&str; 13] = [
    "deep-mlp-too-small",
    "deep-mlp-too-large",
    "names",
    "high-lr",
    "batch-sweep",
    "regularizers",
    "smoothness",
    "noisy-bn",
    "lp-norm",
    "family",
    "placement",
    "redundant-bias",
    "clipping",
];

/// The runs of a named experiment (see [`EXPERIMENTS`]), each with what it probes.
pub fn named(name: &str) -> Option<Vec<(ExperimentConfig, Option<ProbeSpec>)>> {
    let (experiment, preset) = name.rsplit_once('-')?;
    let preset = Preset::parse(preset)?;
    let both = |make: &dyn Fn(bool) -> ExperimentConfig, probes: Option<ProbeSpec>| {
        vec![(make(false), probes.clone()), (make(true), probes)]
    };
    Some(match experiment {
        "deep-mlp-too-small" => both(&|bn| deep_mlp(BadInit::TooSmall, bn, preset), Some(deep_mlp_probes())),
        "deep-mlp-too-large" => both(&|bn| deep_mlp(BadInit::TooLarge, bn, preset), Some(deep_mlp_probes())),
        "names" => [0.1, 0.001].iter().map(|&m| (names_model(m, preset), Some(names_probes(preset)))).collect(),
        "high-lr" => both(&|bn| high_lr(bn, preset), None),
        "batch-sweep" => SWEEP_NORMS
            .iter()
            .flat_map(|&norm| sweep_batch_sizes(preset).into_iter().map(move |b| (batch_sweep(norm, b, preset), None)))
            .collect(),
        "regularizers" => {
            Regularizer::ALL.iter().map(|&r| (regularizers(r, preset), Some(regularizer_probes()))).collect()
        }
        "smoothness" => [NormKind::None, NormKind::Batch]
            .iter()
            .map(|&n| (why_batchnorm(n, 0.0, preset), Some(landscape_probes(preset))))
            .collect(),
        "noisy-bn" => [(NormKind::Batch, 0.0), (NormKind::Batch, NOISY_BN_STRENGTH), (NormKind::None, 0.0)]
            .iter()
            .map(|&(n, noise)| (why_batchnorm(n, noise, preset), Some(shift_probes(preset))))
            .collect(),
        "lp-norm" => [
            NormKind::Lp { order: crate::nn::LpOrder::L1 },
            NormKind::Batch,
            NormKind::Lp { order: crate::nn::LpOrder::Linf },
            NormKind::None,
        ]
        .iter()
        .map(|&n| (why_batchnorm(n, 0.0, preset), None))
        .collect(),
        "family" => FAMILY.iter().flat_map(|&n| [2, 128].map(|b| (family(n, b, preset), None))).collect(),
        "placement" => both(&|after| placement(after, preset), None),
        "redundant-bias" => both(&|bias| redundant_bias(bias, preset), Some(bias_probes())),
        "clipping" => CLIPS.iter().map(|&c| (clipping(c, preset), None)).collect(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_experiment_exists_in_both_presets() {
        for experiment in EXPERIMENTS {
            for preset in ["smoke", "quick", "full"] {
                let runs = named(&format!("{experiment}-{preset}")).expect("named");
                assert!(runs.len() >= 2, "{experiment}");
            }
        }
        assert!(named("high-lr-slow").is_none());
    }

    #[test]
    fn presets_survive_the_url() {
        let mut all = vec![high_lr(true, Preset::Full), high_lr(false, Preset::Quick)];
        all.push(names_model(0.001, Preset::Full));
        all.push(deep_mlp(BadInit::TooLarge, true, Preset::Quick));
        for norm in SWEEP_NORMS {
            all.push(batch_sweep(norm, 2, Preset::Full));
            all.push(batch_sweep(norm, 128, Preset::Quick));
        }
        for experiment in EXPERIMENTS {
            for preset in ["smoke", "quick", "full"] {
                all.extend(named(&format!("{experiment}-{preset}")).unwrap().into_iter().map(|(c, _)| c));
            }
        }
        for config in all {
            let (parsed, problems) = ExperimentConfig::from_query(&config.to_query());
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(parsed, config);
        }
    }
}
