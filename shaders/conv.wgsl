// conv.wgsl — 2-D convolution (nn.Conv2d: square kernel k, stride s, zero padding p,
// dilation 1, groups 1) on NCHW tensors: the forward pass and both backward passes.
//
//   forward          y[n, co, oh, ow]  = Σ_{ci, kh, kw} x[n, ci, oh·s − p + kh, ow·s − p + kw] · w[co, ci, kh, kw]
//   backward_input   dx[n, ci, ih, iw] = Σ_{co, kh, kw} dy[n, co, oh, ow] · w[co, ci, kh, kw]
//                                        over the taps with oh·s = ih + p − kh and ow·s = iw + p − kw
//                                        (divisible by s, 0 ≤ oh < OH, 0 ≤ ow < OW)
//   backward_weight  dw[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·s − p + kh, ow·s − p + kw]
//
// Shapes: x, dx [N, CI, H, W]; w, dw [CO, CI, k, k]; y, dy [N, CO, OH, OW] with
// OH = ⌊(H + 2p − k)/s⌋ + 1, OW likewise. x is 0 outside the image.
//
// Each pass is one matrix product out[M, Ncol] = A[M, K] · B[K, Ncol], an "implicit GEMM":
// the operands are read straight from the tensors while the tiles are staged, so the
// unrolled (im2col) matrix that the CPU twin builds is never stored.
//
//   pass             rows M        summed K       columns Ncol   A[row, k]              B[k, col]
//   forward          (n, oh, ow)   (ci, kh, kw)   co             x under the window     w[co, k]
//   backward_input   (n, ih, iw)   (co, kh, kw)   ci             dy at the tap, or 0    w[co, ci, kh, kw]
//   backward_weight  co            (n, oh, ow)    (ci, kh, kw)   dy[n, co, oh, ow]      x under the window
//
// backward_input is a gather: each dx element sums what it received from every output
// position, so no two threads write one element and no (float) atomics are needed.
//
// Tiling as in matmul.wgsl: a workgroup of 16×16 threads computes a 64×64 block of out,
// each thread a 4×4 sub-block, walking K in slices of 16 staged in workgroup memory. Each
// thread stages one K index for four rows of A and four columns of B; it splits those
// rows and columns into coordinates once, before the K loop, and the K index once per
// slice, so that the integer divisions stay out of the inner loop. Anything outside the
// matrices reads 0, so any sizes work. The row blocks run along y, folded into z when
// there are more than 65 535 of them.
//
// Bindings: 0 params, 1 x, 2 weight, 3 dy, 4 out (y, dx or dw). Each pass reads two of
// x, weight and dy; the host binds a spare buffer to the third.
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
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const FORWARD: u32 = 0u;
const BACKWARD_INPUT: u32 = 1u;
const BACKWARD_WEIGHT: u32 = 2u;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
// Tiles are stored k-major; rows are padded by one so that the staging writes, which are
// 64 floats apart, do not all land in the same workgroup memory bank.
const STRIDE_A: u32 = 65u;
const STRIDE_B: u32 = 65u;

var<workgroup> tile_a: array<f32, 1040>; // [TILE_K][STRIDE_A]
var<workgroup> tile_b: array<f32, 1040>; // [TILE_K][STRIDE_B]

// The four rows of A and four columns of B this thread stages, as (offset, h, w); an
// offset of −1 marks a row or column outside the matrix.
var<private> a_rows: array<vec3<i32>, 4>;
var<private> b_cols: array<vec3<i32>, 4>;

fn image_len() -> u32 {
    return p.height * p.width;
}

fn out_image_len() -> u32 {
    return p.out_height * p.out_width;
}

fn taps() -> u32 {
    return p.kernel * p.kernel;
}

const OUTSIDE: vec3<i32> = vec3<i32>(-1, 0, 0);

