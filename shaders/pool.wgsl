// pool.wgsl — 2-D max and average pooling (nn.MaxPool2d / nn.AvgPool2d: square window k,
// stride s, no padding, floor mode) on NCHW tensors, and their gradients.
//
//   max forward:   y[n, c, oh, ow] = max_{kh, kw} x[n, c, oh·s + kh, ow·s + kw]
//                  argmax[o] = ih·W + iw of the first maximum in row-major order (within
//                  its (n, c) plane, as PyTorch's return_indices), stored as f32
//   avg forward:   y[o] = Σ_{kh, kw} x[n, c, oh·s + kh, ow·s + kw] / k²   (argmax untouched)
//   max backward:  dx[n, c, ih, iw] = Σ dy[o] over the windows o of that plane whose
//                  argmax is ih·W + iw
//   avg backward:  dx[n, c, ih, iw] = Σ dy[o] / k² over the windows o holding (ih, iw)
//
// Shapes: x, dx [N, C, H, W]; y, dy, argmax [N, C, OH, OW], OH = ⌊(H − k)/s⌋ + 1, OW likewise.
//
// pool_forward runs one thread per output. pool_backward runs one thread per *input*
// element, which gathers from every window that holds it: windows overlap when s < k, and
// without float atomics in WGSL a scatter from the outputs could not add safely.
// Rows and columns that no whole window reaches get dx = 0.
//
// Bindings: 0 params, 1 x, 2 y, 3 argmax (pool_forward); 4 dy, 5 argmax_in, 6 dx (pool_backward).
// Keep in sync with `PoolParams` in src/backend/gpu/pool.rs.

struct Params {
    batch: u32,
    channels: u32,
    height: u32,
    width: u32,
    kernel: u32,
    stride: u32,
    out_height: u32,
    out_width: u32,
    kind: u32, // 0 max, 1 avg
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<f32>;

@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> argmax_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

const MAX: u32 = 0u;
const WG: u32 = 256u;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG;
}

@compute @workgroup_size(256, 1, 1)
fn pool_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let o = flat_index(gid, groups);
    let out_len = p.out_height * p.out_width;
    if (o >= p.batch * p.channels * out_len) {
        return;
    }
    let plane = o / out_len;
    let ih0 = ((o % out_len) / p.out_width) * p.stride;
    let iw0 = (o % p.out_width) * p.stride;
    let base = plane * p.height * p.width;
    if (p.kind == MAX) {
        // Starting from the window's first value keeps it on ties, as PyTorch does; a NaN
        // replaces the maximum (v != v), so that it propagates as in PyTorch.
        var best_at = ih0 * p.width + iw0;
        var best = x[base + best_at];
        for (var kh = 0u; kh < p.kernel; kh++) {
            for (var kw = 0u; kw < p.kernel; kw++) {
                let i = (ih0 + kh) * p.width + iw0 + kw;
                let v = x[base + i];
                if (v > best || v != v) {
                    best = v;
                    best_at = i;
                }
            }
        }
        y[o] = best;
        argmax[o] = f32(best_at);
    } else {
        var sum = 0.0;
        for (var kh = 0u; kh < p.kernel; kh++) {
            for (var kw = 0u; kw < p.kernel; kw++) {
                sum += x[base + (ih0 + kh) * p.width + iw0 + kw];
            }
        }
        y[o] = sum / f32(p.kernel * p.kernel);
    }
}

// The first window index along one axis whose window [o·s, o·s + k) holds position i.
fn first_window(i: u32) -> u32 {
    if (i < p.kernel) {
        return 0u;
    }
    return (i - p.kernel) / p.stride + 1u;
}

@compute @workgroup_size(256, 1, 1)
fn pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    let in_len = p.height * p.width;
    if (i >= p.batch * p.channels * in_len) {
        return;
    }
    let plane = i / in_len;
    let at = i % in_len; // ih·W + iw
    let ih = at / p.width;
    let iw = at % p.width;
    let out_base = plane * p.out_height * p.out_width;
    let window_len = f32(p.kernel * p.kernel);
    var sum = 0.0;
    // Windows oh with oh·s ≤ ih < oh·s + k, and likewise for ow.
    for (var oh = first_window(ih); oh < p.out_height && oh * p.stride <= ih; oh++) {
        for (var ow = first_window(iw); ow < p.out_width && ow * p.stride <= iw; ow++) {
            let o = out_base + oh * p.out_width + ow;
            if (p.kind == MAX) {
                if (argmax_in[o] == f32(at)) {
                    sum += dy[o];
                }
            } else {
                sum += dy[o] / window_len;
            }
        }
    }
    dx[i] = sum;
}
