// conv.wgsl — 2-D convolution (nn.Conv2d: square kernel k, stride s, zero padding p,
// dilation 1, groups 1) on NCHW tensors: the forward pass and both backward passes.
//
//   forward          y[n, co, oh, ow]  = Σ_{ci, kh, kw} x[n, ci, oh·s − p + kh, ow·s − p + kw] · w[co, ci, kh, kw]
//                                        (+ bias[co] when has_bias = 1, added as the tile is stored)
//   backward_input   dx[n, ci, ih, iw] = Σ_{co, kh, kw} dy[n, co, oh, ow] · w[co, ci, kh, kw]
//                                        over the taps with oh·s = ih + p − kh and ow·s = iw + p − kw
//                                        (divisible by s, 0 ≤ oh < OH, 0 ≤ ow < OW)
//   backward_weight  dw[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·s − p + kh, ow·s − p + kw]
//
// Shapes: x, dx [N, CI, H, W]; w, dw [CO, CI, k, k]; y, dy [N, CO, OH, OW] with
// OH = ⌊(H + 2p − k)/s⌋ + 1, OW likewise. x is 0 outside the image.
//
// Each pass is one matrix product out[M, Ncol] = A[M, K] · B[K, Ncol], an "implicit GEMM":
// the operands are read straight from the tensors, so the unrolled (im2col) matrix that
// the CPU twin builds is never stored.
//
//   pass             rows M        summed K       columns Ncol   A[row, k]              B[k, col]
//   forward          (n, oh, ow)   (ci, kh, kw)   co             x under the window     w[co, k]
//   backward_input   (n, ih, iw)   (co, kh, kw)   ci             dy at the tap, or 0    w[co, ci, kh, kw]
//   backward_weight  co            (n, oh, ow)    (ci, kh, kw)   dy[n, co, oh, ow]      x under the window
//
// backward_input is a gather: each dx element sums what it received from every output
// position, so no two threads write one element and no (float) atomics are needed.
//
// Tiling in registers, as in matmul.wgsl: each thread computes a 4×4 block of out (four
// rows, four columns), a workgroup of 8×8 threads a 32×32 block; nothing is staged in
// workgroup memory and there is no barrier (software GPUs pay for every barrier by
// switching between all of a workgroup's threads). Each thread splits its rows and
// columns into coordinates once, then walks the summed index as nested loops over its
// coordinates: the input passes take the kernel's taps outside and the channels inside,
// so where a tap lands (and whether it falls in the padding) is worked out once per tap,
// and the inner loop has no integer division and no branch (`select` zeroes what lies
// outside). Rows or columns past the matrix are read clamped and never written. The row
// blocks run along y, folded into z when there are more than 65 535 of them.
//
// Bindings: 0 params, 1 x, 2 weight, 3 dy, 4 out (y, dx or dw), 5 bias. Each pass reads
// two of x, weight and dy (the forward pass also the bias), and its entry point's layout
// holds only those.
// Keep in sync with `ConvParams` in src/backend/gpu/conv.rs.

struct Params {
    batch: u32,
    in_channels: u32,
    out_channels: u32,
    height: u32,
    width: u32,
    kernel: u32,
    stride: u32,
    padding: u32,
    out_height: u32,
    out_width: u32,
    m: u32,    // rows of this pass's product
    k: u32,    // its summed dimension
    n: u32,    // its columns
    has_bias: u32, // forward: 1 adds bias[co]
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;

fn image_len() -> u32 {
    return p.height * p.width;
}

fn out_image_len() -> u32 {
    return p.out_height * p.out_width;
}

fn taps() -> u32 {
    return p.kernel * p.kernel;
}

// The first of this thread's four rows: row blocks of 32 run along y, folded into z.
fn first_row(lid: vec3<u32>, wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return ((wid.y + wid.z * groups.y) * 8u + lid.y) * 4u;
}

// (first + j)·stride for j = 0..3, each index clamped to `last`: the tile's rows or
// columns past the edge read the last one (and are never stored).
fn clamped_offsets(first: u32, last: u32, stride: u32) -> vec4<u32> {
    return min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last)) * stride;
}