// Row r of A: where its part of the operand starts, and its 2-D position.
fn a_row(mode: u32, r: u32) -> vec3<i32> {
    if (r >= p.m) {
        return OUTSIDE;
    }
    let s = i32(p.stride);
    let pad = i32(p.padding);
    switch mode {
        case FORWARD: {
            // r = (n, oh, ow): sample n of x, window corner (oh·s − p, ow·s − p).
            let n = r / out_image_len();
            let o = r % out_image_len();
            let base = n * p.in_channels * image_len();
            return vec3<i32>(i32(base), i32(o / p.out_width) * s - pad, i32(o % p.out_width) * s - pad);
        }
        case BACKWARD_INPUT: {
            // r = (n, ih, iw): sample n of dy, pixel position in the padded image.
            let n = r / image_len();
            let i = r % image_len();
            let base = n * p.out_channels * out_image_len();
            return vec3<i32>(i32(base), i32(i / p.width) + pad, i32(i % p.width) + pad);
        }
        default: {
            // r = co: channel co of dy (within each sample).
            return vec3<i32>(i32(r * out_image_len()), 0, 0);
        }
    }
}

// Column c of B: where its part of the operand starts, and its kernel offset.
fn b_col(mode: u32, c: u32) -> vec3<i32> {
    if (c >= p.n) {
        return OUTSIDE;
    }
    switch mode {
        case FORWARD: {
            // c = co: filter co is row co of w viewed as [CO, K].
            return vec3<i32>(i32(c * p.k), 0, 0);
        }
        case BACKWARD_INPUT: {
            // c = ci: w[0, ci, 0, 0].
            return vec3<i32>(i32(c * taps()), 0, 0);
        }
        default: {
            // c = (ci, kh, kw): channel ci of x (within each sample), tap (kh − p, kw − p).
            let ci = c / taps();
            let t = c % taps();
            let pad = i32(p.padding);
            return vec3<i32>(i32(ci * image_len()), i32(t / p.kernel) - pad, i32(t % p.kernel) - pad);
        }
    }
}

// The summed index split into coordinates: (ci or co, kh, kw), or (n, oh, ow) for the
// weight gradient; x = −1 past the end.
fn split_k(mode: u32, k: u32) -> vec3<i32> {
    if (k >= p.k) {
        return OUTSIDE;
    }
    if (mode == BACKWARD_WEIGHT) {
        let o = k % out_image_len();
        return vec3<i32>(i32(k / out_image_len()), i32(o / p.out_width), i32(o % p.out_width));
    }
    let t = k % taps();
    return vec3<i32>(i32(k / taps()), i32(t / p.kernel), i32(t % p.kernel));
}

// x[offset + ih·W + iw], or 0 in the zero padding.
fn x_at(offset: i32, ih: i32, iw: i32) -> f32 {
    if (ih < 0 || iw < 0 || ih >= i32(p.height) || iw >= i32(p.width)) {
        return 0.0;
    }
    return x[offset + ih * i32(p.width) + iw];
}

// A[row, k] with `row` from a_row and `kk` from split_k.
fn load_a(mode: u32, row: vec3<i32>, kk: vec3<i32>) -> f32 {
    if (row.x < 0 || kk.x < 0) {
        return 0.0;
    }
    switch mode {
        case FORWARD: {
            // x[n, ci, oh·s − p + kh, ow·s − p + kw]
            return x_at(row.x + kk.x * i32(image_len()), row.y + kk.y, row.z + kk.z);
        }
        case BACKWARD_INPUT: {
            // dy[n, co, oh, ow] with oh·s = ih + p − kh, ow·s = iw + p − kw, if such a tap exists.
            let s = i32(p.stride);
            let th = row.y - kk.y;
            let tw = row.z - kk.z;
            if (th < 0 || tw < 0) {
                return 0.0;
            }
            let oh = th / s;
            let ow = tw / s;
            if (oh * s != th || ow * s != tw || oh >= i32(p.out_height) || ow >= i32(p.out_width)) {
                return 0.0;
            }
            return dy[row.x + kk.x * i32(out_image_len()) + oh * i32(p.out_width) + ow];
        }
        default: {
            // dy[n, co, oh, ow]
            let sample = kk.x * i32(p.out_channels * out_image_len());
            return dy[sample + row.x + kk.y * i32(p.out_width) + kk.z];
        }
    }
}

