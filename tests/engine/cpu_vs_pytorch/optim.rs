//! SGD and Adam steps and gradient clipping against PyTorch.

use super::*;

// ---------------------------------------------------------------------------------------
// Optimizers: three steps from the same start as PyTorch
// ---------------------------------------------------------------------------------------

/// Runs `attrs.steps` optimizer steps with the fixture's gradients, comparing the
/// parameter after each with PyTorch's.
fn check_optimizer(name: &str, step: impl Fn(&mut CpuBackend, [TensorId; 4], usize)) {
    let f = Fixture::load(name);
    let steps = f.attr("steps").as_u64().expect("a step count") as u32;
    let lr = f.attr_f32("lr");
    let param0 = f.t("param0");
    let len = param0.len();
    let mut b = CpuBackend::new();
    let param = tensor_from(&mut b, &param0, "param");
    let grad = b.alloc(len, "grad").unwrap();
    let state1 = b.alloc(len, "state1").unwrap();
    let state2 = b.alloc(len, "state2").unwrap();
    for t in 1..=steps {
        b.begin_step(StepScalars { learning_rate: lr, step: t });
        b.upload(grad, &f.t(&format!("grad{t}")));
        step(&mut b, [param, grad, state1, state2], len);
        assert_close(&format!("{name} param{t}"), &read(&mut b, param, len), &f.t(&format!("param{t}")), RTOL, ATOL);
    }
}

fn check_sgd(name: &str) {
    let f = Fixture::load(name);
    assert_eq!((f.attr_f32("dampening"), f.attr_bool("nesterov")), (0.0, false));
    let hyper = SgdHyper { momentum: f.attr_f32("momentum"), weight_decay: f.attr_f32("weight_decay") };
    check_optimizer(name, |b, [p, g, v, _], len| b.sgd_step(p, g, v, len, hyper));
}

fn check_adam(name: &str) {
    let f = Fixture::load(name);
    assert!(!f.attr_bool("amsgrad") && !f.attr_bool("decoupled_weight_decay"));
    let betas = f.attr("betas").as_array().expect("betas");
    let hyper = AdamHyper {
        beta1: betas[0].as_f64().unwrap() as f32,
        beta2: betas[1].as_f64().unwrap() as f32,
        eps: f.attr_f32("eps"),
        weight_decay: f.attr_f32("weight_decay"),
    };
    check_optimizer(name, |b, [p, g, m, v], len| b.adam_step(p, g, m, v, len, hyper));
}

#[test]
fn sgd_momentum_weight_decay() {
    check_sgd("sgd__momentum_wd");
}

#[test]
fn sgd_plain() {
    check_sgd("sgd__plain");
}

#[test]
fn adam_lr1e_3() {
    check_adam("adam__lr1e-3");
}

#[test]
fn adam_lr0_1() {
    check_adam("adam__lr0.1");
}

#[test]
fn adam_lr1e_3_weight_decay() {
    check_adam("adam__lr1e-3_wd1e-2");
}

// ---------------------------------------------------------------------------------------
// Gradient clipping: clip_grad_norm_ against PyTorch, clip_grad_value_ against its definition
// ---------------------------------------------------------------------------------------

/// Metrics slot the clipping tests write; slots 0 and 2 and the first two floats of
/// slot 1 (loss, correct count) must stay NaN.
const CLIP_SLOT: usize = 1;

/// Reads three metrics slots and checks that clipping wrote only `[4·slot + 2]` and
/// `[4·slot + 3]`; returns (norm before, norm after).
fn clip_metrics(b: &mut CpuBackend, metrics: TensorId, name: &str) -> (f32, f32) {
    let m = read(b, metrics, 3 * METRICS_PER_SLOT);
    let written = [METRICS_PER_SLOT * CLIP_SLOT + 2, METRICS_PER_SLOT * CLIP_SLOT + 3];
    for (i, v) in m.iter().enumerate() {
        if !written.contains(&i) {
            assert!(v.is_nan(), "{name}: metrics[{i}] outside the norm entries of slot {CLIP_SLOT} became {v}");
        }
    }
    (m[written[0]], m[written[1]])
}

/// The L2 norm of several vectors together, in f64.
fn global_norm(vectors: &[Vec<f32>]) -> f32 {
    vectors.iter().flatten().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt() as f32
}

