//! The device self-check's report: whether this device's GPU kernels agree with the CPU
//! reference (kernel by kernel, at the suite's tolerances) and how long a training step
//! takes on each engine. A student saves it as JSON and a teacher collects the class's
//! reports in the class view, so its form is versioned and read back strictly.

use serde::{Deserialize, Serialize};

use crate::error::Words;

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

impl DeviceReport {
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

    #[test]
    fn a_failed_kernel_or_a_missing_gpu_is_not_agreement() {
        let mut r = report();
        r.kernels[0].passed = false;
        assert!(!r.gpu_agrees());
        let r = DeviceReport { gpu: None, kernels: vec![], ..report() };
        assert!(!r.gpu_agrees());
    }
}
