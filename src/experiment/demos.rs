//! Small computations the lessons show step by step, run by the lab's own kernels on any
//! backend (the page uses the CPU reference, whose numbers the GPU kernels are tested
//! against): one batch through BatchNorm (lesson 2), one image's normalized value across
//! many batches and a run of dropout masks (lesson 6).

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::backend::{Backend, NormGrads, NormMode, NormTensors, RunningStats, StepScalars};
use crate::data::Dataset;
use crate::error::NormlabError;
use crate::nn::{Architecture, Model, ModelChoices, ModelConfig, NormKind, Phase, Placement};

/// Every intermediate of one training-mode BatchNorm forward and backward pass over an
/// `[N, C, S]` batch (see [`batch_norm_step`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchNormStep {
    /// Per channel: batch mean, biased batch variance, 1/√(σ² + ε).
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub rstd: Vec<f32>,
    /// Per element.
    pub x_hat: Vec<f32>,
    pub y: Vec<f32>,
    pub dx: Vec<f32>,
    /// Per channel.
    pub dgamma: Vec<f32>,
    pub dbeta: Vec<f32>,
    /// The running estimates after this batch, starting from PyTorch's 0 and 1 with
    /// momentum 0.1.
    pub running_mean: Vec<f32>,
    pub running_var: Vec<f32>,
}

/// One batch `x` of shape `(n, c, s)` through `nn.BatchNorm` in training mode, and the
/// gradients for the upstream gradient `dy`.
pub async fn batch_norm_step<B: Backend>(
    b: &mut B,
    (n, c, s): (usize, usize, usize),
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    dy: &[f32],
) -> Result<BatchNormStep, NormlabError> {
    let geometry = NormKind::Batch.geometry(n, c, s, true)?.expect("BatchNorm has a geometry");
    let len = n * c * s;
    if x.len() != len || dy.len() != len || gamma.len() != c || beta.len() != c {
        return Err(NormlabError::InvalidConfig(crate::words!(
            "a batch of shape ({n}, {c}, {s}) needs {len} values",
            "形状为 ({n}, {c}, {s}) 的批需要 {len} 个值"
        )));
    }
    let mut tensor = |size: usize, data: Option<&[f32]>, label: &str| -> Result<_, NormlabError> {
        let t = b.alloc(size, label)?;
        if let Some(d) = data {
            b.upload(t, d);
        }
        Ok(t)
    };
    let tensors = NormTensors {
        x: tensor(len, Some(x), "x")?,
        y: tensor(len, None, "y")?,
        gamma: tensor(c, Some(gamma), "gamma")?,
        beta: tensor(c, Some(beta), "beta")?,
        mean: tensor(c, None, "mean")?,
        rstd: tensor(c, None, "rstd")?,
        running: Some(RunningStats {
            mean: tensor(c, None, "running_mean")?,
            var: tensor(c, Some(&vec![1.0; c]), "running_var")?,
            batches_tracked: tensor(1, None, "num_batches_tracked")?,
        }),
        activation: None,
        mask: None,
    };
    let grads = NormGrads {
        dy: tensor(len, Some(dy), "dy")?,
        dx: tensor(len, None, "dx")?,
        dgamma: tensor(c, None, "dgamma")?,
        dbeta: tensor(c, None, "dbeta")?,
        stat_grad: tensor(geometry.stat_grad_len(), None, "stat_grad")?,
        residual: None,
    };
    let mode = NormMode::training(Some(0.1));
    b.norm_forward(&geometry, mode, &tensors);
    b.norm_backward(&geometry, mode, &tensors, &grads);
    b.submit();
    let running = tensors.running.expect("made above");
    let mean = b.read_later(tensors.mean).await?;
    let rstd = b.read_later(tensors.rstd).await?;
    let x_hat = (0..len).map(|i| (x[i] - mean[(i / s) % c]) * rstd[(i / s) % c]).collect();
    Ok(BatchNormStep {
        var: rstd.iter().map(|r| 1.0 / (r * r) - geometry.eps).collect(),
        mean,
        rstd,
        x_hat,
        y: b.read_later(tensors.y).await?,
        dx: b.read_later(grads.dx).await?,
        dgamma: b.read_later(grads.dgamma).await?,
        dbeta: b.read_later(grads.dbeta).await?,
        running_mean: b.read_later(running.mean).await?,
        running_var: b.read_later(running.var).await?,
    })
}

