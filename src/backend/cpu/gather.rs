//! CPU twin of `shaders/gather.wgsl`.

/// `out[r, :] = src[indices[r], :]`; indices are whole numbers stored as `f32`.
pub fn gather_rows(src: &[f32], indices: &[f32], out: &mut [f32], rows: usize, row_len: usize) {
    for r in 0..rows {
        let from = indices[r] as usize * row_len;
        out[r * row_len..(r + 1) * row_len].copy_from_slice(&src[from..from + row_len]);
    }
}