// B[k, col] with `col` from b_col, `kk` from split_k and `k` the flat summed index.
fn load_b(mode: u32, col: vec3<i32>, kk: vec3<i32>, k: u32) -> f32 {
    if (col.x < 0 || kk.x < 0) {
        return 0.0;
    }
    switch mode {
        case FORWARD: {
            // w[co, k]
            return weight[col.x + i32(k)];
        }
        case BACKWARD_INPUT: {
            // w[co, ci, kh, kw]
            let w_co = kk.x * i32(p.in_channels * taps());
            return weight[w_co + col.x + kk.y * i32(p.kernel) + kk.z];
        }
        default: {
            // x[n, ci, oh·s − p + kh, ow·s − p + kw]
            let s = i32(p.stride);
            let sample = kk.x * i32(p.in_channels * image_len());
            return x_at(sample + col.x, kk.y * s + col.y, kk.z * s + col.z);
        }
    }
}

// out[row, col] to its place in y, dx or dw.
fn store(mode: u32, row: u32, col: u32, value: f32) {
    if (row >= p.m || col >= p.n) {
        return;
    }
    switch mode {
        case FORWARD: {
            // row = (n, oh, ow), col = co
            let n = row / out_image_len();
            out[(n * p.out_channels + col) * out_image_len() + row % out_image_len()] = value;
        }
        case BACKWARD_INPUT: {
            // row = (n, ih, iw), col = ci
            let n = row / image_len();
            out[(n * p.in_channels + col) * image_len() + row % image_len()] = value;
        }
        default: {
            // row = co, col = (ci, kh, kw): dw is stored [CO, CI·k·k]
            out[row * p.n + col] = value;
        }
    }
}

// The tiled product shared by the three entry points.
fn conv_gemm(mode: u32, lid: vec3<u32>, wid: vec3<u32>, groups: vec3<u32>) {
    let row0 = (wid.y + wid.z * groups.y) * TILE_M;
    let col0 = wid.x * TILE_N;
    // A folded grid may have a few blocks past the end (the whole workgroup leaves).
    if (row0 >= p.m) {
        return;
    }
    let thread = lid.y * 16u + lid.x;
    // This thread stages K index k0 + stage_k for rows / columns stage_r + 16·i.
    let stage_k = thread % TILE_K;
    let stage_r = thread / TILE_K;
    for (var i = 0u; i < 4u; i++) {
        a_rows[i] = a_row(mode, row0 + stage_r + 16u * i);
        b_cols[i] = b_col(mode, col0 + stage_r + 16u * i);
    }
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = 0.0;
    }

    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        let k = k0 + stage_k;
        let kk = split_k(mode, k);
        for (var i = 0u; i < 4u; i++) {
            tile_a[stage_k * STRIDE_A + stage_r + 16u * i] = load_a(mode, a_rows[i], kk);
            tile_b[stage_k * STRIDE_B + stage_r + 16u * i] = load_b(mode, b_cols[i], kk, k);
        }
        workgroupBarrier();
        for (var t = 0u; t < TILE_K; t++) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = tile_a[t * STRIDE_A + lid.y * 4u + i];
                bv[i] = tile_b[t * STRIDE_B + lid.x * 4u + i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] += av[i] * bv[j];
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            store(mode, row0 + lid.y * 4u + i, col0 + lid.x * 4u + j, acc[i * 4u + j]);
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn conv_forward(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    conv_gemm(FORWARD, lid, wid, groups);
}

@compute @workgroup_size(16, 16, 1)
fn conv_backward_input(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    conv_gemm(BACKWARD_INPUT, lid, wid, groups);
}

@compute @workgroup_size(16, 16, 1)
fn conv_backward_weight(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    conv_gemm(BACKWARD_WEIGHT, lid, wid, groups);
}