// Stores a thread's 4×4 tile into an [N, C, L] tensor: row r is (n, position) =
// (r / L, r % L), column j is channel col0 + j.
fn store_tile(acc: array<vec4<f32>, 4>, row0: u32, col0: u32, len: u32, channels: u32) {
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + i;
        let n = r / len;
        let position = r % len;
        for (var j = 0u; j < 4u; j++) {
            let c = col0 + j;
            if (r < p.m && c < p.n) {
                out[(n * channels + c) * len + position] = acc[i][j];
            }
        }
    }
}

// x[base + ih·W + iw], or 0 in the zero padding.
fn x_at(base: i32, ih: i32, iw: i32) -> f32 {
    let inside = ih >= 0 && iw >= 0 && ih < i32(p.height) && iw < i32(p.width);
    return select(0.0, x[select(0, base + ih * i32(p.width) + iw, inside)], inside);
}

@compute @workgroup_size(8, 8, 1)
fn conv_forward(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row0 = first_row(lid, wid, groups);
    let col0 = (wid.x * 8u + lid.x) * 4u;
    if (row0 >= p.m || col0 >= p.n) {
        return;
    }
    let s = i32(p.stride);
    let pad = i32(p.padding);
    // Rows (n, oh, ow): sample n's x, and the window's corner (oh·s − p, ow·s − p).
    var x_base: array<i32, 4>;
    var ih0: array<i32, 4>;
    var iw0: array<i32, 4>;
    for (var i = 0u; i < 4u; i++) {
        let r = min(row0 + i, p.m - 1u);
        let o = r % out_image_len();
        x_base[i] = i32((r / out_image_len()) * p.in_channels * image_len());
        ih0[i] = i32(o / p.out_width) * s - pad;
        iw0[i] = i32(o % p.out_width) * s - pad;
    }
    // Columns co: filter co is row co of w viewed as [CO, K].
    let w = clamped_offsets(col0, p.n - 1u, p.k);
    var acc: array<vec4<f32>, 4>;
    var tap = 0u;
    for (var kh = 0; kh < i32(p.kernel); kh++) {
        for (var kw = 0; kw < i32(p.kernel); kw++) {
            // Where each row's window puts this tap in channel 0, and whether it is inside.
            var at: array<i32, 4>;
            var inside: array<bool, 4>;
            for (var i = 0u; i < 4u; i++) {
                let ih = ih0[i] + kh;
                let iw = iw0[i] + kw;
                inside[i] = ih >= 0 && iw >= 0 && ih < i32(p.height) && iw < i32(p.width);
                at[i] = select(0, x_base[i] + ih * i32(p.width) + iw, inside[i]);
            }
            // w[co, ci, kh, kw] = weight[co·K + ci·k² + tap]
            for (var ci = 0u; ci < p.in_channels; ci++) {
                let k = ci * taps() + tap;
                let bv = vec4<f32>(weight[w.x + k], weight[w.y + k], weight[w.z + k], weight[w.w + k]);
                let channel = i32(ci * image_len());
                for (var i = 0u; i < 4u; i++) {
                    acc[i] += select(0.0, x[at[i] + channel], inside[i]) * bv;
                }
            }
            tap++;
        }
    }
    if (p.has_bias == 1u) {
        let co = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.n - 1u));
        let bv = vec4<f32>(bias[co.x], bias[co.y], bias[co.z], bias[co.w]);
        for (var i = 0u; i < 4u; i++) {
            acc[i] += bv;
        }
    }
    store_tile(acc, row0, col0, out_image_len(), p.out_channels);
}

