//! Inside a transformer's blocks (lesson 11): where each head of a trained model looks
//! while it reads a name, and how large each block's gradient is before the first step
//! (post-LayerNorm's grows toward the output, pre-LayerNorm's does not; Xiong et al. 2020).

use serde::{Deserialize, Serialize};

use super::run::{settle, Run};
use crate::backend::Backend;
use crate::data::names;
use crate::error::NormlabError;
use crate::nn::Phase;
use crate::words;

/// One name as a trained sequence model attends to it, in eval mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttentionMaps {
    /// The tokens read, the start token `.` first: row t of a map is what position t
    /// looks at while it predicts the character after `tokens[t]`.
    pub tokens: Vec<char>,
    /// `[block][head]`, each a `tokens.len()²` row-major map whose row t sums to 1 over
    /// its first t + 1 entries (the causal mask makes the rest 0).
    pub maps: Vec<Vec<Vec<f32>>>,
}

impl AttentionMaps {
    /// The weight position `from` gives position `to` in `head` of `block`.
    pub fn weight(&self, block: usize, head: usize, from: usize, to: usize) -> f32 {
        self.maps[block][head][from * self.tokens.len() + to]
    }
}

/// Gradient norms (L2) of every transformer block on the first training batch, before any
/// update, and that batch's loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientsAtInit {
    pub loss: f32,
    /// All the block's parameters together (weights, biases, norm parameters).
    pub blocks: Vec<f32>,
    /// The block's MLP output weight `W₂` alone (the quantity of Xiong et al.'s Fig. 3).
    pub mlp_output: Vec<f32>,
}

/// A name a student typed, as the lab reads it: lower case, only the letters a–z, at
/// most the model's context less its start token.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedName {
    pub name: String,
    /// Characters other than letters were left out.
    pub dropped: bool,
    /// It had more letters than fit, and was cut.
    pub cut: bool,
}

/// See [`TypedName`]; an error only when no letter is left.
pub fn read_typed_name(typed: &str, most: usize) -> Result<TypedName, NormlabError> {
    let lower = typed.trim().to_lowercase();
    let letters: Vec<char> = lower.chars().filter(|c| c.is_ascii_lowercase()).collect();
    if letters.is_empty() {
        return Err(NormlabError::InvalidConfig(words!(
            "type a name of letters a–z",
            "请输入一个由字母 a–z 组成的名字"
        )));
    }
    Ok(TypedName {
        name: letters.iter().take(most).collect(),
        dropped: letters.len() != lower.chars().count(),
        cut: letters.len() > most,
    })
}

impl<B: Backend> Run<B> {
    /// The attention of every head of every block over `name` (letters a–z, at most one
    /// fewer than the model's context), in eval mode: the name alone is a batch of one.
    pub async fn attention_maps(&mut self, name: &str, stop: &dyn Fn() -> bool) -> Result<AttentionMaps, NormlabError> {
        let context = self.features;
        let tokens: Option<Vec<usize>> = name.chars().map(names::token).collect();
        let tokens = match tokens {
            Some(t) if self.model.rows_per_example == context && (1..context).contains(&t.len()) && !t.contains(&0) => {
                t
            }
            _ => {
                let most = context.saturating_sub(1);
                return Err(NormlabError::InvalidConfig(words!(
                    "the attention map needs a sequence model and a name of 1 to {most} letters a–z",
                    "注意力图需要序列模型和一个 1 到 {most} 个字母（a–z）的名字"
                )));
            }
        };
        let mut input = vec![0.0f32; context];
        for (slot, &t) in input[1..].iter_mut().zip(&tokens) {
            *slot = t as f32;
        }
        self.backend.upload(self.batch_x, &input);
        self.model.forward(&mut self.backend, self.batch_x, 1, Phase::Eval);
        self.backend.submit();
        let shown = tokens.len() + 1;
        let mut reads = Vec::new();
        for block in self.model.layers.iter().filter_map(|l| l.as_block()) {
            let shape = block.attention.shape(context);
            reads.push((shape, self.backend.read_later(block.attention.att)));
        }
        let mut maps = Vec::new();
        for (shape, read) in reads {
            let att = settle(read, stop).await?;
            let t_len = shape.seq_len;
            let heads = (0..shape.heads)
                .map(|h| {
                    (0..shown)
                        .flat_map(|from| {
                            let row = (h * t_len + from) * t_len;
                            att[row..row + shown].to_vec()
                        })
                        .collect()
                })
                .collect();
            maps.push(heads);
        }
        let tokens = std::iter::once('.').chain(tokens.iter().map(|&t| names::character(t))).collect();
        Ok(AttentionMaps { tokens, maps })
    }

    /// See [`GradientsAtInit`]: `rows` is the first training batch.
    pub(super) async fn gradients_at_init(
        &mut self,
        rows: &[u32],
        stop: &dyn Fn() -> bool,
    ) -> Result<GradientsAtInit, NormlabError> {
        let (loss, gradients) = self.loss_and_gradients(rows, stop).await?;
        let norm = |values: &[&Vec<f32>]| {
            values.iter().copied().flatten().map(|&g| (g as f64) * (g as f64)).sum::<f64>().sqrt() as f32
        };
        let (mut blocks, mut mlp_output) = (Vec::new(), Vec::new());
        let mut next = 0;
        for layer in &self.model.layers {
            let params = layer.params();
            let own = &gradients[next..next + params.len()];
            if let Some(block) = layer.as_block() {
                blocks.push(norm(&own.iter().collect::<Vec<_>>()));
                let w2 = block.mlp_output_weight().grad;
                let at = params.iter().position(|p| p.grad == w2).expect("the MLP's weight is one of the block's");
                mlp_output.push(norm(&[&own[at]]));
            }
            next += params.len();
        }
        Ok(GradientsAtInit { loss, blocks, mlp_output })
    }
}

#[cfg(test)]
mod tests {
    use super::{read_typed_name, TypedName};

    #[test]
    fn a_typed_name_keeps_its_letters_and_says_what_it_left_out() {
        let read = |typed: &str| read_typed_name(typed, 15).unwrap();
        assert_eq!(read(" Emma "), TypedName { name: "emma".into(), dropped: false, cut: false });
        assert_eq!(read("Zoë-Ann"), TypedName { name: "zoann".into(), dropped: true, cut: false });
        assert_eq!(read("abcdefghijklmnopq"), TypedName { name: "abcdefghijklmno".into(), dropped: false, cut: true });
        assert!(read_typed_name("  42 ", 15).is_err());
    }
}
