//! The two backends side by side: one tensor on both, the same work recorded on both,
//! their results compared.

use super::*;

/// A tiny deterministic generator (64-bit LCG, Knuth's constants); the same numbers on
/// every platform.
pub(super) struct Lcg(u64);

impl Lcg {
    pub(super) fn unit(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    pub(super) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f32) as usize).min(n - 1)
    }
    pub(super) fn vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.range(lo, hi)).collect()
    }
}

#[derive(Clone, Copy)]
pub(super) enum Side {
    Cpu,
    Gpu,
}

/// One tensor on both backends.
#[derive(Clone, Copy)]
pub(super) struct Both {
    pub(super) cpu: TensorId,
    pub(super) gpu: TensorId,
    pub(super) len: usize,
}

impl Both {
    pub(super) fn on(self, side: Side) -> TensorId {
        match side {
            Side::Cpu => self.cpu,
            Side::Gpu => self.gpu,
        }
    }
}

pub(super) struct Pair<'a> {
    pub(super) cpu: CpuBackend,
    pub(super) gpu: GpuBackend,
    pub(super) rng: Lcg,
    pub(super) outcomes: Vec<CaseOutcome>,
    /// The current case's worst fraction of its tolerance, largest difference and
    /// mismatch reports.
    pub(super) case_worst: f64,
    pub(super) case_largest: f64,
    pub(super) case_mismatches: Vec<String>,
    pub(super) on_case: &'a mut dyn FnMut(&CaseOutcome),
}

impl<'a> Pair<'a> {
    pub(super) fn new(ctx: &GpuContext, on_case: &'a mut dyn FnMut(&CaseOutcome)) -> Self {
        Pair {
            cpu: CpuBackend::new(),
            gpu: GpuBackend::new(ctx.clone()),
            rng: Lcg(0x5eed_0f6e_0ca5_e5e5),
            outcomes: Vec::new(),
            case_worst: 0.0,
            case_largest: 0.0,
            case_mismatches: Vec::new(),
            on_case,
        }
    }

    pub(super) fn input(&mut self, data: &[f32], label: &str) -> Result<Both, String> {
        let both = Both {
            cpu: self.cpu.alloc(data.len(), label).map_err(|e| e.to_string())?,
            gpu: self.gpu.alloc(data.len(), label).map_err(|e| e.to_string())?,
            len: data.len(),
        };
        self.cpu.upload(both.cpu, data);
        self.gpu.upload(both.gpu, data);
        Ok(both)
    }

    pub(super) fn random(&mut self, len: usize, lo: f32, hi: f32, label: &str) -> Result<Both, String> {
        let data = self.rng.vec(len, lo, hi);
        self.input(&data, label)
    }

    /// A view of `len` elements of `base` from `offset`, on both backends.
    pub(super) fn view(&mut self, base: Both, offset: usize, len: usize) -> Both {
        Both { cpu: self.cpu.view(base.cpu, offset, len), gpu: self.gpu.view(base.gpu, offset, len), len }
    }

    /// An output: NaN until the op under test writes it.
    pub(super) fn output(&mut self, len: usize, label: &str) -> Result<Both, String> {
        self.input(&vec![f32::NAN; len], label)
    }

    /// Records the same work on both backends.
    pub(super) fn both(&mut self, f: impl Fn(&mut dyn Backend, Side)) {
        f(&mut self.cpu, Side::Cpu);
        f(&mut self.gpu, Side::Gpu);
    }

    pub(super) async fn read(&mut self, t: Both) -> Result<(Vec<f32>, Vec<f32>), String> {
        self.gpu.submit();
        let gpu = self.gpu.read_later(t.gpu);
        let cpu = self.cpu.read_later(t.cpu);
        let mut cpu = cpu.await.map_err(|e| format!("CPU read-back: {e}"))?;
        let mut gpu = gpu.await.map_err(|e| format!("GPU read-back: {e}"))?;
        cpu.truncate(t.len);
        gpu.truncate(t.len);
        Ok((cpu, gpu))
    }

    /// Compares a tensor's GPU contents with its CPU contents; a mismatch is recorded.
    pub(super) async fn compare(&mut self, what: &str, t: Both, rtol: f32, atol: f32) -> Result<(), String> {
        let (cpu, gpu) = self.read(t).await?;
        self.case_worst = self.case_worst.max(tolerance_used(&gpu, &cpu, rtol, atol));
        self.case_largest = self.case_largest.max(largest_difference(&gpu, &cpu));
        if let Err(report) = check_close(&format!("GPU vs CPU: {what}"), &gpu, &cpu, rtol, atol) {
            self.case_mismatches.push(report);
        }
        Ok(())
    }

    /// Ends a case of `kernel`: a device error (validation, lost device) ends the check,
    /// since nothing after it can be trusted.
    pub(super) fn done(&mut self, kernel: Kernel, name: &str) -> Result<(), String> {
        if let Some(fault) = self.gpu.take_fault() {
            return Err(format!("{name}: the GPU reported {fault}"));
        }
        let mismatches = std::mem::take(&mut self.case_mismatches);
        let outcome = CaseOutcome {
            kernel,
            name: name.to_string(),
            largest_difference: std::mem::take(&mut self.case_largest),
            tolerance_used: std::mem::take(&mut self.case_worst),
            mismatch: (!mismatches.is_empty()).then(|| mismatches.join("\n")),
        };
        (self.on_case)(&outcome);
        self.outcomes.push(outcome);
        Ok(())
    }
}
