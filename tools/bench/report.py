"""The benchmark's table: reads the JSON lines that scripts/bench.sh collected (from
normlab-bench, tools/bench/pytorch_bench.py and tools/bench/browser_bench.mjs, all taken
in one invocation) and prints the lab beside its peers, with the ratios and the targets
of the performance issue:

- in the browser, on one WebGPU adapter: the lab at least 2x TensorFlow.js's images per
  second for both models at batch 64;
- natively: the CPU backend no slower than 1.5x PyTorch's CPU step, on one thread and on
  every core; on an NVIDIA GPU, the lab at least 2x PyTorch eager (CUDA) at batch 64;
- the page interactive within 2 s of load, the wasm payload under 3 MB compressed.

    python3 tools/bench/report.py target/bench/results-….jsonl

Standard library only. Prints Markdown tables (they go into the README as they are).
"""

import json
import sys

MODEL = {"cnn": "CNN+BN", "mlp": "MLP+BN", "transformer": "Transformer+LN"}


def load(path):
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                print(f"warning: {path}:{number}: not JSON ({e})", file=sys.stderr)
    return records


def find(records, **want):
    for r in records:
        if all(r.get(k) == v for k, v in want.items()) and "error" not in r:
            return r
    return None


def verdict(ok):
    return "met" if ok else "MISSED"


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def ms(r):
    if not r:
        return "-"
    return f"{r['ms_per_step']:.2f}" if r["ms_per_step"] < 10 else f"{r['ms_per_step']:.1f}"


def spread(r):
    """The fastest and slowest timed block, ms per step: how steady the figure was."""
    blocks = r.get("block_ms") if r else None
    if not blocks:
        return "-"
    low, high = min(blocks), max(blocks)
    return f"{low:.2f}–{high:.2f}" if high < 10 else f"{low:.1f}–{high:.1f}"


def ips(r):
    return f"{r['images_per_s']:.0f}" if r else "-"


def images_ratio_at_64(lab, peer, batch, checks):
    """The lab's images per second over the peer's, and at batch 64 the "at least 2x"
    target (its verdict appended to `checks`): (ratio cell, target cell)."""
    ratio = lab["images_per_s"] / peer["images_per_s"] if lab and peer else None
    target = ""
    if batch == 64 and ratio is not None:
        target = f"≥ 2×: {verdict(ratio >= 2.0)}"
        checks.append(ratio >= 2.0)
    return (f"{ratio:.2f}×" if ratio else "-"), target


def keys(records, **want):
    """(model, batch) pairs present among the records matching `want`, in order."""
    seen = []
    for r in records:
        if all(r.get(k) == v for k, v in want.items()) and "model" in r:
            key = (r["model"], r["batch"])
            if key not in seen:
                seen.append(key)
    return sorted(seen, key=lambda k: (k[1], k[0]))


def browser_section(records):
    lab_any = find(records, suite="browser", framework="normlab")
    tf_any = find(records, suite="browser", framework="tfjs")
    if not (lab_any or tf_any):
        return []
    device = (lab_any or tf_any).get("device", "?")
    version = tf_any.get("version", "?") if tf_any else "?"
    print(f"### In the browser: one WebGPU adapter ({device}), TensorFlow.js {version} (webgpu backend)\n")
    rows, checks = [], []
    for model, batch in keys(records, suite="browser"):
        lab = find(records, suite="browser", framework="normlab", model=model, batch=batch)
        tf = find(records, suite="browser", framework="tfjs", model=model, batch=batch)
        ratio, target = images_ratio_at_64(lab, tf, batch, checks)
        dispatches = lambda r: f"{r.get('dispatches_per_step', 0):.0f} / {r.get('submissions_per_step', 0):.1f}" if r else "-"
        rows.append(
            [MODEL[model], batch, ms(lab), ips(lab), ms(tf), ips(tf), ratio, dispatches(lab), dispatches(tf), target]
        )
    table(
        ["model", "batch", "lab ms/step", "lab images/s", "TF.js ms/step", "TF.js images/s",
         "lab ÷ TF.js (images/s)", "lab dispatches / submits", "TF.js dispatches / submits", "target"],
        rows,
    )
    return checks


