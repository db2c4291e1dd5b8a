//! The device self-check's report: whether this device's GPU kernels agree with the CPU
//! reference (kernel by kernel, at the suite's tolerances) and how long a training step
//! takes on each engine. A student saves it as JSON and a teacher collects the class's
//! reports in the class view, so its form is versioned and read back strictly.

use serde::{Deserialize, Serialize};

use super::benchmark::{time_training_steps, BenchModel, BenchSchedule};
use super::Run;
use crate::backend::engine::{AnyBackend, Engine};
use crate::backend::kernel_check::{CaseOutcome, Kernel};
use crate::data::Dataset;
use crate::error::{NormlabError, Words};

/// The batch the step times are measured at.
pub const STEP_BATCH: usize = 64;
/// The models timed, in the report's order.
pub const TIMED_MODELS: [BenchModel; 2] = [BenchModel::Mlp, BenchModel::Cnn];
/// Two warm-up steps, then two timed: enough to see a tenfold difference between engines
/// without keeping a software GPU (seconds per CNN step) busy for a minute.
const SCHEDULE: BenchSchedule = BenchSchedule { steps_per_block: 2, blocks: 1 };

/// What the `kind` field of every report says, so that a class view tells a device report
/// from a run export.
pub const REPORT_KIND: &str = "normlab-device-report";
/// The report format's version.
pub const REPORT_VERSION: u32 = 1;

/// One device's self-check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// Always [`REPORT_KIND`].
    pub kind: String,
    pub version: u32,
    /// Milliseconds since the Unix epoch when the check finished.
    pub made_ms: f64,
    /// The browser's user agent.
    pub browser: String,
    /// The WebGPU adapter in words, or None when the page found none.
    pub gpu: Option<String>,
    /// Why there is no GPU, or why its check could not finish (a device error), in words.
    #[serde(default)]
    pub gpu_problem: Option<String>,
    /// Each kernel family's agreement with the CPU; empty without a GPU.
    pub kernels: Vec<KernelAgreement>,
    /// Training-step times, one per model and engine measured.
    pub steps: Vec<StepTime>,
}

/// One kernel family (e.g. "matmul", "norm"), over all the cases that exercise it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelAgreement {
    pub kernel: String,
    pub cases: usize,
    /// The largest |GPU − CPU| over every value of every case.
    pub largest_difference: f64,
    /// The worst case's largest |GPU − CPU| / (atol + rtol·|CPU|): at most 1 passes.
    pub tolerance_used: f64,
    pub passed: bool,
}

/// One training step's wall time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    /// `mlp` or `cnn` (the benchmark's models, see `experiment::benchmark::BenchModel`).
    pub model: String,
    /// `webgpu` or `cpu`, as a run's link names engines.
    pub engine: String,
    pub batch: usize,
    pub step_millis: f64,
}

impl KernelAgreement {
    /// Each kernel family's cases folded into one line, in the order the check ran them.
    pub fn per_kernel(outcomes: &[CaseOutcome]) -> Vec<KernelAgreement> {
        let mut kernels: Vec<(Kernel, KernelAgreement)> = Vec::new();
        for o in outcomes {
            let at = match kernels.iter().position(|(k, _)| *k == o.kernel) {
                Some(i) => i,
                None => {
                    let fresh = KernelAgreement {
                        kernel: o.kernel.name().to_string(),
                        cases: 0,
                        largest_difference: 0.0,
                        tolerance_used: 0.0,
                        passed: true,
                    };
                    kernels.push((o.kernel, fresh));
                    kernels.len() - 1
                }
            };
            let k = &mut kernels[at].1;
            k.cases += 1;
            k.largest_difference = k.largest_difference.max(o.largest_difference);
            k.tolerance_used = k.tolerance_used.max(o.tolerance_used);
            k.passed &= o.passed();
        }
        kernels.into_iter().map(|(_, k)| k).collect()
    }
}

impl BenchModel {
    /// The report's name for it.
    pub fn code(self) -> &'static str {
        match self {
            BenchModel::Cnn => "cnn",
            BenchModel::Mlp => "mlp",
            BenchModel::Transformer => "transformer",
        }
    }
}

/// Times a training step of `model` at [`STEP_BATCH`] on `engine` (named `engine_code`
/// in the report: `webgpu` or `cpu`).
pub async fn time_step(
    engine: &Engine,
    engine_code: &str,
    model: BenchModel,
    dataset: &Dataset,
) -> Result<StepTime, NormlabError> {
    let config = model.config(STEP_BATCH);
    let mut run = Run::new(engine.backend(), &config, dataset)?;
    let counters = |r: &Run<AnyBackend>| r.backend.counters();
    let timing = time_training_steps(&mut run, SCHEDULE, counters).await?;
    Ok(StepTime {
        model: model.code().into(),
        engine: engine_code.into(),
        batch: STEP_BATCH,
        step_millis: timing.ms_per_step,
    })
}

