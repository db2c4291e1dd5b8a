//! A sequence model's held-out loss position by position (lesson 11): how well it
//! predicts the t-th character of a name, which shows what a norm does at positions
//! longer than any name it was trained on; and one name's losses computed alone and in a
//! batch, which differ only where a norm compares sequences.

use serde::{Deserialize, Serialize};

use super::run::{settle, Run, SplitName};
use super::EVAL_BATCH;
use crate::backend::Backend;
use crate::data::names;
use crate::error::NormlabError;
use crate::nn::Phase;

/// The held-out cross-entropy of the targets at one position (0: the first letter,
/// predicted from the start token), in nats per character, over the names that reach it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PositionLoss {
    pub position: usize,
    pub loss: f32,
    /// How many held-out names have a real target there.
    pub tokens: u32,
}

/// One held-out name's loss per character computed in a batch of [`BATCH_OF_ONE_BATCH`]
/// held-out names and alone, in eval mode and with the batch's statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchOfOne {
    /// The name's row in the held-out split (and in the batch), and the name.
    pub row: usize,
    pub name: String,
    pub in_batch_eval: Vec<f32>,
    pub alone_eval: Vec<f32>,
    pub in_batch_batch_stats: Vec<f32>,
    /// None where PyTorch refuses a batch of one in training mode (BatchNorm with one value
    /// per channel): `refusal` says why, in English and Chinese.
    pub alone_batch_stats: Option<Vec<f32>>,
    pub refusal: Option<[String; 2]>,
    /// With the batch's statistics, the name in a batch of [`BATCH_OF_ONE_BATCH`] − 1 short
    /// held-out names (at most [`SHORT_LETTERS`] letters: mostly padding) and in one of as
    /// many long ones (at least [`LONG_LETTERS`]: little padding); empty where the held-out
    /// split has too few of either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub among_short_names: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub among_long_names: Vec<f32>,
}

/// The short and long names a measured name is batched with (see [`BatchOfOne`]).
pub const SHORT_LETTERS: u32 = 4;
pub const LONG_LETTERS: u32 = 8;

/// The batch a name is measured in against alone: the first this-many held-out names.
pub const BATCH_OF_ONE_BATCH: usize = 32;

/// `−log softmax(logits)[target]` in f64, from one row of logits.
fn row_loss(logits: &[f32], target: usize) -> f64 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let sum: f64 = logits.iter().map(|&v| (v as f64 - max).exp()).sum();
    max + sum.ln() - logits[target] as f64
}