@compute @workgroup_size(8, 8, 1)
fn conv_backward_input(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row0 = first_row(lid, wid, groups);
    let col0 = (wid.x * 8u + lid.x) * 4u;
    if (row0 >= p.m || col0 >= p.n) {
        return;
    }
    let s = i32(p.stride);
    let pad = i32(p.padding);
    // Rows (n, ih, iw): sample n's dy, and the pixel's position in the padded image.
    var dy_base: array<i32, 4>;
    var th0: array<i32, 4>;
    var tw0: array<i32, 4>;
    for (var i = 0u; i < 4u; i++) {
        let r = min(row0 + i, p.m - 1u);
        let pixel = r % image_len();
        dy_base[i] = i32((r / image_len()) * p.out_channels * out_image_len());
        th0[i] = i32(pixel / p.width) + pad;
        tw0[i] = i32(pixel % p.width) + pad;
    }
    // Columns ci: w[co, ci, kh, kw] = weight[(co·CI + ci)·k² + kh·k + kw].
    let w = clamped_offsets(col0, p.n - 1u, taps());
    var acc: array<vec4<f32>, 4>;
    var tap = 0u;
    for (var kh = 0; kh < i32(p.kernel); kh++) {
        for (var kw = 0; kw < i32(p.kernel); kw++) {
            // The output position whose window puts this tap on each row's pixel, if any.
            var at: array<i32, 4>;
            var hit: array<bool, 4>;
            for (var i = 0u; i < 4u; i++) {
                let th = th0[i] - kh;
                let tw = tw0[i] - kw;
                let oh = th / s;
                let ow = tw / s;
                hit[i] = th >= 0 && tw >= 0 && oh * s == th && ow * s == tw && oh < i32(p.out_height)
                    && ow < i32(p.out_width);
                at[i] = select(0, dy_base[i] + oh * i32(p.out_width) + ow, hit[i]);
            }
            for (var co = 0u; co < p.out_channels; co++) {
                let k = co * p.in_channels * taps() + tap;
                let bv = vec4<f32>(weight[w.x + k], weight[w.y + k], weight[w.z + k], weight[w.w + k]);
                let channel = i32(co * out_image_len());
                for (var i = 0u; i < 4u; i++) {
                    acc[i] += select(0.0, dy[at[i] + channel], hit[i]) * bv;
                }
            }
            tap++;
        }
    }
    store_tile(acc, row0, col0, image_len(), p.in_channels);
}

@compute @workgroup_size(8, 8, 1)
fn conv_backward_weight(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row0 = first_row(lid, wid, groups);
    let col0 = (wid.x * 8u + lid.x) * 4u;
    if (row0 >= p.m || col0 >= p.n) {
        return;
    }
    let s = i32(p.stride);
    let pad = i32(p.padding);
    // Rows co: channel co of dy, within each sample.
    let dy_rows = clamped_offsets(row0, p.m - 1u, out_image_len());
    // Columns (ci, kh, kw): channel ci of x, within each sample, and the tap's offset.
    var x_channel: array<i32, 4>;
    var dh: array<i32, 4>;
    var dw: array<i32, 4>;
    for (var j = 0u; j < 4u; j++) {
        let c = min(col0 + j, p.n - 1u);
        let tap = c % taps();
        x_channel[j] = i32((c / taps()) * image_len());
        dh[j] = i32(tap / p.kernel) - pad;
        dw[j] = i32(tap % p.kernel) - pad;
    }
    var acc: array<vec4<f32>, 4>;
    for (var n = 0u; n < p.batch; n++) {
        let dy_sample = n * p.out_channels * out_image_len();
        let x_sample = i32(n * p.in_channels * image_len());
        for (var oh = 0u; oh < p.out_height; oh++) {
            for (var ow = 0u; ow < p.out_width; ow++) {
                let o = dy_sample + oh * p.out_width + ow;
                var bv: vec4<f32>;
                for (var j = 0u; j < 4u; j++) {
                    bv[j] = x_at(x_sample + x_channel[j], i32(oh) * s + dh[j], i32(ow) * s + dw[j]);
                }
                acc[0] += dy[o + dy_rows.x] * bv;
                acc[1] += dy[o + dy_rows.y] * bv;
                acc[2] += dy[o + dy_rows.z] * bv;
                acc[3] += dy[o + dy_rows.w] * bv;
            }
        }
    }
    // dw is stored [CO, CI·k·k]: row co, column (ci, kh, kw).
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            if (row0 + i < p.m && col0 + j < p.n) {
                out[(row0 + i) * p.n + col0 + j] = acc[i][j];
            }
        }
    }
}
