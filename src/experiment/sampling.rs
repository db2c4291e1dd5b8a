//! What a trained model makes: names from the character model (lesson 3), and a 2-D
//! model's decision regions (the playground).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::run::Run;
use crate::backend::Backend;
use crate::error::NormlabError;
use crate::words;

/// The classes a trained model predicts over a `resolution × resolution` grid of 2-D
/// points spanning `extent` = (x from, x to, y from, y to), row by row from the top, with
/// the probability of each predicted class: the playground's decision-boundary view.
pub async fn decision_grid<B: Backend>(
    run: &mut Run<B>,
    extent: (f32, f32, f32, f32),
    resolution: usize,
) -> Result<Vec<(usize, f32)>, NormlabError> {
    if run.features != 2 {
        return Err(NormlabError::InvalidConfig(words!(
            "a decision boundary needs 2-D points",
            "决策边界需要二维的点"
        )));
    }
    let (x0, x1, y0, y1) = extent;
    let step = |from: f32, to: f32, i: usize| from + (to - from) * (i as f32 + 0.5) / resolution as f32;
    let points: Vec<f32> = (0..resolution)
        .flat_map(|row| (0..resolution).flat_map(move |col| [step(x0, x1, col), step(y1, y0, row)]))
        .collect();
    let mut cells = Vec::with_capacity(resolution * resolution);
    for chunk in points.chunks(2 * run.model.max_batch) {
        let rows = chunk.len() / 2;
        let logits = run.predict(chunk, rows).await?;
        for row in logits.chunks(run.classes) {
            let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|l| (l - top).exp()).sum();
            let class = row.iter().position(|&l| l == top).unwrap_or(0);
            cells.push((class, 1.0 / sum));
        }
    }
    Ok(cells)
}

/// Longest name [`sample_names`] writes before cutting it off.
const MAX_NAME_LEN: usize = 20;

/// Writes `count` new names with a trained character model (lesson 3): starting from the
/// context `...`, draw the next character from the softmax of the logits, slide the
/// context, until `.` ends the name. Eval mode, so BatchNorm uses its running statistics:
/// one name is a batch of one, which batch statistics could not normalize.
/// A sequence model (lesson 11) writes its names the same way, one position at a time:
/// position t of the sequence `. n a m …` predicts the character after it.
pub async fn sample_names<B: Backend>(run: &mut Run<B>, count: usize, seed: u64) -> Result<Vec<String>, NormlabError> {
    use crate::data::names::{character, CONTEXT};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let count = count.min(run.model.max_batch);
    if run.model.rows_per_example > 1 {
        return sample_sequences(run, count, &mut rng).await;
    }
    let mut contexts = vec![[0usize; CONTEXT]; count];
    let mut names = vec![String::new(); count];
    let mut finished = vec![false; count];
    for _ in 0..MAX_NAME_LEN {
        let inputs: Vec<f32> = contexts.iter().flat_map(|c| c.iter().map(|&t| t as f32)).collect();
        let logits = run.predict(&inputs, count).await?;
        let classes = logits.len() / count;
        for (r, row) in logits.chunks(classes).enumerate() {
            if finished[r] {
                continue;
            }
            let next = draw(row, &mut rng);
            if next == 0 {
                finished[r] = true;
            } else {
                names[r].push(character(next));
                contexts[r].rotate_left(1);
                contexts[r][CONTEXT - 1] = next;
            }
        }
        if finished.iter().all(|&f| f) {
            break;
        }
    }
    Ok(names)
}

/// A character drawn from the softmax of `logits`; the end marker when the logits are not
/// finite (a model that broke writes nothing rather than noise).
fn draw(logits: &[f32], rng: &mut ChaCha8Rng) -> usize {
    use rand::RngExt;
    let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !top.is_finite() || logits.iter().any(|l| l.is_nan()) {
        return 0;
    }
    let weights: Vec<f64> = logits.iter().map(|&l| ((l - top) as f64).exp()).collect();
    let mut pick = rng.random_range(0.0..weights.iter().sum::<f64>());
    weights
        .iter()
        .position(|&w| {
            pick -= w;
            pick < 0.0
        })
        .unwrap_or(0)
}

/// See [`sample_names`]: all `count` names grow together, one position per forward pass,
/// in eval mode.
async fn sample_sequences<B: Backend>(
    run: &mut Run<B>,
    count: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<String>, NormlabError> {
    use crate::data::names::character;
    let context = run.features;
    let mut inputs = vec![0.0f32; count * context];
    let mut names = vec![String::new(); count];
    let mut finished = vec![false; count];
    for t in 0..context.min(MAX_NAME_LEN + 1) {
        let logits = run.predict(&inputs, count).await?;
        let classes = run.classes;
        for n in 0..count {
            if finished[n] {
                continue;
            }
            let row = (n * context + t) * classes;
            let next = draw(&logits[row..row + classes], rng);
            if next == 0 || t + 1 == context {
                finished[n] = true;
            }
            if next != 0 {
                names[n].push(character(next));
                if t + 1 < context {
                    inputs[n * context + t + 1] = next as f32;
                }
            }
        }
        if finished.iter().all(|&f| f) {
            break;
        }
    }
    Ok(names)
}
