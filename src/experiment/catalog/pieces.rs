//! The runs each live piece of the page trains, read from its experiment's definition.
//! Most pieces train every run as the runner does; the three that do not say here what
//! they leave out or reorder, and why, so that no piece keeps a list of its own.

use super::{Experiment, Variant, VariantKey};
use crate::experiment::presets::{BadInit, Preset};

/// A live piece of the lessons' page that trains one of the experiments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LivePiece {
    /// Lesson 1, at the initialisation the student picks.
    DeepMlp(BadInit),
    NamesModel,
    HighLr,
    BatchSweep,
    Regularizers,
    /// Lesson 7's noisy BatchNorm: [`Experiment::NoisyBn`]'s runs without their probes.
    /// The piece charts only the training curves, and the covariate-shift probes would
    /// only slow it down (the probes leave the training as it is).
    NoisyBn,
    /// Lesson 7's internal covariate shift: [`Experiment::NoisyBn`]'s two runs without
    /// noise, with their probes, the plain network first (the piece's charts and colours
    /// take the run without BatchNorm as the first).
    CovariateShift,
    Smoothness,
    LpNorm,
    FamilyTable,
    Placement,
    /// Lesson 9's redundant bias: [`Experiment::RedundantBias`]'s runs with the bias
    /// first, and only it probed: the piece charts the bias gradients of that one network.
    RedundantBias,
    Clipping,
    SeqNorms,
    SeqLength,
    SeqBatchOne,
    SeqPlacement,
}

impl LivePiece {
    pub const ALL: [LivePiece; 18] = [
        LivePiece::DeepMlp(BadInit::TooSmall),
        LivePiece::DeepMlp(BadInit::TooLarge),
        LivePiece::NamesModel,
        LivePiece::HighLr,
        LivePiece::BatchSweep,
        LivePiece::Regularizers,
        LivePiece::NoisyBn,
        LivePiece::CovariateShift,
        LivePiece::Smoothness,
        LivePiece::LpNorm,
        LivePiece::FamilyTable,
        LivePiece::Placement,
        LivePiece::RedundantBias,
        LivePiece::Clipping,
        LivePiece::SeqNorms,
        LivePiece::SeqLength,
        LivePiece::SeqBatchOne,
        LivePiece::SeqPlacement,
    ];

    /// The experiment whose runs the piece trains.
    pub fn experiment(self) -> Experiment {
        match self {
            LivePiece::DeepMlp(init) => Experiment::deep_mlp(init),
            LivePiece::NamesModel => Experiment::Names,
            LivePiece::HighLr => Experiment::HighLr,
            LivePiece::BatchSweep => Experiment::BatchSweep,
            LivePiece::Regularizers => Experiment::Regularizers,
            LivePiece::NoisyBn | LivePiece::CovariateShift => Experiment::NoisyBn,
            LivePiece::Smoothness => Experiment::Smoothness,
            LivePiece::LpNorm => Experiment::LpNorm,
            LivePiece::FamilyTable => Experiment::Family,
            LivePiece::Placement => Experiment::Placement,
            LivePiece::RedundantBias => Experiment::RedundantBias,
            LivePiece::Clipping => Experiment::Clipping,
            LivePiece::SeqNorms => Experiment::SeqNorms,
            LivePiece::SeqLength => Experiment::SeqLength,
            LivePiece::SeqBatchOne => Experiment::SeqBatchOne,
            LivePiece::SeqPlacement => Experiment::SeqPlacement,
        }
    }

    /// The runs the piece trains at `preset`, in its order (the order of its legend and
    /// its colours). A piece's own controls (a slider's batch size, learning rate or
    /// noise strength) change them further on the page.
    pub fn variants(self, preset: Preset) -> Vec<Variant> {
        let runs = self.experiment().variants(preset);
        match self {
            LivePiece::NoisyBn => runs.into_iter().map(|v| Variant { probes: None, ..v }).collect(),
            LivePiece::CovariateShift => {
                runs.into_iter().rev().filter(|v| matches!(v.key, VariantKey::BatchNorm(_))).collect()
            }
            LivePiece::RedundantBias => runs
                .into_iter()
                .rev()
                .map(|v| {
                    let watched = v.key == VariantKey::Bias(true);
                    Variant { probes: v.probes.filter(|_| watched), ..v }
                })
                .collect(),
            _ => runs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::presets::named;

    /// The claim of this module: every live piece trains runs of its experiment exactly
    /// as the runner (`normlab-run --preset`) and the tests have them, all of them in the
    /// same order except where a piece documents its selection.
    #[test]
    fn the_pages_widgets_and_the_runner_run_the_same_variants() {
        for piece in LivePiece::ALL {
            for preset in Preset::ALL {
                let name = format!("{}-{}", piece.experiment().name(), preset.name());
                let runner = named(&name).expect("the piece's experiment is named");
                let page: Vec<_> = piece.variants(preset).into_iter().map(|v| (v.config, v.probes)).collect();
                match piece {
                    LivePiece::NoisyBn => {
                        let configs = |runs: &[(_, _)]| runs.iter().map(|(c, _)| c).cloned().collect::<Vec<_>>();
                        assert_eq!(configs(&page), configs(&runner), "{name}");
                        assert!(page.iter().all(|(_, probes)| probes.is_none()), "{name}");
                    }
                    LivePiece::CovariateShift => assert_eq!(page, [runner[2].clone(), runner[0].clone()], "{name}"),
                    LivePiece::RedundantBias => {
                        let ([without, with], [first, second]) = (&runner[..], &page[..]) else {
                            panic!("{name}: not two runs");
                        };
                        assert_eq!(first, with, "{name}: the run with the bias, probed");
                        assert_eq!((&second.0, &second.1), (&without.0, &None), "{name}: the run without");
                    }
                    _ => assert_eq!(page, runner, "{name}"),
                }
            }
        }
    }

    /// Lesson 7's two measuring pieces compare the same two networks, one along the
    /// gradient and one across the layers.
    #[test]
    fn the_covariate_shift_and_smoothness_pieces_train_the_same_networks() {
        for preset in Preset::ALL {
            let keyed = |piece: LivePiece| -> Vec<_> {
                piece.variants(preset).into_iter().map(|v| (v.key, v.config)).collect()
            };
            assert_eq!(keyed(LivePiece::CovariateShift), keyed(LivePiece::Smoothness));
        }
    }

    #[test]
    fn every_experiment_has_a_piece() {
        for experiment in Experiment::ALL {
            assert!(LivePiece::ALL.iter().any(|p| p.experiment() == experiment), "{}", experiment.name());
        }
    }
}
