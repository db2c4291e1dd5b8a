//! A whole MLP with BatchNorm against one PyTorch training pass.

use super::*;

// ---------------------------------------------------------------------------------------
// A whole model: Linear → BN → ReLU → Linear → BN → ReLU → Linear, one training pass
// ---------------------------------------------------------------------------------------

#[test]
fn mlp_bn_train_matches_pytorch() {
    let f = Fixture::load("mlp_bn__train");
    let (batch, inputs) = (f.shape("x")[0], f.shape("x")[1]);
    let config = MlpConfig {
        inputs,
        hidden: vec![16, 16],
        classes: 5,
        norm: NormKind::Batch,
        activation: Activation::Relu,
        bias: true,
        norm_momentum: Some(f.attr_f32("bn_momentum")),
    };
    assert_eq!(inputs, 12);
    let mut b = CpuBackend::new();
    let mut model = Model::mlp(&mut b, &config, batch, &mut ChaCha8Rng::seed_from_u64(0)).expect("the model builds");

    // Overwrite the seeded initialisation with PyTorch's parameters. Model::params() is
    // linear0.weight, linear0.bias, norm0.gamma, norm0.beta, linear1…, which is PyTorch's
    // named_parameters() order l1.weight, l1.bias, bn1.weight, bn1.bias, l2…
    let names: Vec<String> =
        f.attr("parameters").as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    let params = model.params();
    assert_eq!(params.len(), names.len(), "parameter count");
    for (p, name) in params.iter().zip(&names) {
        let value = f.t(name);
        assert_eq!(p.len, value.len(), "length of {name}");
        b.upload(p.value, &value);
        b.upload(p.grad, &vec![f32::NAN; p.len]);
    }
    let norms: Vec<RunningStats> =
        model.norms().map(|n| n.running.expect("BatchNorm keeps running estimates")).collect();
    assert_eq!(norms.len(), 2);
    for (i, r) in norms.iter().enumerate() {
        b.upload(r.mean, &f.t(&format!("bn{}.running_mean", i + 1)));
        b.upload(r.var, &f.t(&format!("bn{}.running_var", i + 1)));
    }

    let x = tensor_from(&mut b, &f.t("x"), "x");
    let labels = tensor_from(&mut b, &f.t("labels"), "labels");
    let metrics = nan_tensor(&mut b, METRICS_PER_SLOT, "metrics");
    let logits = model.forward(&mut b, x, batch, Phase::Train);
    b.cross_entropy(logits, labels, Some(model.dlogits), metrics, 0, batch, config.classes);
    model.backward(&mut b, batch);

    // Each result against the fixture tensor of the same length.
    let mut expect = |id: TensorId, key: &str| {
        let want = f.t(key);
        assert_close(&format!("mlp_bn {key}"), &read(&mut b, id, want.len()), &want, RTOL, ATOL);
    };
    expect(logits, "logits");
    expect(metrics, "loss");
    for (p, name) in params.iter().zip(&names) {
        expect(p.grad, &format!("grad.{name}"));
    }
    for (i, r) in norms.iter().enumerate() {
        expect(r.mean, &format!("bn{}.running_mean_out", i + 1));
        expect(r.var, &format!("bn{}.running_var_out", i + 1));
    }
}

// ---------------------------------------------------------------------------------------
// The causal transformer, pre-LayerNorm, one training pass on padded sequences
// ---------------------------------------------------------------------------------------

#[test]
fn transformer_pre_ln_train_matches_pytorch() {
    use normlab::nn::{Architecture, ModelChoices, ModelConfig, NormPosition};

    let f = Fixture::load("transformer__pre_ln_train");
    let attr = |key: &str| f.attr(key).as_u64().unwrap_or_else(|| panic!("attr {key}")) as usize;
    let (vocab, dim, heads, blocks, context, batch) =
        (attr("vocab"), attr("dim"), attr("heads"), attr("blocks"), attr("context"), attr("batch"));
    assert_eq!((f.attr("norm").as_str(), f.attr("norm_position").as_str()), (Some("layer"), Some("pre")));
    assert_eq!(f.attr("activation").as_str(), Some("relu"));
    assert_eq!(f.shape("x"), [batch, context]);
    let config = ModelConfig {
        choices: ModelChoices {
            architecture: Architecture::Transformer { dim, heads, blocks, context, norm_position: NormPosition::Pre },
            norms: vec![NormKind::Layer],
            activation: Activation::Relu,
            ..ModelChoices::default()
        },
        input: (context, 1, 1),
        classes: vocab,
    };
    let mut b = CpuBackend::new();
    let mut model = Model::build(&mut b, &config, batch, &mut ChaCha8Rng::seed_from_u64(0)).expect("the model builds");

    // Model::params() is the embedding table and the positions, then per block ln_1, the
    // attention's qkv and output products, ln_2, the MLP's two products, then ln_f and the
    // head: the order the generator registers its modules in (GPT-2's names).
    let names: Vec<String> =
        f.attr("parameters").as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    let params = model.params();
    assert_eq!(params.len(), names.len(), "parameter count");
    assert_eq!(params.len(), 2 + 12 * blocks + 4);
    for (p, name) in params.iter().zip(&names) {
        let value = f.t(name);
        assert_eq!(p.len, value.len(), "length of {name}");
        b.upload(p.value, &value);
        b.upload(p.grad, &vec![f32::NAN; p.len]);
    }

    let rows = batch * context;
    let targets = f.t("targets");
    assert!(targets.contains(&-1.0), "the fixture has padding");
    let x = tensor_from(&mut b, &f.t("x"), "token ids");
    // In the model's own targets buffer, as a run gathers them (a BatchNorm would read it).
    b.upload(model.targets, &targets);
    let metrics = nan_tensor(&mut b, METRICS_PER_SLOT, "metrics");
    let logits = model.forward(&mut b, x, batch, Phase::Train);
    b.cross_entropy(logits, model.targets, Some(model.dlogits), metrics, 0, rows, vocab);
    model.backward(&mut b, batch);

    let mut expect = |id: TensorId, key: &str| {
        let want = f.t(key);
        assert_close(&format!("transformer {key}"), &read(&mut b, id, want.len()), &want, RTOL, ATOL);
    };
    expect(logits, "logits");
    expect(metrics, "loss");
    for (p, name) in params.iter().zip(&names) {
        expect(p.grad, &format!("grad.{name}"));
    }
}