/// A step time as people say it: 4.1 ms, 90 ms, 3.2 s.
fn duration(millis: f64) -> String {
    if millis >= 1000.0 {
        format!("{:.1} s", millis / 1000.0)
    } else if millis >= 10.0 {
        format!("{millis:.0} ms")
    } else {
        format!("{millis:.1} ms")
    }
}

impl DeviceReport {
    /// What the check found, in a few sentences: whether the GPU agrees with the CPU
    /// reference, and the step times on each engine.
    pub fn summary(&self) -> Words {
        let mut en = Vec::new();
        let mut zh = Vec::new();
        let total = self.kernels.len();
        let largest = self.kernels.iter().map(|k| k.largest_difference).fold(0.0, f64::max);
        let cases: usize = self.kernels.iter().map(|k| k.cases).sum();
        match (&self.gpu, &self.gpu_problem) {
            (None, problem) => {
                let why = problem.as_deref().unwrap_or("no adapter");
                en.push(format!(
                    "This browser offers no usable WebGPU ({why}), so the lab trains on the CPU engine here."
                ));
                // The browser's reason is in English; the Chinese sentence goes without it.
                zh.push("这个浏览器没有可用的 WebGPU，所以实验室在这里用 CPU 引擎训练。".to_string());
            }
            (Some(gpu), Some(problem)) => {
                en.push(format!("The check of your GPU ({gpu}) could not finish: {problem}. Train on the CPU engine on this device."));
                zh.push(format!("对你的 GPU（{gpu}）的检查没能完成：{problem}。在这台设备上请用 CPU 引擎训练。"));
            }
            (Some(gpu), None) if self.gpu_agrees() => {
                en.push(format!(
                    "Your GPU ({gpu}) computes every one of the lab's {total} kernels within the tests' tolerance of the CPU reference ({cases} cases; largest difference {largest:.1e})."
                ));
                zh.push(format!(
                    "你的 GPU（{gpu}）计算实验室全部 {total} 个算子的结果都在测试容差之内，与 CPU 参考实现一致（{cases} 个用例；最大差异 {largest:.1e}）。"
                ));
            }
            (Some(gpu), None) => {
                let failed: Vec<&str> = self.kernels.iter().filter(|k| !k.passed).map(|k| k.kernel.as_str()).collect();
                let n = failed.len();
                let names = failed.join(", ");
                en.push(format!(
                    "Your GPU ({gpu}) computes {n} of the lab's {total} kernels differently from the CPU reference ({names}): its results cannot be trusted, so train on the CPU engine on this device (the engine switch at the top) and tell your teacher."
                ));
                zh.push(format!(
                    "你的 GPU（{gpu}）有 {n} 个算子（共 {total} 个）的结果与 CPU 参考实现不一致（{names}）：它的结果不可信，请在这台设备上用 CPU 引擎训练（页面顶部的引擎开关），并告诉老师。"
                ));
            }
        }
        for model in TIMED_MODELS {
            let (name_en, name_zh) = match model {
                BenchModel::Mlp => ("An MLP step", "MLP 的一个训练步"),
                _ => ("A CNN step", "CNN 的一个训练步"),
            };
            let gpu = self.step_millis(model.code(), "webgpu");
            let cpu = self.step_millis(model.code(), "cpu");
            match (gpu, cpu) {
                (Some(g), Some(c)) => {
                    let (g, c) = (duration(g), duration(c));
                    en.push(format!("{name_en} at batch {STEP_BATCH} takes {g} on the GPU and {c} on the CPU."));
                    zh.push(format!("批大小 {STEP_BATCH} 时，{name_zh}在 GPU 上用 {g}，在 CPU 上用 {c}。"));
                }
                (None, Some(c)) => {
                    let c = duration(c);
                    en.push(format!("{name_en} at batch {STEP_BATCH} takes {c} on the CPU."));
                    zh.push(format!("批大小 {STEP_BATCH} 时，{name_zh}在 CPU 上用 {c}。"));
                }
                _ => {}
            }
        }
        Words { en: en.join(" "), zh: zh.join("") }
    }

    /// Every kernel passed (and there was a GPU to check).
    pub fn gpu_agrees(&self) -> bool {
        self.gpu.is_some() && !self.kernels.is_empty() && self.kernels.iter().all(|k| k.passed)
    }