impl<B: Backend> Run<B> {
    /// The test split's loss at every position of its sequences in `phase` (positions no
    /// held-out name reaches are left out).
    pub async fn losses_by_position(
        &mut self,
        phase: Phase,
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<PositionLoss>, NormlabError> {
        let (len, positions) = (self.test.len, self.targets);
        let mut sums = vec![(0.0f64, 0u32); positions];
        for start in (0..len).step_by(EVAL_BATCH) {
            let rows: Vec<usize> = (start..(start + EVAL_BATCH).min(len)).collect();
            for losses in self.sequence_losses(&rows, phase, stop).await? {
                for (t, loss) in losses.into_iter().enumerate() {
                    sums[t].0 += loss as f64;
                    sums[t].1 += 1;
                }
            }
        }
        Ok(sums
            .iter()
            .enumerate()
            .filter(|(_, &(_, tokens))| tokens > 0)
            .map(|(position, &(sum, tokens))| PositionLoss { position, loss: (sum / tokens as f64) as f32, tokens })
            .collect())
    }

    /// The loss at each real position of the held-out sequences `rows`, passed through the
    /// model together as one batch in `phase`.
    async fn sequence_losses(
        &mut self,
        rows: &[usize],
        phase: Phase,
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<Vec<f32>>, NormlabError> {
        assert!(phase != Phase::Train, "evaluation never trains");
        let positions = self.targets;
        let indices: Vec<f32> = rows.iter().map(|&r| r as f32).collect();
        self.gather_batch(SplitName::Test, &indices);
        let logits = self.model.forward(&mut self.backend, self.batch_x, rows.len(), phase);
        self.backend.submit();
        let (logits, targets) = (self.backend.read_later(logits), self.backend.read_later(self.batch_y));
        let (logits, targets) = (settle(logits, stop).await?, settle(targets, stop).await?);
        let classes = self.classes;
        Ok((0..rows.len())
            .map(|n| {
                (n * positions..(n + 1) * positions)
                    .filter(|&r| targets[r] >= 0.0)
                    .map(|r| row_loss(&logits[r * classes..(r + 1) * classes], targets[r] as usize) as f32)
                    .collect()
            })
            .collect())
    }

    /// See [`BatchOfOne`]: the first held-out name of at least five letters among the first
    /// [`BATCH_OF_ONE_BATCH`] held-out names.
    pub async fn batch_of_one(&mut self, stop: &dyn Fn() -> bool) -> Result<BatchOfOne, NormlabError> {
        let batch: Vec<usize> = (0..BATCH_OF_ONE_BATCH.min(self.test.len)).collect();
        let row = batch.iter().copied().find(|&r| self.test_counted[r] >= 6).unwrap_or(0);
        let in_batch_eval = self.sequence_losses(&batch, Phase::Eval, stop).await?.swap_remove(row);
        let alone_eval = self.sequence_losses(&[row], Phase::Eval, stop).await?.swap_remove(0);
        // The name itself, from the tokens just gathered (its letters follow the start token).
        let tokens = settle(self.backend.read_later(self.batch_x), stop).await?;
        let name: String = tokens[1..alone_eval.len()].iter().map(|&t| names::character(t as usize)).collect();
        let in_batch_batch_stats = self.sequence_losses(&batch, Phase::BatchStats, stop).await?.swap_remove(row);
        let (alone_batch_stats, refusal) = match self.model.check_training_batch(1) {
            Ok(()) => (Some(self.sequence_losses(&[row], Phase::BatchStats, stop).await?.swap_remove(0)), None),
            Err(NormlabError::InvalidConfig(words)) => (None, Some([words.en, words.zh])),
            Err(other) => return Err(other),
        };
        // The name first, then its company: `test_counted` is a name's letters plus its end.
        let company = |keep: &dyn Fn(u32) -> bool| -> Option<Vec<usize>> {
            let others: Vec<usize> = (0..self.test.len)
                .filter(|&r| r != row && keep(self.test_counted[r] - 1))
                .take(batch.len() - 1)
                .collect();
            (others.len() == batch.len() - 1).then(|| std::iter::once(row).chain(others).collect())
        };
        let (short, long) = (company(&|letters| letters <= SHORT_LETTERS), company(&|letters| letters >= LONG_LETTERS));
        let (mut among_short_names, mut among_long_names) = (Vec::new(), Vec::new());
        if let (Some(short), Some(long)) = (short, long) {
            among_short_names = self.sequence_losses(&short, Phase::BatchStats, stop).await?.swap_remove(0);
            among_long_names = self.sequence_losses(&long, Phase::BatchStats, stop).await?.swap_remove(0);
        }
        Ok(BatchOfOne {
            row,
            name,
            in_batch_eval,
            alone_eval,
            in_batch_batch_stats,
            alone_batch_stats,
            refusal,
            among_short_names,
            among_long_names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::row_loss;

    #[test]
    fn a_rows_loss_is_its_cross_entropy() {
        // Uniform over 4 classes: ln 4 whatever the target.
        assert!((row_loss(&[0.5; 4], 2) - 4f64.ln()).abs() < 1e-12);
        // Far apart logits: the loss of the largest is ~0, of another ~the gap.
        assert!(row_loss(&[10.0, 0.0], 0) < 1e-4);
        assert!((row_loss(&[10.0, 0.0], 1) - 10.0).abs() < 1e-3);
    }
}