/// Lesson 6: the training image `image` put into `draws` random batches of `batch_size`
/// (the rest drawn from the training split), through a freshly initialised linear layer
/// of `units` and a BatchNorm in training mode: the normalized value x̂ of `unit` that
/// the image gets in each batch. Its spread is the noise BatchNorm adds.
#[allow(clippy::too_many_arguments)]
pub async fn normalized_across_batches<B: Backend>(
    b: &mut B,
    data: &Dataset,
    image: usize,
    unit: usize,
    units: usize,
    draws: usize,
    batch_size: usize,
    seed: u64,
) -> Result<Vec<f32>, NormlabError> {
    let n = data.train.len;
    if image >= n || unit >= units || batch_size < 2 || batch_size > n {
        return Err(NormlabError::InvalidConfig(crate::words!(
            "image {image}, unit {unit} of {units}, batches of {batch_size} from {n} images",
            "图像 {image}、{units} 个单元中的第 {unit} 个、从 {n} 张图像中取大小为 {batch_size} 的批"
        )));
    }
    let config = ModelConfig {
        choices: ModelChoices {
            architecture: Architecture::Mlp { hidden: vec![units] },
            norms: vec![NormKind::Batch],
            placement: Placement::Before,
            activation: crate::backend::Activation::Relu,
            ..ModelChoices::default()
        },
        input: (data.channels, data.height, data.width),
        classes: data.classes,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = Model::build(b, &config, batch_size, &mut rng)?;
    let y = model.probe_points().norms.first().map(|p| p.y).expect("the layer has a BatchNorm");
    let x = b.alloc(batch_size * data.features(), "batch")?;
    let features = data.features();
    let mut values = Vec::with_capacity(draws);
    for _ in 0..draws {
        // The image in row 0, the others drawn without it.
        let others = sample(&mut rng, n - 1, batch_size - 1);
        let mut rows = vec![image];
        rows.extend(others.iter().map(|r| if r >= image { r + 1 } else { r }));
        let batch: Vec<f32> =
            rows.iter().flat_map(|&r| data.train.images[r * features..(r + 1) * features].iter().copied()).collect();
        b.upload(x, &batch);
        model.forward(b, x, batch_size, Phase::BatchStats);
        b.submit();
        // γ = 1 and β = 0 at initialisation, so the BatchNorm's output is x̂.
        values.push(b.read_later(y).await?[unit]);
    }
    Ok(values)
}

/// Lesson 6: the inverted-dropout masks (0 or 1/(1 − p)) of `units` units over `steps`
/// training steps, from the lab's dropout kernel; one row per step.
pub async fn dropout_masks<B: Backend>(
    b: &mut B,
    units: usize,
    steps: usize,
    p: f32,
    stream: u32,
) -> Result<Vec<Vec<f32>>, NormlabError> {
    let ones = b.alloc(units, "ones")?;
    b.upload(ones, &vec![1.0; units]);
    let (y, mask) = (b.alloc(units, "y")?, b.alloc(units, "mask")?);
    let mut rows = Vec::with_capacity(steps);
    for step in 1..=steps {
        b.begin_step(StepScalars { learning_rate: 0.0, step: step as u32 });
        b.dropout_forward(ones, y, mask, units, p, stream);
        b.submit();
        rows.push(b.read_later(mask).await?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::CpuBackend;

    #[test]
    fn the_worked_example_of_lesson_2() {
        let x = [1.0, 2.0, 3.0, 6.0];
        let step = pollster::block_on(batch_norm_step(
            &mut CpuBackend::new(),
            (4, 1, 1),
            &x,
            &[1.0],
            &[0.0],
            &[0.5, -0.2, 0.1, 0.3],
        ))
        .unwrap();
        assert_eq!(step.mean, vec![3.0]);
        assert!((step.var[0] - 3.5).abs() < 1e-5);
        let expected = [-1.069, -0.535, 0.0, 1.604];
        assert!(step.x_hat.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-3), "{:?}", step.x_hat);
        // The input gradient sums to zero and is orthogonal to x̂.
        assert!(step.dx.iter().sum::<f32>().abs() < 1e-6);
        assert!(step.dx.iter().zip(&step.x_hat).map(|(d, h)| d * h).sum::<f32>().abs() < 1e-5);
        // Running estimates: 0.9·0 + 0.1·3, and 0.9·1 + 0.1·(14/3) with the unbiased variance.
        assert!((step.running_mean[0] - 0.3).abs() < 1e-6);
        assert!((step.running_var[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-5);
    }

    #[test]
    fn dropout_masks_are_zero_or_doubled_and_change_every_step() {
        let masks = pollster::block_on(dropout_masks(&mut CpuBackend::new(), 64, 5, 0.5, 7)).unwrap();
        assert!(masks.iter().flatten().all(|&m| m == 0.0 || m == 2.0));
        assert_ne!(masks[0], masks[1]);
        let kept = masks.iter().flatten().filter(|&&m| m > 0.0).count() as f32 / (64.0 * 5.0);
        assert!((kept - 0.5).abs() < 0.1, "kept {kept}");
    }
}