    pub fn step_millis(&self, model: &str, engine: &str) -> Option<f64> {
        self.steps.iter().find(|s| s.model == model && s.engine == engine).map(|s| s.step_millis)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a report back; anything else (a run export, another version, damaged text)
    /// is refused in words.
    pub fn from_json(text: &str) -> Result<DeviceReport, Words> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| crate::words!("not readable as JSON ({e})", "无法按 JSON 读取（{e}）"))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some(REPORT_KIND) {
            return Err(crate::words!("not a device report of the lab", "不是实验室的设备报告"));
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != REPORT_VERSION as u64 {
            return Err(crate::words!(
                "a device report of another version of the lab (format {version}, this is {REPORT_VERSION})",
                "来自另一个版本实验室的设备报告（格式 {version}，当前为 {REPORT_VERSION}）"
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| crate::words!("a damaged device report ({e})", "设备报告已损坏（{e}）"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> DeviceReport {
        DeviceReport {
            kind: REPORT_KIND.into(),
            version: REPORT_VERSION,
            made_ms: 1.0e12,
            browser: "test".into(),
            gpu: Some("WebGPU on test".into()),
            gpu_problem: None,
            kernels: vec![KernelAgreement {
                kernel: "matmul".into(),
                cases: 3,
                largest_difference: 2e-6,
                tolerance_used: 0.2,
                passed: true,
            }],
            steps: vec![StepTime { model: "cnn".into(), engine: "cpu".into(), batch: 64, step_millis: 90.0 }],
        }
    }

    #[test]
    fn a_report_reads_back_as_written() {
        let r = report();
        assert_eq!(DeviceReport::from_json(&r.to_json()).unwrap(), r);
        assert!(r.gpu_agrees());
        assert_eq!(r.step_millis("cnn", "cpu"), Some(90.0));
        assert_eq!(r.step_millis("cnn", "webgpu"), None);
    }

    #[test]
    fn other_files_are_refused_in_words() {
        let refused = |t: &str| DeviceReport::from_json(t).unwrap_err().to_string();
        assert!(refused("{\"version\":1,\"runs\":[]}").contains("not a device report"));
        assert!(refused("not json").contains("not readable"));
        let newer = report().to_json().replace("\"version\": 1", "\"version\": 2");
        assert!(refused(&newer).contains("format 2"));
        let damaged = report().to_json().replace("\"cases\": 3", "\"cases\": \"three\"");
        assert!(refused(&damaged).contains("damaged"));
    }

    fn case(kernel: Kernel, largest: f64, used: f64, mismatch: bool) -> CaseOutcome {
        CaseOutcome {
            kernel,
            name: format!("{kernel:?}"),
            largest_difference: largest,
            tolerance_used: used,
            mismatch: mismatch.then(|| "differs".to_string()),
        }
    }

    #[test]
    fn cases_fold_into_one_line_per_kernel() {
        let outcomes = [
            case(Kernel::Matmul, 1e-6, 0.1, false),
            case(Kernel::Norm, 3e-5, 0.4, false),
            case(Kernel::Matmul, 4e-6, 0.3, true),
        ];
        let kernels = KernelAgreement::per_kernel(&outcomes);
        assert_eq!(kernels.len(), 2);
        let (m, n) = (&kernels[0], &kernels[1]);
        assert_eq!(
            (m.kernel.as_str(), m.cases, m.largest_difference, m.tolerance_used, m.passed),
            ("matrix product", 2, 4e-6, 0.3, false)
        );
        assert_eq!((n.kernel.as_str(), n.cases, n.passed), ("normalization", 1, true));
    }

    #[test]
    fn the_summary_says_what_the_numbers_say() {
        let mut r = report();
        r.steps.push(StepTime { model: "cnn".into(), engine: "webgpu".into(), batch: 64, step_millis: 4.12 });
        let words = r.summary();
        assert!(words.en.contains("every one of the lab's 1 kernels"), "{}", words.en);
        assert!(
            words.en.contains("A CNN step at batch 64 takes 4.1 ms on the GPU and 90 ms on the CPU."),
            "{}",
            words.en
        );
        assert!(!words.en.contains("MLP"), "no MLP was timed: {}", words.en);
        r.kernels[0].passed = false;
        assert!(r
            .summary()
            .en
            .contains("computes 1 of the lab's 1 kernels differently from the CPU reference (matmul)"));
        let none = DeviceReport {
            gpu: None,
            gpu_problem: Some("navigator.gpu is missing".into()),
            kernels: vec![],
            ..report()
        };
        let words = none.summary();
        assert!(
            words.en.contains("no usable WebGPU (navigator.gpu is missing)")
                && words.en.contains("takes 90 ms on the CPU")
        );
        assert!(words.zh.contains("在 CPU 上用 90 ms"), "{}", words.zh);
        assert_eq!(duration(3200.0), "3.2 s");
    }

    #[test]
    fn a_failed_kernel_or_a_missing_gpu_is_not_agreement() {
        let mut r = report();
        r.kernels[0].passed = false;
        assert!(!r.gpu_agrees());
        let r = DeviceReport { gpu: None, kernels: vec![], ..report() };
        assert!(!r.gpu_agrees());
    }
}
