//! The native integration tests of the engine (everything below the UI), one binary:
//!
//! | module | what it checks | needs |
//! |---|---|---|
//! | `shaders` | every WGSL file parses and validates with naga; entry points and uniform sizes | nothing |
//! | `cpu_vs_pytorch` | the CPU backend, op by op and as a whole MLP, against PyTorch's numbers | fixtures |
//! | `gradcheck` | analytic gradients (whole MLPs; single ops: convolution, pooling, causal attention, random ops) against central differences | nothing |
//! | `gpu_vs_cpu` | every GPU kernel against the CPU reference (cases in `src/backend/kernel_check/`, which the page's self-check runs too) | a GPU adapter |
//! | `parsers` | property tests: every parser of a student's input (URL, stored results, data files) returns a value in range or an error, never panics | nothing |
//! | `training` | loss falls; one epoch reaches 80 %; GPU and CPU agree; a GPU step is one submission of at most 24 (MLP+BN) or 40 (CNN+BN) dispatches; divergence is reported | the shipped data |
//! | `sequences` | the causal transformer on whole names: the data's padding, it learns, GPU and CPU agree, each character model refuses the other's data | the shipped names |
//! | `curves` | the CPU backend's first 50 losses of eight lesson experiments, bit for bit as recorded | the shipped data, the recorded curves |
//! | `pace` | Stop ends a run where it was; the time-left estimate replayed over a recorded job | the shipped data, a recorded job |
//!
//! `cargo test --test engine` runs them. Without a GPU adapter the GPU tests print a loud
//! `SKIPPED` line and pass, unless `NORMLAB_REQUIRE_GPU=1` (set by CI), where they fail.

mod cpu_vs_pytorch;
mod curves;
mod fixtures;
mod gpu_vs_cpu;
mod gradcheck;
mod pace;
mod parsers;
mod sequences;
mod shaders;
mod stored_results;
mod training;