/// The fixture's `norm_type`: 1.0, 2.0 or "inf".
fn fixture_norm_type(f: &Fixture) -> ClipNorm {
    match f.attr("norm_type") {
        serde_json::Value::String(s) if s == "inf" => ClipNorm::Inf,
        v if v.as_f64() == Some(1.0) => ClipNorm::L1,
        v if v.as_f64() == Some(2.0) => ClipNorm::L2,
        v => panic!("{}: norm_type {v}", f.case),
    }
}

/// The fixture's norm of several vectors together, in f64.
fn norm_of(vectors: &[Vec<f32>], norm: ClipNorm) -> f32 {
    let values = vectors.iter().flatten().map(|&v| v.abs() as f64);
    match norm {
        ClipNorm::L1 => values.sum::<f64>() as f32,
        ClipNorm::L2 => values.map(|v| v * v).sum::<f64>().sqrt() as f32,
        ClipNorm::Inf => values.fold(0.0, f64::max) as f32,
    }
}

/// Clips the fixture's gradients on the CPU backend; returns the gradients after and
/// the norms before and after.
fn clip_fixture(f: &Fixture, name: &str) -> (Vec<Vec<f32>>, f32, f32) {
    assert_eq!(f.attr_f32("clip_coef_eps"), normlab::backend::cpu::clip::CLIP_COEF_EPS);
    let clip = GradClip::Norm { max_norm: f.attr_f32("max_norm"), norm_type: fixture_norm_type(f) };
    let nan_at =
        f.attr("nan_at").as_array().map(|a| (a[0].as_u64().unwrap() as usize, a[1].as_u64().unwrap() as usize));
    let mut b = CpuBackend::new();
    let grads: Vec<(TensorId, usize)> = ["grad_a", "grad_b", "grad_c"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut data = f.t(n);
            if let Some((_, element)) = nan_at.filter(|&(tensor, _)| tensor == i) {
                data[element] = f32::NAN;
            }
            (tensor_from(&mut b, &data, n), data.len())
        })
        .collect();
    let metrics = nan_tensor(&mut b, 3 * METRICS_PER_SLOT, "metrics");
    b.clip_gradients(&grads, clip, metrics, CLIP_SLOT);
    let outs = grads.iter().map(|&(id, len)| read(&mut b, id, len)).collect();
    let (before, after) = clip_metrics(&mut b, metrics, name);
    (outs, before, after)
}

fn check_clip_grad_norm(name: &str) {
    let f = Fixture::load(name);
    let (norm_type, max_norm) = (fixture_norm_type(&f), f.attr_f32("max_norm"));
    let (outs, before, after) = clip_fixture(&f, name);
    let mut wants = Vec::new();
    for (got, n) in outs.iter().zip(["grad_a", "grad_b", "grad_c"]) {
        let want = f.t(&format!("{n}_out"));
        assert_close(&format!("{name} {n}"), got, &want, RTOL, 1e-6);
        wants.push(want);
    }
    assert_close(&format!("{name} total_norm"), &[before], &[f.scalar("total_norm")], RTOL, ATOL);
    // The norm after clipping is that of PyTorch's clipped gradients.
    assert_close(&format!("{name} norm after"), &[after], &[norm_of(&wants, norm_type)], RTOL, ATOL);
    if f.attr_bool("clipped") {
        assert!(after <= max_norm && after > max_norm * (1.0 - 1e-5), "{name}: norm after {after}, max {max_norm}");
    } else {
        assert_eq!(after, before, "{name}: a norm under max_norm is left alone");
    }
}

#[test]
fn clip_grad_norm_max_norm_1_clips() {
    check_clip_grad_norm("clip_grad_norm__max_norm_1");
}

#[test]
fn clip_grad_norm_max_norm_100_leaves_gradients_alone() {
    check_clip_grad_norm("clip_grad_norm__max_norm_100");
}

#[test]
fn clip_grad_norm_in_the_l1_norm_matches_pytorch() {
    check_clip_grad_norm("clip_grad_norm__l1_max_norm_1");
    check_clip_grad_norm("clip_grad_norm__l1_max_norm_100");
}

