// cross_entropy.wgsl — softmax cross-entropy, mean over the counted rows (F.cross_entropy
// with ignore_index: a row whose label is negative, a sequence's padding, is not counted).
//
//   loss_r   = logsumexp(logits[r, :]) − logits[r, label_r]
//   counted  = #{ r : label_r ≥ 0 }
//   metrics[4·slot]     = (1/counted) Σ_{counted r} loss_r
//   metrics[4·slot + 1] = #{ counted r : argmax logits[r, :] = label_r }
//   (slots are 4 floats wide; the other two hold gradient norms written elsewhere)
//   dlogits[r, c] = (softmax(logits[r, :])[c] − [c = label_r]) / counted, 0 on ignored rows
//                   (when write_grad)
//
// One workgroup of 256 threads: the rows are counted first (the gradient divides by the
// count), then each thread takes every 256th row and the workgroup sums the per-thread
// partials in shared memory. Batches are at most a few thousand rows.
// A non-finite logit makes the loss NaN or Inf, which the host reads as divergence.
//
// Bindings: 0 params, 1 logits, 2 labels (f32), 3 dlogits, 4 metrics.
// Keep in sync with `CrossEntropyParams` in src/backend/gpu/cross_entropy.rs.

struct Params {
    rows: u32,
    classes: u32,
    slot: u32,
    write_grad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;

var<workgroup> partial_loss: array<f32, 256>;
var<workgroup> partial_correct: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn cross_entropy_loss(@builtin(local_invocation_id) lid: vec3<u32>) {
    var own = 0.0;
    for (var r = lid.x; r < p.rows; r += 256u) {
        own += select(0.0, 1.0, labels[r] >= 0.0);
    }
    partial_loss[lid.x] = own;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial_loss[lid.x] += partial_loss[lid.x + stride];
        }
        workgroupBarrier();
    }
    let counted = partial_loss[0];
    workgroupBarrier();
    var loss = 0.0;
    var correct = 0.0;
    for (var r = lid.x; r < p.rows; r += 256u) {
        let base = r * p.classes;
        if (labels[r] < 0.0) {
            if (p.write_grad == 1u) {
                for (var c = 0u; c < p.classes; c++) {
                    dlogits[base + c] = 0.0;
                }
            }
            continue;
        }
        let label = u32(labels[r]);
        // The first maximum, like torch.argmax; subtracting it keeps exp() finite.
        var max_v = logits[base];
        var arg_max = 0u;
        for (var c = 1u; c < p.classes; c++) {
            if (logits[base + c] > max_v) {
                max_v = logits[base + c];
                arg_max = c;
            }
        }
        var sum_exp = 0.0;
        for (var c = 0u; c < p.classes; c++) {
            sum_exp += exp(logits[base + c] - max_v);
        }
        loss += max_v + log(sum_exp) - logits[base + label];
        if (arg_max == label) {
            correct += 1.0;
        }
        if (p.write_grad == 1u) {
            for (var c = 0u; c < p.classes; c++) {
                let prob = exp(logits[base + c] - max_v) / sum_exp;
                let target_v = select(0.0, 1.0, c == label);
                dlogits[base + c] = (prob - target_v) / counted;
            }
        }
    }
    partial_loss[lid.x] = loss;
    partial_correct[lid.x] = correct;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial_loss[lid.x] += partial_loss[lid.x + stride];
            partial_correct[lid.x] += partial_correct[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        metrics[4u * p.slot] = partial_loss[0] / counted;
        metrics[4u * p.slot + 1u] = partial_correct[0];
    }
}
