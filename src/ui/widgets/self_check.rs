//! The device self-check: every GPU kernel against the CPU reference on the student's own
//! device (`backend::kernel_check`, the suite the tests run), then a training step of the
//! MLP and the CNN timed on each engine; the result in words, as tables, and as a JSON
//! report for the teacher's class view.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::engine::Engine;
use crate::backend::kernel_check::{check_every_kernel, CaseOutcome};
use crate::data::DatasetId;
use crate::experiment::benchmark::BenchModel;
use crate::experiment::self_check::{
    time_step, DeviceReport, KernelAgreement, StepTime, REPORT_KIND, REPORT_VERSION, STEP_BATCH, TIMED_MODELS,
};
use crate::ui::browser;
use crate::ui::device::{DeviceState, GpuStatus};
use crate::ui::fetch::load_dataset;
use crate::ui::i18n::{lang, pick, words, Lang};
use crate::ui::trainer::Trainer;

#[derive(Clone, Debug, PartialEq)]
enum CheckState {
    Idle,
    /// Cases checked so far and what runs now.
    Running {
        cases: usize,
        doing: (String, String),
    },
    Done {
        report: DeviceReport,
        mismatches: Vec<String>,
    },
}

/// The kernel families' names in Chinese (the report keeps the English ones).
fn kernel_name(kernel: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return kernel.to_string();
    }
    match kernel {
        "matrix product" => "矩阵乘法",
        "convolution" => "卷积",
        "pooling" => "池化",
        "bias gradient" => "偏置梯度",
        "activation" => "激活函数",
        "gather" => "按行取数",
        "cross-entropy loss" => "交叉熵损失",
        "causal attention" => "因果注意力",
        "normalization" => "归一化",
        "dropout" => "丢弃",
        "channel noise" => "通道噪声",
        "gradient clipping" => "梯度裁剪",
        "uploads and views" => "上传与视图",
        other => other,
    }
    .to_string()
}

fn model_name(model: &str, lang: Lang) -> String {
    match (model, lang) {
        ("mlp", _) => "MLP 784-256-256-10 + BN".into(),
        ("cnn", Lang::En) => "lesson 4's CNN + BN".into(),
        ("cnn", Lang::Zh) => "第 4 课的 CNN + BN".into(),
        (other, _) => other.into(),
    }
}

/// Runs the whole check; `state` follows it.
async fn run_check(device: DeviceState, state: RwSignal<CheckState>) {
    let doing = |en: &str, zh: &str, cases: usize| {
        state.set(CheckState::Running { cases, doing: (en.to_string(), zh.to_string()) });
    };
    doing("comparing the GPU's kernels with the CPU's", "正在比较 GPU 与 CPU 的算子", 0);
    let gpu = device.gpu_engine();
    let mut gpu_problem = match device.gpu.get_untracked() {
        GpuStatus::Missing { reason } => Some(reason),
        _ => None,
    };
    let mut outcomes: Vec<CaseOutcome> = Vec::new();
    if let Some(Engine::Gpu(ctx)) = &gpu {
        let mut seen = 0;
        let mut tell = |o: &CaseOutcome| {
            seen += 1;
            state.set(CheckState::Running { cases: seen, doing: (o.name.clone(), o.name.clone()) });
        };
        match check_every_kernel(ctx, &mut tell).await {
            Ok(all) => outcomes = all,
            Err(e) => gpu_problem = Some(e),
        }
    }
    let cases = outcomes.len();
    let mut steps: Vec<StepTime> = Vec::new();
    match load_dataset(DatasetId::FashionMnist).await {
        Ok(data) => {
            let mut engines = vec![(Engine::cpu(), "cpu")];
            if let (Some(g), None) = (&gpu, &gpu_problem) {
                engines.insert(0, (g.clone(), "webgpu"));
            }
            for model in TIMED_MODELS {
                for (engine, code) in &engines {
                    let (m_en, m_zh) = match model {
                        BenchModel::Mlp => ("the MLP", "MLP"),
                        _ => ("the CNN", "CNN"),
                    };
                    let (e_en, e_zh) = if *code == "cpu" { ("CPU", "CPU") } else { ("GPU", "GPU") };
                    doing(
                        &format!("timing a step of {m_en} on the {e_en}"),
                        &format!("正在计时 {m_zh} 在 {e_zh} 上的训练步"),
                        cases,
                    );
                    crate::platform::yield_now().await;
                    match time_step(engine, code, model, &data).await {
                        Ok(step) => steps.push(step),
                        Err(e) if *code == "webgpu" => gpu_problem = Some(e.to_string()),
                        Err(e) => log::warn!("self-check: timing on the CPU failed: {e}"),
                    }
                }
            }
        }
        Err(e) => log::warn!("self-check: the data for the step times did not load: {e}"),
    }
    let mismatches = outcomes.iter().filter_map(|o| o.mismatch.clone()).collect();
    let gpu_name = match (&gpu, device.gpu.get_untracked()) {
        (Some(_), GpuStatus::Ready(adapter)) => Some(adapter.to_string()),
        _ => None,
    };
    let report = DeviceReport {
        kind: REPORT_KIND.into(),
        version: REPORT_VERSION,
        made_ms: browser::epoch_millis(),
        browser: browser::window().and_then(|w| w.navigator().user_agent().ok()).unwrap_or_default(),
        gpu: gpu_name,
        gpu_problem,
        kernels: KernelAgreement::per_kernel(&outcomes),
        steps,
    };
    state.set(CheckState::Done { report, mismatches });
}

