// random.wgsl — the lab's random numbers on the device: inverted dropout and "noisy"
// per-channel scale and shift.
//
// Every random number is a pure function of (stream, step, i), a counter-based hash, so
// nothing is stored between steps and the CPU twin computes bit-identical values:
//   pcg_hash(x)  = { state = x·747796405 + 2891336453;
//                    word  = ((state >> ((state >> 28) + 4)) ^ state)·277803737;
//                    (word >> 22) ^ word }                           (wrapping u32)
//   uniform(stream, step, i) = f32(pcg_hash(i ^ pcg_hash(step ^ pcg_hash(stream))) >> 8) / 2^24
// The top 24 bits fit an f32 exactly, so uniform is in [0, 1) and identical everywhere.
// `step` is the optimizer step from the per-step uniform (Step.index, an exact u32).
//
//   dropout_forward:  mask[i] = keep_scale if uniform(stream, step, i) ≥ p else 0
//                     (keep_scale = 1/(1−p), computed on the host: WGSL division is not
//                     correctly rounded, a host f32 is);  y[i] = x[i]·mask[i]
//   dropout_backward: dx[i] = dy[i]·mask[i]
//   channel_noise_forward (Santurkar et al. 2018, §2.1, on [N, C, S]):
//                     scale_c = 1 + strength·uniform(stream, step, 2c)
//                     shift_c = strength·(2·uniform(stream, step, 2c + 1) − 1)
//                     noise[2c] = scale_c, noise[2c + 1] = shift_c;  y = x·scale_c + shift_c
//   channel_noise_backward: dx = dy·noise[2c]
//
// Every entry point is one thread per element (256-thread workgroups, a grid that folds
// into y past 65 535 groups). channel_noise_forward recomputes a channel's pair in every
// thread (a few integer operations) and the threads of sample 0, position 0 store it.
// y must not alias x, nor dx dy.
//
// Bindings: 0 params, 1 step, 2 x, 3 y, 4 mask, 5 dy, 6 dx, 7 noise,
//           8 mask_in, 9 noise_in (read-only views for the backward passes).
// Keep in sync with `RandomParams` in src/backend/gpu/random.rs, `StepUniform` in
// src/backend/gpu/optim.rs (the `Step` struct, shared with optim.wgsl), and the CPU twin
// src/backend/cpu/random.rs.

struct Params {
    len: u32,        // elements: dropout's len, or N·C·S
    channels: u32,   // C (channel noise)
    spatial: u32,    // S (channel noise)
    stream: u32,     // which random sequence: one per layer
    p: f32,          // dropout probability
    keep_scale: f32, // 1/(1−p), 0 when p = 1
    strength: f32,   // channel noise strength
    _pad0: u32,
}

struct Step {
    learning_rate: f32,
    t: f32, // 1-based step count
    index: u32, // the step exactly, for random numbers
    _pad1: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> noise: array<f32>;
@group(0) @binding(8) var<storage, read> mask_in: array<f32>;
@group(0) @binding(9) var<storage, read> noise_in: array<f32>;

// PCG's output permutation on a one-step LCG (Jarzynski & Olano 2020, "Hash Functions for
// GPU Rendering"): a good 32-bit hash from a handful of integer operations.
fn pcg_hash(x: u32) -> u32 {
    let state = x * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// uniform(stream, step, i) of the header: a number in [0, 1) for element i of this stream at
// this step (`uniform` itself names WGSL's address space, hence the longer name).
fn random_uniform(stream: u32, step_index: u32, i: u32) -> f32 {
    let bits = pcg_hash(i ^ pcg_hash(step_index ^ pcg_hash(stream)));
    return f32(bits >> 8u) / 16777216.0;
}

fn step_index() -> u32 {
    return step.index;
}

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256, 1, 1)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    let keep = random_uniform(params.stream, step_index(), i) >= params.p;
    let m = select(0.0, params.keep_scale, keep);
    mask[i] = m;
    y[i] = x[i] * m;
}

@compute @workgroup_size(256, 1, 1)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    dx[i] = dy[i] * mask_in[i];
}

@compute @workgroup_size(256, 1, 1)
fn channel_noise_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    let c = (i / params.spatial) % params.channels;
    let t = step_index();
    let scale = 1.0 + params.strength * random_uniform(params.stream, t, 2u * c);
    let shift = params.strength * (2.0 * random_uniform(params.stream, t, 2u * c + 1u) - 1.0);
    if (i < params.channels * params.spatial && i % params.spatial == 0u) {
        noise[2u * c] = scale;
        noise[2u * c + 1u] = shift;
    }
    y[i] = x[i] * scale + shift;
}

@compute @workgroup_size(256, 1, 1)
fn channel_noise_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    let c = (i / params.spatial) % params.channels;
    dx[i] = dy[i] * noise_in[2u * c];
}
