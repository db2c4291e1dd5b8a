//! Each experiment's runs: the one list the runner, the tests and the page all read.

use super::{Experiment, Variant, VariantKey};
use crate::experiment::presets::*;
use crate::experiment::{ExperimentConfig, ProbeSpec};
use crate::nn::{LpOrder, NormKind, NormPosition, Placement};

/// Lesson 7's Lp normalizations, BatchNorm being the L2 one, and the network without.
const LP_NORMS: [NormKind; 4] =
    [NormKind::Lp { order: LpOrder::L1 }, NormKind::Batch, NormKind::Lp { order: LpOrder::Linf }, NormKind::None];

impl Experiment {
    /// The runs of this experiment at `preset`, in the order the runner trains and
    /// reports them (and the lessons' tests index them).
    pub fn variants(self, preset: Preset) -> Vec<Variant> {
        let run = |key, config, probes| Variant { key, config, probes };
        // Without BatchNorm first, then with it.
        let without_and_with_bn = |make: &dyn Fn(bool) -> ExperimentConfig, probes: Option<ProbeSpec>| {
            [false, true].map(|bn| run(VariantKey::BatchNorm(bn), make(bn), probes.clone())).to_vec()
        };
        match self {
            Experiment::DeepMlpTooSmall | Experiment::DeepMlpTooLarge => {
                let init = if self == Experiment::DeepMlpTooSmall { BadInit::TooSmall } else { BadInit::TooLarge };
                without_and_with_bn(&|bn| deep_mlp(init, bn, preset), Some(deep_mlp_probes()))
            }
            Experiment::Names => NAMES_MOMENTA
                .iter()
                .map(|&m| run(VariantKey::Momentum(m), names_model(m, preset), Some(names_probes(preset))))
                .collect(),
            Experiment::HighLr => without_and_with_bn(&|bn| high_lr(bn, preset), None),
            Experiment::BatchSweep => SWEEP_NORMS
                .iter()
                .flat_map(|&norm| {
                    sweep_batch_sizes(preset).into_iter().map(move |batch_size| Variant {
                        key: VariantKey::NormAtBatch { norm, batch_size },
                        config: batch_sweep(norm, batch_size, preset),
                        probes: None,
                    })
                })
                .collect(),
            Experiment::Regularizers => Regularizer::ALL
                .iter()
                .map(|&r| run(VariantKey::Regularizer(r), regularizers(r, preset), Some(regularizer_probes())))
                .collect(),
            Experiment::Smoothness => {
                let norm = |bn| if bn { NormKind::Batch } else { NormKind::None };
                without_and_with_bn(&|bn| why_batchnorm(norm(bn), 0.0, preset), Some(landscape_probes(preset)))
            }
            Experiment::NoisyBn => {
                let probes = Some(shift_probes(preset));
                vec![
                    run(VariantKey::BatchNorm(true), why_batchnorm(NormKind::Batch, 0.0, preset), probes.clone()),
                    run(
                        VariantKey::NoisyBatchNorm { strength: NOISY_BN_STRENGTH },
                        why_batchnorm(NormKind::Batch, NOISY_BN_STRENGTH, preset),
                        probes.clone(),
                    ),
                    run(VariantKey::BatchNorm(false), why_batchnorm(NormKind::None, 0.0, preset), probes),
                ]
            }
            Experiment::LpNorm => {
                LP_NORMS.iter().map(|&n| run(VariantKey::Norm(n), why_batchnorm(n, 0.0, preset), None)).collect()
            }
            Experiment::Family => FAMILY
                .iter()
                .flat_map(|&norm| {
                    FAMILY_BATCH_SIZES.map(|batch_size| Variant {
                        key: VariantKey::NormAtBatch { norm, batch_size },
                        config: family(norm, batch_size, preset),
                        probes: None,
                    })
                })
                .collect(),
            Experiment::Placement => [Placement::Before, Placement::After]
                .map(|p| run(VariantKey::Placement(p), placement(p == Placement::After, preset), None))
                .to_vec(),
            Experiment::RedundantBias => [false, true]
                .map(|bias| run(VariantKey::Bias(bias), redundant_bias(bias, preset), Some(bias_probes())))
                .to_vec(),
            Experiment::Clipping => {
                CLIPS.iter().map(|&c| run(VariantKey::Clip(c), clipping(c, preset), None)).collect()
            }
            Experiment::SeqNorms => SEQUENCE_NORMS
                .iter()
                .map(|&(norm, position)| {
                    let key = VariantKey::SequenceNorm { norm, position };
                    run(key, sequence_norms(norm, position, preset), Some(sequence_norm_probes()))
                })
                .collect(),
            Experiment::SeqLength => LENGTH_NORMS
                .iter()
                .map(|&norm| {
                    let key = VariantKey::SequenceNorm { norm, position: NormPosition::Pre };
                    run(key, sequence_length(norm, preset), Some(position_probes()))
                })
                .collect(),
            Experiment::SeqBatchOne => BATCH_OF_ONE_NORMS
                .iter()
                .map(|&norm| {
                    let key = VariantKey::SequenceNorm { norm, position: NormPosition::Pre };
                    run(key, sequence_norms(norm, NormPosition::Pre, preset), Some(batch_of_one_probes()))
                })
                .collect(),
            Experiment::SeqPlacement => {
                [(NormPosition::Pre, false), (NormPosition::Post, false), (NormPosition::Post, true)]
                    .map(|(position, warmup)| {
                        let key = VariantKey::Warmup { position, warmup };
                        run(key, sequence_placement(position, warmup, preset), Some(placement_probes()))
                    })
                    .to_vec()
            }
        }
    }
}
