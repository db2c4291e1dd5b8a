//! CPU twin of `shaders/cross_entropy.wgsl`: softmax cross-entropy with mean reduction,
//! as `F.cross_entropy(logits, labels)`.

/// Returns `(mean loss, counted rows whose arg-max equals the label)`. Rows with a
/// negative label are ignored (PyTorch's `ignore_index`, for a sequence's padding): the
/// mean is over the other rows, and their gradient is 0. With `dlogits`, also writes
/// `∂ mean-loss / ∂ logits = (softmax − onehot) / counted rows`.
pub fn cross_entropy(
    logits: &[f32],
    labels: &[f32],
    mut dlogits: Option<&mut [f32]>,
    rows: usize,
    classes: usize,
) -> (f32, f32) {
    let counted = labels[..rows].iter().filter(|&&l| l >= 0.0).count() as f32;
    let mut loss_sum = 0.0f32;
    let mut correct = 0.0f32;
    for r in 0..rows {
        let row = &logits[r * classes..(r + 1) * classes];
        if labels[r] < 0.0 {
            if let Some(d) = dlogits.as_deref_mut() {
                d[r * classes..(r + 1) * classes].fill(0.0);
            }
            continue;
        }
        let label = labels[r] as usize;
        // Subtracting the row maximum keeps exp() finite (log-sum-exp trick).
        let mut max = f32::NEG_INFINITY;
        let mut arg_max = 0;
        for (c, &v) in row.iter().enumerate() {
            if v > max {
                max = v;
                arg_max = c;
            }
        }
        let sum_exp: f32 = row.iter().map(|&v| (v - max).exp()).sum();
        let log_sum_exp = max + sum_exp.ln();
        loss_sum += log_sum_exp - row[label];
        if arg_max == label {
            correct += 1.0;
        }
        if let Some(d) = dlogits.as_deref_mut() {
            for c in 0..classes {
                let p = (row[c] - max).exp() / sum_exp;
                let target = if c == label { 1.0 } else { 0.0 };
                d[r * classes + c] = (p - target) / counted;
            }
        }
    }
    (loss_sum / counted, correct)
}
