// matmul.wgsl — out[m, n] = op(a)[m, k] · op(b)[k, n]
//
// One kernel serves a linear layer's forward product (y = x·Wᵀ, trans_b) and both
// backward products (dx = dy·W, plain; dW = dyᵀ·x, trans_a).
//
// Tiling: each workgroup of 16×16 threads computes a 64×64 block of `out`, each thread a
// 4×4 sub-block. The K dimension is walked in slices of 16: a 64×16 slice of op(a) and a
// 16×64 slice of op(b) are staged in workgroup memory, so every global value is read once
// per block instead of once per output. Loads outside the matrix read 0, so any m, k, n work.
//
// Bindings: 0 params (uniform), 1 a, 2 b, 3 out.
// Keep in sync with `MatmulParams` in src/backend/gpu/matmul.rs.

struct Params {
    m: u32,
    k: u32,
    n: u32,
    trans_a: u32, // 1: a is stored [k, m]
    trans_b: u32, // 1: b is stored [n, k]
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

// Stored k-major so that the inner loop reads consecutive rows/columns.
var<workgroup> tile_a: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_b: array<f32, 1024>; // [TILE_K][TILE_N]

// op(a)[row, col], zero outside the matrix.
fn load_a(row: u32, col: u32) -> f32 {
    if (row >= p.m || col >= p.k) {
        return 0.0;
    }
    if (p.trans_a == 1u) {
        return a[col * p.m + row];
    }
    return a[row * p.k + col];
}

// op(b)[row, col], zero outside the matrix.
fn load_b(row: u32, col: u32) -> f32 {
    if (row >= p.k || col >= p.n) {
        return 0.0;
    }
    if (p.trans_b == 1u) {
        return b[col * p.k + row];
    }
    return b[row * p.n + col];
}

@compute @workgroup_size(16, 16, 1)
fn matmul_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let thread = lid.y * 16u + lid.x;
    let row0 = wid.y * TILE_M;
    let col0 = wid.x * TILE_N;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = 0.0;
    }

    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        // 256 threads stage 1024 values of each tile, four apiece.
        for (var i = 0u; i < 4u; i++) {
            let e = thread + i * 256u;
            let ar = e / TILE_K;
            let ac = e % TILE_K;
            tile_a[ac * TILE_M + ar] = load_a(row0 + ar, k0 + ac);
            let br = e / TILE_N;
            let bc = e % TILE_N;
            tile_b[br * TILE_N + bc] = load_b(k0 + br, col0 + bc);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = tile_a[kk * TILE_M + lid.y * 4u + i];
                bv[i] = tile_b[kk * TILE_N + lid.x * 4u + i];
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
        let row = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x * 4u + j;
            if (row < p.m && col < p.n) {
                out[row * p.n + col] = acc[i * 4u + j];
            }
        }
    }
}
