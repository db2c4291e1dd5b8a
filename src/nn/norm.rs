//! Normalization layers as the model sees them: which kind, and the geometry it implies.

use serde::{Deserialize, Serialize};

use crate::backend::NormGeometry;
use crate::error::NormlabError;

/// The normalization placed after a layer. One closed set, one kernel family behind it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NormKind {
    #[default]
    None,
    /// `nn.BatchNorm1d` / `nn.BatchNorm2d`: per channel, over the batch (and positions).
    Batch,
    /// `nn.LayerNorm` over every feature of a sample (C, H, W).
    Layer,
    /// `nn.InstanceNorm2d`: per sample and channel, over positions.
    Instance,
    /// `nn.GroupNorm(groups, C)`: per sample and group of C / groups channels.
    Group { groups: usize },
    /// `nn.RMSNorm` over every feature of a sample, without centring.
    Rms,
}

/// PyTorch's default eps for BatchNorm, LayerNorm, GroupNorm and InstanceNorm.
pub const DEFAULT_EPS: f32 = 1e-5;

impl NormKind {
    /// A short name for labels and URLs.
    pub fn name(self) -> String {
        match self {
            NormKind::None => "none".into(),
            NormKind::Batch => "batch".into(),
            NormKind::Layer => "layer".into(),
            NormKind::Instance => "instance".into(),
            NormKind::Group { groups } => format!("group{groups}"),
            NormKind::Rms => "rms".into(),
        }
    }

    pub fn parse(name: &str) -> Option<NormKind> {
        Some(match name {
            "none" => NormKind::None,
            "batch" => NormKind::Batch,
            "layer" => NormKind::Layer,
            "instance" => NormKind::Instance,
            "rms" => NormKind::Rms,
            other => NormKind::Group { groups: other.strip_prefix("group")?.parse().ok()? },
        })
    }

    /// Whether this kind keeps running estimates for eval mode (only BatchNorm does).
    pub fn has_running_stats(self) -> bool {
        matches!(self, NormKind::Batch)
    }

    /// The statistic layout for an input `[batch, channels, spatial]`, or None for `None`.
    /// `training` matters only for the check PyTorch makes: BatchNorm cannot estimate a
    /// variance from one value per channel.
    pub fn geometry(
        self,
        batch: usize,
        channels: usize,
        spatial: usize,
        training: bool,
    ) -> Result<Option<NormGeometry>, NormlabError> {
        let base = NormGeometry {
            batch,
            channels,
            spatial,
            groups: channels,
            reduce_over_batch: false,
            affine_per_element: false,
            subtract_mean: true,
            eps: DEFAULT_EPS,
        };
        let geometry = match self {
            NormKind::None => return Ok(None),
            NormKind::Batch => {
                if training && batch * spatial <= 1 {
                    return Err(NormlabError::InvalidConfig(format!(
                        "BatchNorm needs more than 1 value per channel when training (got a batch of {batch} \
                         with {spatial} position(s) per channel); use a batch of at least 2, or LayerNorm/GroupNorm"
                    )));
                }
                NormGeometry { reduce_over_batch: true, ..base }
            }
            NormKind::Layer => NormGeometry { groups: 1, affine_per_element: true, ..base },
            NormKind::Instance => {
                if spatial <= 1 {
                    return Err(NormlabError::InvalidConfig(
                        "InstanceNorm needs spatial positions to normalize over; a fully connected layer has none"
                            .into(),
                    ));
                }
                base
            }
            NormKind::Group { groups } => {
                if groups == 0 || !channels.is_multiple_of(groups) {
                    return Err(NormlabError::InvalidConfig(format!(
                        "GroupNorm's {groups} groups do not divide the {channels} channels"
                    )));
                }
                NormGeometry { groups, ..base }
            }
            NormKind::Rms => NormGeometry {
                groups: 1,
                affine_per_element: true,
                subtract_mean: false,
                // nn.RMSNorm's default eps is the float32 machine epsilon.
                eps: f32::EPSILON,
                ..base
            },
        };
        Ok(Some(geometry))
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
            NormKind::Layer,
            NormKind::Instance,
            NormKind::Group { groups: 4 },
            NormKind::Rms,
        ] {
            assert_eq!(NormKind::parse(&kind.name()), Some(kind));
        }
        assert_eq!(NormKind::parse("group"), None);
        assert_eq!(NormKind::parse("weird"), None);
    }

    #[test]
    fn batch_norm_refuses_one_value_per_channel_in_training() {
        assert!(NormKind::Batch.geometry(1, 4, 1, true).is_err());
        assert!(NormKind::Batch.geometry(1, 4, 1, false).is_ok());
        assert!(NormKind::Batch.geometry(1, 3, 16, true).is_ok());
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
