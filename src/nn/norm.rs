//! Normalization layers as the model sees them: which kind, and the geometry it implies.

use serde::{Deserialize, Serialize};

use crate::backend::{NormFamily, NormGeometry, Spread};
use crate::error::NormlabError;
use crate::words;

/// The normalization placed after a layer. One closed set, one kernel family behind it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NormKind {
    #[default]
    None,
    /// `nn.BatchNorm1d` / `nn.BatchNorm2d`: per channel, over the batch (and positions). In
    /// a sequence model: per feature over every real token of the batch (`BatchNorm1d` on
    /// `[N, d, T]` with the padding left out).
    Batch,
    /// A sequence model's BatchNorm per position: one `BatchNorm1d(d)` for every position
    /// t, its statistics over the batch's real tokens at t, its own running estimates, γ
    /// and β. A position no training sequence reached keeps its initial estimates.
    #[serde(rename = "batchpos")]
    BatchPerPosition,
    /// `nn.LayerNorm` over every feature of a sample (C, H, W).
    Layer,
    /// `nn.InstanceNorm2d`: per sample and channel, over positions.
    Instance,
    /// `nn.GroupNorm(groups, C)`: per sample and group of C / groups channels.
    Group { groups: usize },
    /// `nn.RMSNorm` over every feature of a sample, without centring.
    Rms,
    /// Lp normalization (Santurkar et al. 2018, §3.3): BatchNorm's layout and running
    /// estimates, dividing by the L1, L2 or L∞ measure of the deviations instead of the
    /// standard deviation (L2 is BatchNorm itself).
    Lp { order: LpOrder },
}

/// Which Lp measure of spread [`NormKind::Lp`] divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LpOrder {
    /// The mean absolute deviation.
    L1,
    /// The root mean square deviation, the standard deviation.
    L2,
    /// The largest absolute deviation.
    Linf,
}

impl LpOrder {
    pub const ALL: [LpOrder; 3] = [LpOrder::L1, LpOrder::L2, LpOrder::Linf];

    pub fn name(self) -> &'static str {
        match self {
            LpOrder::L1 => "l1",
            LpOrder::L2 => "l2",
            LpOrder::Linf => "linf",
        }
    }

    fn spread(self) -> Spread {
        match self {
            LpOrder::L1 => Spread::MeanAbs,
            LpOrder::L2 => Spread::StdDev,
            LpOrder::Linf => Spread::MaxAbs,
        }
    }
}

/// PyTorch's default eps for BatchNorm, LayerNorm, GroupNorm and InstanceNorm.
pub const DEFAULT_EPS: f32 = 1e-5;

impl NormKind {
    /// A short name for labels and URLs.
    pub fn name(self) -> String {
        match self {
            NormKind::None => "none".into(),
            NormKind::Batch => "batch".into(),
            NormKind::BatchPerPosition => "batchpos".into(),
            NormKind::Layer => "layer".into(),
            NormKind::Instance => "instance".into(),
            NormKind::Group { groups } => format!("group{groups}"),
            NormKind::Rms => "rms".into(),
            NormKind::Lp { order } => order.name().into(),
        }
    }

    pub fn parse(name: &str) -> Option<NormKind> {
        Some(match name {
            "none" => NormKind::None,
            "batch" => NormKind::Batch,
            "batchpos" => NormKind::BatchPerPosition,
            "layer" => NormKind::Layer,
            "instance" => NormKind::Instance,
            "rms" => NormKind::Rms,
            other if other.starts_with('l') => {
                NormKind::Lp { order: *LpOrder::ALL.iter().find(|o| o.name() == other)? }
            }
            other => NormKind::Group { groups: other.strip_prefix("group")?.parse().ok()? },
        })
    }

    /// The eps added to the variance: PyTorch's 1e-5, except nn.RMSNorm's default, the
    /// float32 machine epsilon.
    pub fn eps(self) -> f32 {
        match self {
            NormKind::Rms => f32::EPSILON,
            _ => DEFAULT_EPS,
        }
    }

    /// Whether this kind keeps running estimates for eval mode (BatchNorm and its Lp variants).
    pub fn has_running_stats(self) -> bool {
        matches!(self, NormKind::Batch | NormKind::BatchPerPosition | NormKind::Lp { .. })
    }

    /// The statistic layout for an input `[batch, channels, spatial]`, or None for `None`.
    /// `training` matters only for the check PyTorch makes: BatchNorm cannot estimate a
    /// variance from one value per channel (see [`NormKind::check_batch`]).
    pub fn geometry(
        self,
        batch: usize,
        channels: usize,
        spatial: usize,
        training: bool,
    ) -> Result<Option<NormGeometry>, NormlabError> {
        if training {
            self.check_batch(batch, spatial)?;
        }
        let base = NormGeometry {
            family: NormFamily::Batch,
            batch,
            channels,
            spatial,
            groups: channels,
            reduce_over_batch: false,
            affine_per_element: false,
            subtract_mean: true,
            spread: Spread::StdDev,
            eps: self.eps(),
        };
        let geometry = match self {
            NormKind::None => return Ok(None),
            NormKind::Batch | NormKind::BatchPerPosition | NormKind::Lp { .. } => {
                let spread = match self {
                    NormKind::Lp { order } => order.spread(),
                    _ => Spread::StdDev,
                };
                NormGeometry { reduce_over_batch: true, spread, ..base }
            }
            NormKind::Layer => NormGeometry { family: NormFamily::Layer, groups: 1, affine_per_element: true, ..base },
            NormKind::Instance => {
                if spatial <= 1 {
                    return Err(NormlabError::InvalidConfig(words!(
                        "InstanceNorm needs spatial positions to normalize over; a fully connected layer has none",
                        "InstanceNorm 要在空间位置上做归一化，而全连接层没有空间位置"
                    )));
                }
                NormGeometry { family: NormFamily::Instance, ..base }
            }
            NormKind::Group { groups } => {
                if groups == 0 || !channels.is_multiple_of(groups) {
                    return Err(NormlabError::InvalidConfig(words!(
                        "GroupNorm's {groups} groups do not divide the {channels} channels",
                        "GroupNorm 的 {groups} 个组不能整除 {channels} 个通道"
                    )));
                }
                NormGeometry { family: NormFamily::Group, groups, ..base }
            }
            NormKind::Rms => NormGeometry {
                family: NormFamily::Rms,
                groups: 1,
                affine_per_element: true,
                subtract_mean: false,
                ..base
            },
        };
        Ok(Some(geometry))
    }

