//! CPU twin of `shaders/matmul.wgsl`: `out = op(a) · op(b)`, via the `matrixmultiply` crate.

use crate::backend::MatmulShape;

use super::parallel;

/// Computes rows `rows.start..rows.end` of `out[m, n] = op(a)[m, k] · op(b)[k, n]`.
/// `out` holds the whole `[m, n]` result; only the given rows are written.
pub fn matmul_rows(a: &[f32], b: &[f32], out: &mut [f32], shape: MatmulShape, rows: std::ops::Range<usize>) {
    let MatmulShape { m, k, n, .. } = shape;
    assert!(a.len() >= m * k && b.len() >= k * n && out.len() >= m * n, "matmul operands too small for {shape:?}");
    assert!(rows.end <= m);
    if rows.is_empty() || n == 0 {
        return;
    }
    // Rows are independent: each thread computes a share of them.
    let out_rows = &mut out[rows.start * n..rows.end * n];
    parallel::for_each_share_mut(out_rows, n, k * n, |first, block| {
        let start = rows.start + first;
        sgemm_rows(a, b, block, shape, start..start + block.len() / n);
    });
}

/// Rows `rows` of the product into `out_block`, which holds exactly those rows.
fn sgemm_rows(a: &[f32], b: &[f32], out_block: &mut [f32], shape: MatmulShape, rows: std::ops::Range<usize>) {
    let MatmulShape { m, k, n, trans_a, trans_b } = shape;
    // Strides (row, column) of op(a) and op(b) as stored.
    let (rsa, csa) = if trans_a { (1, m) } else { (k, 1) };
    let (rsb, csb) = if trans_b { (1, k) } else { (n, 1) };
    let block_rows = rows.end - rows.start;
    if k == 0 {
        out_block.fill(0.0);
        return;
    }
    // SAFETY: the strides and sizes describe memory inside `a`, `b` and `out_block`,
    // checked by the length assertions of `matmul_rows` (`out_block` holds exactly
    // `block_rows` rows of n); `out_block` does not alias the inputs.
    unsafe {
        matrixmultiply::sgemm(
            block_rows,
            k,
            n,
            1.0,
            a.as_ptr().add(rows.start * rsa),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            0.0,
            out_block.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// The whole product.
pub fn matmul(a: &[f32], b: &[f32], out: &mut [f32], shape: MatmulShape) {
    matmul_rows(a, b, out, shape, 0..shape.m);
}