#[component]
pub fn SelfCheck() -> impl IntoView {
    let lang = lang();
    let device = expect_context::<DeviceState>();
    let trainer = expect_context::<Trainer>();
    let state = RwSignal::new(CheckState::Idle);
    let running = move || matches!(state.get(), CheckState::Running { .. });
    // The check waits for WebGPU's answer, and for a training job to end (both would
    // share the device and the time measurements).
    let blocked = move || !device.ready() || trainer.busy.get().is_some() || running();
    let start = move |_| {
        if !blocked() {
            spawn_local(run_check(device, state));
        }
    };
    let save = move |_| {
        if let CheckState::Done { report, .. } = state.get_untracked() {
            if let Err(e) = browser::download_text("normlab-device-report.json", "application/json", &report.to_json())
            {
                log::warn!("self-check: saving the report failed: {e}");
            }
        }
    };
    let status = move || {
        let l = lang.get();
        match state.get() {
            CheckState::Idle if !device.ready() => {
                pick(l, "Looking for a WebGPU adapter first…".into(), "正在先查找 WebGPU 适配器…".into())
            }
            CheckState::Idle if trainer.busy.get().is_some() => pick(
                l,
                "A run is training: the check starts when it ends (or after Stop).".into(),
                "有运行正在训练：训练结束（或停止）后才能开始检查。".into(),
            ),
            CheckState::Idle => String::new(),
            CheckState::Running { cases, doing } => pick(
                l,
                format!("{cases} cases checked; now: {}", doing.0),
                format!("已检查 {cases} 个用例；正在进行：{}", doing.1),
            ),
            CheckState::Done { .. } => String::new(),
        }
    };
    let result = move || {
        let CheckState::Done { report, mismatches } = state.get() else { return None };
        let l = lang.get();
        let summary = words(&report.summary(), l).to_string();
        let kernel_rows = report
            .kernels
            .iter()
            .map(|k| {
                let verdict = match (k.passed, l) {
                    (true, Lang::En) => "✓ agrees",
                    (true, Lang::Zh) => "✓ 一致",
                    (false, Lang::En) => "✗ differs",
                    (false, Lang::Zh) => "✗不一致",
                };
                view! {
                    <tr class:failed=!k.passed>
                        <th scope="row">{kernel_name(&k.kernel, l)}</th>
                        <td>{k.cases}</td>
                        <td>{format!("{:.1e}", k.largest_difference)}</td>
                        <td>{format!("{:.0} %", 100.0 * k.tolerance_used)}</td>
                        <td class="verdict-cell">{verdict}</td>
                    </tr>
                }
            })
            .collect_view();
        let step_rows = report
            .steps
            .iter()
            .map(|s| {
                let engine = if s.engine == "cpu" { "CPU" } else { "WebGPU" };
                view! {
                    <tr>
                        <th scope="row">{model_name(&s.model, l)}</th>
                        <td>{engine}</td>
                        <td>{format!("{:.1}", s.step_millis)}</td>
                        <td>{format!("{:.0}", s.batch as f64 * 1000.0 / s.step_millis)}</td>
                    </tr>
                }
            })
            .collect_view();
        let has_kernels = !report.kernels.is_empty();
        let details = (!mismatches.is_empty()).then(|| {
            view! {
                <details class="mismatches">
                    <summary>{pick(l, "What differed".into(), "哪些值不一致".into())}</summary>
                    <pre>{mismatches.join("\n\n")}</pre>
                </details>
            }
        });
        Some(view! {
            <p class="verdict" id="self-check-summary" role="status">{summary}</p>
            {has_kernels.then(|| view! {
                <div class="table-scroll">
                    <table class="numbers self-check" id="self-check-kernels">
                        <caption>{pick(l, "Each kernel on the GPU against the CPU reference".into(), "每个算子在 GPU 上与 CPU 参考实现的比较".into())}</caption>
                        <thead><tr>
                            <th scope="col">{pick(l, "kernel".into(), "算子".into())}</th>
                            <th scope="col">{pick(l, "cases".into(), "用例".into())}</th>
                            <th scope="col">{pick(l, "largest |GPU − CPU|".into(), "最大 |GPU − CPU|".into())}</th>
                            <th scope="col">{pick(l, "of the tolerance".into(), "占容差".into())}</th>
                            <th scope="col">{pick(l, "result".into(), "结果".into())}</th>
                        </tr></thead>
                        <tbody>{kernel_rows}</tbody>
                    </table>
                </div>
            })}
            {details}
            <div class="table-scroll">
                <table class="numbers self-check" id="self-check-steps">
                    <caption>{pick(l, format!("One training step at batch {STEP_BATCH} (Adam)"), format!("批大小 {STEP_BATCH} 时的一个训练步（Adam）"))}</caption>
                    <thead><tr>
                        <th scope="col">{pick(l, "model".into(), "模型".into())}</th>
                        <th scope="col">{pick(l, "engine".into(), "引擎".into())}</th>
                        <th scope="col">{pick(l, "ms per step".into(), "每步毫秒".into())}</th>
                        <th scope="col">{pick(l, "images per second".into(), "每秒图像数".into())}</th>
                    </tr></thead>
                    <tbody>{step_rows}</tbody>
                </table>
            </div>
            <p><button class="small" id="self-check-save" on:click=save>{pick(l, "Save the report (JSON)".into(), "保存报告（JSON）".into())}</button></p>
        })
    };
    view! {
        <div class="widget self-check">
            <div class="controls">
                <button class="train" id="self-check-run" on:click=start prop:disabled=blocked>
                    {move || match (state.get(), lang.get()) {
                        (CheckState::Done { .. }, Lang::En) => "Check again",
                        (CheckState::Done { .. }, Lang::Zh) => "再检查一次",
                        (_, Lang::En) => "Check this device",
                        (_, Lang::Zh) => "检查这台设备",
                    }}
                </button>
                <span class="status" aria-live="polite">{status}</span>
            </div>
            {result}
        </div>
    }
}