    /// PyTorch's refusal: BatchNorm (and its Lp variants) cannot estimate a variance from
    /// one value per channel when training.
    pub fn check_batch(self, batch: usize, spatial: usize) -> Result<(), NormlabError> {
        if self.has_running_stats() && batch * spatial <= 1 {
            return Err(NormlabError::InvalidConfig(words!(
                "BatchNorm needs more than 1 value per channel when training (got a batch of {batch} \
                 with {spatial} position(s) per channel); use a batch of at least 2, or LayerNorm/GroupNorm",
                "BatchNorm 训练时每个通道需要不止 1 个值（现在批大小为 {batch}，每个通道 {spatial} 个位置）；\
                 请用至少为 2 的批大小，或改用 LayerNorm/GroupNorm"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in [
            NormKind::None,
            NormKind::Batch,
            NormKind::BatchPerPosition,
            NormKind::Layer,
            NormKind::Instance,
            NormKind::Group { groups: 4 },
            NormKind::Rms,
            NormKind::Lp { order: LpOrder::L1 },
            NormKind::Lp { order: LpOrder::L2 },
            NormKind::Lp { order: LpOrder::Linf },
        ] {
            assert_eq!(NormKind::parse(&kind.name()), Some(kind));
        }
        assert_eq!(NormKind::parse("group"), None);
        assert_eq!(NormKind::parse("weird"), None);
        assert_eq!(NormKind::parse("l3"), None);
    }

    #[test]
    fn batch_norm_refuses_one_value_per_channel_in_training() {
        assert!(NormKind::Batch.geometry(1, 4, 1, true).is_err());
        assert!(NormKind::Batch.geometry(1, 4, 1, false).is_ok());
        assert!(NormKind::Batch.geometry(1, 3, 16, true).is_ok());
    }

    /// Every statistic covers exactly `elements_per_stat` elements, for every kind: the
    /// sets lesson 8 draws.
    #[test]
    fn each_element_belongs_to_one_statistic_of_the_right_size() {
        let (n, c, s) = (4, 6, 9);
        for kind in [
            NormKind::Batch,
            NormKind::Layer,
            NormKind::Instance,
            NormKind::Group { groups: 1 },
            NormKind::Group { groups: 2 },
            NormKind::Group { groups: 3 },
            NormKind::Group { groups: 6 },
            NormKind::Rms,
        ] {
            let g = kind.geometry(n, c, s, true).unwrap().unwrap();
            let mut sizes = vec![0; g.stat_count()];
            for sample in 0..n {
                for channel in 0..c {
                    sizes[g.stat_of(sample, channel)] += s;
                }
            }
            assert!(sizes.iter().all(|&k| k == g.elements_per_stat()), "{kind:?}: {sizes:?}");
        }
        // GroupNorm with one group is LayerNorm's set; with C groups, InstanceNorm's.
        let (gn1, ln) = (
            NormKind::Group { groups: 1 }.geometry(n, c, s, true).unwrap().unwrap(),
            NormKind::Layer.geometry(n, c, s, true).unwrap().unwrap(),
        );
        let (gnc, inn) = (
            NormKind::Group { groups: 6 }.geometry(n, c, s, true).unwrap().unwrap(),
            NormKind::Instance.geometry(n, c, s, true).unwrap().unwrap(),
        );
        for sample in 0..n {
            for channel in 0..c {
                assert_eq!(gn1.stat_of(sample, channel), ln.stat_of(sample, channel));
                assert_eq!(gnc.stat_of(sample, channel), inn.stat_of(sample, channel));
            }
        }
    }

    #[test]
    fn axes_table() {
        let bn = NormKind::Batch.geometry(8, 6, 25, true).unwrap().unwrap();
        assert_eq!((bn.stat_count(), bn.elements_per_stat()), (6, 8 * 25));
        let gn = NormKind::Group { groups: 2 }.geometry(8, 6, 25, true).unwrap().unwrap();
        assert_eq!((gn.stat_count(), gn.elements_per_stat()), (16, 3 * 25));
        let ln = NormKind::Layer.geometry(8, 6, 25, true).unwrap().unwrap();
        assert_eq!((ln.stat_count(), ln.elements_per_stat(), ln.affine_len()), (8, 150, 150));
        let inn = NormKind::Instance.geometry(8, 6, 25, true).unwrap().unwrap();
        assert_eq!((inn.stat_count(), inn.elements_per_stat()), (48, 25));
        assert!(NormKind::Group { groups: 4 }.geometry(8, 6, 25, true).is_err());
    }
}