def native_cpu_section(records):
    rows, checks = [], []
    thread_counts = sorted({r.get("threads") for r in records if r.get("backend") == "cpu" and r.get("threads")})
    device = None
    for model, batch in keys(records, suite="native", backend="cpu"):
        for threads in thread_counts:
            lab = find(records, suite="native", framework="normlab", backend="cpu", model=model, batch=batch, threads=threads)
            torch = find(records, suite="native", framework="pytorch", backend="cpu", model=model, batch=batch, threads=threads)
            device = device or (lab or torch or {}).get("device")
            ratio = lab["ms_per_step"] / torch["ms_per_step"] if lab and torch else None
            ok = ratio is not None and ratio <= 1.5
            if ratio is not None:
                checks.append(ok)
            rows.append(
                [MODEL[model], batch, threads, ms(lab), spread(lab), ms(torch), spread(torch),
                 f"{ratio:.2f}×" if ratio else "-", f"≤ 1.5×: {verdict(ok)}" if ratio else ""]
            )
    if rows:
        torch_any = find(records, framework="pytorch", backend="cpu")
        version = torch_any.get("version", "?") if torch_any else "?"
        print(f"### Natively on the CPU ({device}): the lab's CPU backend and PyTorch {version} eager\n")
        table(["model", "batch", "threads", "lab ms/step", "lab blocks", "PyTorch ms/step", "PyTorch blocks",
               "lab ÷ PyTorch (time)", "target"], rows)
    return checks


def native_gpu_section(records):
    runs = [r for r in records if r.get("suite") == "native" and r.get("backend") == "vulkan" and "error" not in r]
    if not runs:
        return []
    print(f"### Natively on wgpu (Vulkan: {runs[0].get('device', '?')})\n")
    rows = []
    for r in sorted(runs, key=lambda r: (r["batch"], r["model"])):
        busy = r.get("gpu_busy_share")
        rows.append(
            [MODEL[r["model"]], r["batch"], ms(r), ips(r), f"{r.get('submissions_per_step', 0):.1f}",
             f"{r.get('dispatches_per_step', 0):.0f}", f"{100 * busy:.0f} %" if busy is not None else "-"]
        )
    table(["model", "batch", "ms/step", "images/s", "submissions/step", "dispatches/step", "GPU busy"], rows)
    for r in sorted(runs, key=lambda r: (r["batch"], r["model"])):
        if r["batch"] != 64 or not r.get("kernels"):
            continue
        print(f"GPU time per kernel, {MODEL[r['model']]} at batch 64 (from timestamp queries):\n")
        table(
            ["kernel", "ms/step", "share of the step", "dispatches/step"],
            [[k["kernel"], f"{k['ms_per_step']:.2f}", f"{100 * k['ms_per_step'] / r['ms_per_step']:.1f} %",
              f"{k['dispatches_per_step']:.0f}"] for k in r["kernels"][:8]],
        )
    checks = []
    cuda = [r for r in records if r.get("framework") == "pytorch" and r.get("backend") == "cuda" and "error" not in r]
    if cuda:
        print(f"### On {cuda[0].get('device', 'the GPU')}: the lab on Vulkan and PyTorch eager on CUDA\n")
        rows = []
        for model, batch in keys(records, framework="pytorch", backend="cuda"):
            lab = find(records, suite="native", backend="vulkan", model=model, batch=batch)
            torch = find(records, framework="pytorch", backend="cuda", model=model, batch=batch)
            ratio, target = images_ratio_at_64(lab, torch, batch, checks)
            rows.append([MODEL[model], batch, ms(lab), ms(torch), ratio, target])
        table(["model", "batch", "lab ms/step", "PyTorch ms/step", "lab ÷ PyTorch (images/s)", "target"], rows)
    return checks


def page_section(records):
    checks = []
    startup = find(records, metric="interactive_ms")
    payload = [r for r in records if r.get("metric") == "wasm_payload"]
    if not (startup or payload):
        return checks
    print("### The page\n")
    rows = []
    if startup:
        ok = startup["median"] < 2000
        checks.append(ok)
        rows.append(["interactive after load (localhost, median of %d)" % len(startup.get("samples", [])),
                     f"{startup['median']:.0f} ms", f"< 2 000 ms: {verdict(ok)}"])
    for r in payload:
        if r["file"].endswith(".wasm"):
            ok = min(r["gzip"], r["brotli"]) < 3_000_000
            checks.append(ok)
            rows.append([f"{r['file']} (raw {r['raw'] / 1e6:.2f} MB)",
                         f"gzip {r['gzip'] / 1e6:.2f} MB, brotli {r['brotli'] / 1e6:.2f} MB", f"< 3 MB: {verdict(ok)}"])
    table(["measure", "value", "target"], rows)
    return checks


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    records = load(sys.argv[1])
    errors = [r for r in records if "error" in r]
    checks = []
    checks += browser_section(records)
    checks += native_cpu_section(records)
    checks += native_gpu_section(records)
    checks += page_section(records)
    for r in errors:
        what = " ".join(str(r.get(k)) for k in ("framework", "backend", "model", "batch", "metric") if r.get(k))
        print(f"error in {what}: {r['error']}")
    missed = checks.count(False)
    print(f"targets: {len(checks) - missed} met, {missed} missed" + (f"; {len(errors)} measurements failed" if errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
