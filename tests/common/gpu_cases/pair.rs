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
    pub(super) cases: usize,
    pub(super) failures: Vec<String>,
    /// Worst fraction of the tolerance used in the current case.
    pub(super) case_worst: f64,
    pub(super) log: &'a mut dyn FnMut(&str),
}

impl<'a> Pair<'a> {
    pub(super) fn new(ctx: &GpuContext, log: &'a mut dyn FnMut(&str)) -> Self {
        Pair {
            cpu: CpuBackend::new(),
            gpu: GpuBackend::new(ctx.clone()),
            rng: Lcg(0x5eed_0f6e_0ca5_e5e5),
            cases: 0,
            failures: Vec::new(),
            case_worst: 0.0,
            log,
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
        if let Err(report) = check_close(&format!("GPU vs CPU: {what}"), &gpu, &cpu, rtol, atol) {
            self.failures.push(report);
        }
        Ok(())
    }

    /// Ends a case: a device error (validation, lost device) fails it.
    pub(super) fn done(&mut self, name: &str) -> Result<(), String> {
        if let Some(fault) = self.gpu.take_fault() {
            return Err(format!("{name}: the GPU reported {fault}"));
        }
        self.cases += 1;
        (self.log)(&format!("{name}: worst {:.3} of tolerance", self.case_worst));
        self.case_worst = 0.0;
        Ok(())
    }

    pub(super) fn finish(self) -> Result<usize, String> {
        if self.failures.is_empty() {
            Ok(self.cases)
        } else {
            Err(format!("{} mismatches in {} cases:\n{}", self.failures.len(), self.cases, self.failures.join("\n")))
        }
    }
}
