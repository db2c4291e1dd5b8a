// matmul.wgsl — out[m, n] = op(a)[m, k] · op(b)[k, n]
//
// One kernel serves a linear layer's forward product (y = x·Wᵀ + b, trans_b) and both
// backward products (dx = dy·W, plain; dW = dyᵀ·x, trans_a). What a layer adds to the
// product is added as each value is stored (the epilogue):
//   out[m, n] = Σ_k op(a)[m, k]·op(b)[k, n]  + bias[(m mod bias_rows)·n_cols + n]  (has_bias)
//                                            + residual[m, n]                       (has_residual)
// bias_rows = 1 is a linear layer's bias; T, a position embedding over [N·T] token rows.
//
// Tiling in registers: each thread computes a 4×4 block of `out`, so every value it loads
// from op(a) and op(b) serves four multiply-adds; a workgroup of 8×8 threads covers a
// 32×32 block. There is no staging in workgroup memory and no barrier. Staging pays on a
// large product, where many threads reuse a tile; the lab's products are small
// (K ≤ 3 136, M and N ≤ a few hundred), and the software GPUs a student may run on
// (SwiftShader in Chrome without a GPU, lavapipe) pay for each barrier by switching
// between every thread of the workgroup: this form runs their training step several
// times faster, and a GPU's caches serve the repeated loads.
//
// Rows and columns past the matrix are read clamped to its last row or column and never
// written, so any m, k, n work without a branch in the inner loop.
//
// Bindings: 0 params (uniform), 1 a, 2 b, 3 out, 4 bias, 5 residual (each read only when
// its flag is 1).
// Keep in sync with `MatmulParams` in src/backend/gpu/matmul.rs.

struct Params {
    m: u32,
    k: u32,
    n: u32,
    trans_a: u32, // 1: a is stored [k, m]
    trans_b: u32, // 1: b is stored [n, k]
    has_bias: u32,
    bias_rows: u32,
    has_residual: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn matmul_tiled(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 4u;
    let col0 = gid.x * 4u;
    if (row0 >= p.m || col0 >= p.n) {
        return;
    }
    // Strides of op(a)[row, k] and op(b)[k, col] as stored.
    var a_row_stride = p.k;
    var a_k_stride = 1u;
    if (p.trans_a == 1u) {
        a_row_stride = 1u;
        a_k_stride = p.m;
    }
    var b_k_stride = p.n;
    var b_col_stride = 1u;
    if (p.trans_b == 1u) {
        b_k_stride = 1u;
        b_col_stride = p.k;
    }
    // Where rows row0..row0+3 of op(a) and columns col0..col0+3 of op(b) start.
    let a0 = min(row0, p.m - 1u) * a_row_stride;
    let a1 = min(row0 + 1u, p.m - 1u) * a_row_stride;
    let a2 = min(row0 + 2u, p.m - 1u) * a_row_stride;
    let a3 = min(row0 + 3u, p.m - 1u) * a_row_stride;
    let b0 = min(col0, p.n - 1u) * b_col_stride;
    let b1 = min(col0 + 1u, p.n - 1u) * b_col_stride;
    let b2 = min(col0 + 2u, p.n - 1u) * b_col_stride;
    let b3 = min(col0 + 3u, p.n - 1u) * b_col_stride;
    // acc[i] holds out[row0 + i, col0..col0+3]: four vector multiply-adds per k.
    var acc: array<vec4<f32>, 4>;
    for (var kk = 0u; kk < p.k; kk++) {
        let a_k = kk * a_k_stride;
        let b_k = kk * b_k_stride;
        let bv = vec4<f32>(b[b0 + b_k], b[b1 + b_k], b[b2 + b_k], b[b3 + b_k]);
        acc[0] += a[a0 + a_k] * bv;
        acc[1] += a[a1 + a_k] * bv;
        acc[2] += a[a2 + a_k] * bv;
        acc[3] += a[a3 + a_k] * bv;
    }
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + j;
            if (row < p.m && col < p.n) {
                var value = acc[i][j];
                if (p.has_bias == 1u) {
                    value += bias[(row % p.bias_rows) * p.n + col];
                }
                if (p.has_residual == 1u) {
                    value += residual[row * p.n + col];
                }
                out[row * p.n + col] = value;
            }
        }
    }
}