#[test]
fn clip_grad_norm_in_the_infinity_norm_matches_pytorch() {
    check_clip_grad_norm("clip_grad_norm__inf_max_norm_0.5");
    check_clip_grad_norm("clip_grad_norm__inf_max_norm_100");
}

#[test]
fn one_nan_gradient_makes_every_clipped_gradient_nan_as_in_pytorch() {
    for name in ["clip_grad_norm__nan_l2", "clip_grad_norm__nan_l1", "clip_grad_norm__nan_inf"] {
        let f = Fixture::load(name);
        assert!(f.attr_bool("every_output_is_nan") && f.attr_bool("total_norm_is_nan"), "{name}: PyTorch's facts");
        let (outs, before, after) = clip_fixture(&f, name);
        let finite = outs.iter().flatten().filter(|v| !v.is_nan()).count();
        assert_eq!(finite, 0, "{name}: {finite} clipped gradient elements stayed finite");
        assert!(before.is_nan() && after.is_nan(), "{name}: norms {before}, {after}");
    }
}

/// Random gradients of odd lengths with some elements far outside ±clip.
fn clip_test_gradients() -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    [1, 7, 300].iter().map(|&len| (0..len).map(|_| rng.random_range(-3.0f32..3.0)).collect()).collect()
}

#[test]
fn clip_grad_value_clamps_each_element() {
    // torch.nn.utils.clip_grad_value_(params, clip) is an element-wise clamp_(−clip, clip).
    let clip = 0.5;
    let mut data = clip_test_gradients();
    data[1][0] = clip; // exactly on the bounds: unchanged
    data[1][1] = -clip;
    let mut b = CpuBackend::new();
    let grads: Vec<(TensorId, usize)> = data.iter().map(|d| (tensor_from(&mut b, d, "grad"), d.len())).collect();
    let metrics = nan_tensor(&mut b, 3 * METRICS_PER_SLOT, "metrics");
    b.clip_gradients(&grads, GradClip::Value { clip }, metrics, CLIP_SLOT);

    let want: Vec<Vec<f32>> = data.iter().map(|d| d.iter().map(|v| v.clamp(-clip, clip)).collect()).collect();
    for (i, (&(id, len), w)) in grads.iter().zip(&want).enumerate() {
        assert_close(&format!("clip value grad {i}"), &read(&mut b, id, len), w, 0.0, 0.0);
    }
    let (before, after) = clip_metrics(&mut b, metrics, "clip value");
    assert_close("clip value norm before", &[before], &[global_norm(&data)], 1e-6, 0.0);
    assert_close("clip value norm after", &[after], &[global_norm(&want)], 1e-6, 0.0);
    assert!(after < before);
}

#[test]
fn clip_none_only_measures() {
    let data = clip_test_gradients();
    let mut b = CpuBackend::new();
    let grads: Vec<(TensorId, usize)> = data.iter().map(|d| (tensor_from(&mut b, d, "grad"), d.len())).collect();
    let metrics = nan_tensor(&mut b, 3 * METRICS_PER_SLOT, "metrics");
    b.clip_gradients(&grads, GradClip::None, metrics, CLIP_SLOT);
    for (&(id, len), d) in grads.iter().zip(&data) {
        assert_eq!(&read(&mut b, id, len), d, "GradClip::None changed a gradient");
    }
    let (before, after) = clip_metrics(&mut b, metrics, "clip none");
    assert_close("clip none norm", &[before], &[global_norm(&data)], 1e-6, 0.0);
    assert_eq!(after, before);
}

#[test]
fn grad_clip_serializes_with_a_kind_tag() {
    for (clip, json) in [
        (GradClip::None, r#"{"kind":"none"}"#),
        (GradClip::norm(1.0), r#"{"kind":"norm","max_norm":1.0}"#),
        (
            GradClip::Norm { max_norm: 1.0, norm_type: ClipNorm::Inf },
            r#"{"kind":"norm","max_norm":1.0,"norm_type":"inf"}"#,
        ),
        (GradClip::Value { clip: 0.5 }, r#"{"kind":"value","clip":0.5}"#),
    ] {
        assert_eq!(serde_json::to_string(&clip).unwrap(), json);
        assert_eq!(serde_json::from_str::<GradClip>(json).unwrap(), clip);
    }
}
