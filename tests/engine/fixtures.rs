//! Test support: the PyTorch reference fixtures, float comparison, and a few one-line
//! helpers for putting tensors on a backend and reading them back.
//!
//! Fixture files live in `tests/fixtures/pytorch/<op>__<case>.json`; their schema and the
//! script that wrote them are described in that folder's README.

use std::collections::BTreeMap;

use normlab::backend::{Backend, TensorId};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct FixtureTensor {
    pub shape: Vec<usize>,
    /// Flat, row-major; f64 in the file, exactly representable as f32.
    pub data: Vec<f64>,
}

/// One PyTorch reference case: `{op, case, attrs, tensors}`.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub op: String,
    pub case: String,
    pub attrs: serde_json::Map<String, serde_json::Value>,
    pub tensors: BTreeMap<String, FixtureTensor>,
}

impl Fixture {
    /// Loads `tests/fixtures/pytorch/<name>.json`, e.g. `load("batch_norm__train_1d")`.
    pub fn load(name: &str) -> Fixture {
        let path = format!("{}/tests/fixtures/pytorch/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let fixture: Fixture = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
        assert_eq!(format!("{}__{}", fixture.op, fixture.case), name, "fixture names its own op and case");
        fixture
    }

    pub fn has(&self, tensor: &str) -> bool {
        self.tensors.contains_key(tensor)
    }

    fn tensor(&self, name: &str) -> &FixtureTensor {
        self.tensors.get(name).unwrap_or_else(|| {
            panic!("{}__{} has no tensor {name:?} (it has {:?})", self.op, self.case, self.tensors.keys())
        })
    }

    /// A tensor's values as f32 (PyTorch's exact bits).
    pub fn t(&self, name: &str) -> Vec<f32> {
        self.tensor(name).data.iter().map(|&v| v as f32).collect()
    }

    pub fn shape(&self, name: &str) -> &[usize] {
        &self.tensor(name).shape
    }

    /// A 0-d tensor such as a loss.
    pub fn scalar(&self, name: &str) -> f32 {
        let t = self.tensor(name);
        assert!(t.shape.is_empty() && t.data.len() == 1, "{name} is not a scalar: shape {:?}", t.shape);
        t.data[0] as f32
    }

    pub fn attr(&self, key: &str) -> &serde_json::Value {
        self.attrs.get(key).unwrap_or_else(|| panic!("{}__{} has no attr {key:?}", self.op, self.case))
    }

    pub fn attr_f32(&self, key: &str) -> f32 {
        self.attr(key).as_f64().unwrap_or_else(|| panic!("attr {key:?} is not a number")) as f32
    }

    pub fn attr_bool(&self, key: &str) -> bool {
        self.attr(key).as_bool().unwrap_or_else(|| panic!("attr {key:?} is not a bool"))
    }
}

/// Panics unless `|got − want| ≤ atol + rtol·|want|` everywhere (NaN never passes). The
/// message lists the first few mismatches (index, got, want) and the largest absolute and
/// relative differences, so a failure says how far off and where.
///
/// The comparison itself lives in `normlab::backend::kernel_check`, which the browser test
/// and the page's self-check run too and which therefore reports through `Result`.
#[track_caller]
pub fn assert_close(name: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
    if let Err(report) = normlab::backend::kernel_check::check_close(name, got, want, rtol, atol) {
        panic!("{report}");
    }
}

/// A new tensor on `backend` holding `data`.
pub fn tensor_from<B: Backend>(backend: &mut B, data: &[f32], label: &str) -> TensorId {
    let id = backend.alloc(data.len(), label).expect("a small tensor fits");
    backend.upload(id, data);
    id
}

/// A new tensor of `len` NaNs: an output the op under test must overwrite entirely.
pub fn nan_tensor<B: Backend>(backend: &mut B, len: usize, label: &str) -> TensorId {
    tensor_from(backend, &vec![f32::NAN; len], label)
}

/// The first `len` values of a tensor once the recorded work has run.
pub fn read<B: Backend>(backend: &mut B, id: TensorId, len: usize) -> Vec<f32> {
    backend.submit();
    let mut data = pollster::block_on(backend.read_later(id)).expect("read-back succeeds");
    assert!(data.len() >= len, "tensor holds {} values, wanted {len}", data.len());
    data.truncate(len);
    data
}
