"""The benchmark's table: reads the JSON lines that scripts/bench.sh collected (from
normlab-bench, tools/bench/pytorch_bench.py and tools/bench/browser_bench.mjs, all taken
in one invocation) and prints the lab beside its peers, with the ratios and the targets
of the performance issue:

- in the browser, on one WebGPU adapter: the lab at least 2x TensorFlow.js's images per
  second for both models at batch 64;
- in the browser, on the CPU: the page's CPU engine in a Web Worker within 1.5x of the
  native CPU backend on one thread at batch 64; at least 2x TensorFlow.js's wasm backend
  for the MLP and 2x the best CPU-side TensorFlow.js backend (wasm or cpu) for the CNN,
  at batch 64;
- lesson 5's quick sweep at least 1.7x faster in the page's workers than in one worker
  (8 or more runs, on the 2-core machine), with an estimate for 4- and 8-core laptops;
- natively: the CPU backend no slower than 1.5x PyTorch's CPU step, on one thread and on
  every core; on an NVIDIA GPU, the lab at least 2x PyTorch eager (CUDA) at batch 64;
- the page interactive within 2 s of load, the wasm payload under 3 MB compressed.

    python3 tools/bench/report.py target/bench/results-….jsonl

Standard library only. Prints Markdown tables (they go into the README as they are).
"""

import json
import math
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
    lab_any = find(records, suite="browser", framework="normlab", backend="webgpu")
    tf_any = find(records, suite="browser", framework="tfjs", backend="webgpu")
    if not (lab_any or tf_any):
        return []
    device = (lab_any or tf_any).get("device", "?")
    version = tf_any.get("version", "?") if tf_any else "?"
    print(f"### In the browser: one WebGPU adapter ({device}), TensorFlow.js {version} (webgpu backend)\n")
    rows, checks = [], []
    for model, batch in keys(records, suite="browser", backend="webgpu"):
        lab = find(records, suite="browser", framework="normlab", backend="webgpu", model=model, batch=batch)
        tf = find(records, suite="browser", framework="tfjs", backend="webgpu", model=model, batch=batch)
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
    thread_counts = sorted(
        {r.get("threads") for r in records if r.get("suite") == "native" and r.get("backend") == "cpu" and r.get("threads")}
    )
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
        torch_any = find(records, suite="native", framework="pytorch", backend="cpu")
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


def ratio_cell(x):
    return f"{x:.2f}×" if x is not None else "-"


def failed(records, **want):
    """The first record matching `want` that carries an error (a failed or untrainable
    configuration), or None."""
    for r in records:
        if all(r.get(k) == v for k, v in want.items()) and "error" in r:
            return r
    return None


def cannot_train_cell(r):
    reason = r.get("cannot_train") or r.get("error", "?")
    return f"cannot train: {reason}" if r.get("cannot_train") else f"failed: {reason}"


def worker_section(records):
    """The page's CPU engine in a Web Worker against the native CPU backend on one thread."""
    pairs = keys(records, suite="browser", framework="normlab", backend="cpu-worker")
    if not pairs:
        return []
    device = (find(records, suite="browser", framework="normlab", backend="cpu-worker") or {}).get("device", "?")
    print("### The page's CPU engine (wasm, in a Web Worker) against the native CPU backend on one thread\n")
    rows, checks = [], []
    for model, batch in pairs:
        lab = find(records, suite="browser", framework="normlab", backend="cpu-worker", model=model, batch=batch)
        native = find(records, suite="native", framework="normlab", backend="cpu", threads=1, model=model, batch=batch)
        narrow = find(records, suite="native", framework="normlab", backend="cpu-128bit", threads=1, model=model, batch=batch)
        ratio = lab["ms_per_step"] / native["ms_per_step"] if lab and native else None
        narrow_ratio = lab["ms_per_step"] / narrow["ms_per_step"] if lab and narrow else None
        target = ""
        if batch == 64:
            if ratio is not None:
                checks.append(ratio <= 1.5)
                target = f"within 1.5× of native: {verdict(ratio <= 1.5)}"
            else:
                target = "within 1.5× of native: not measured"
        if not lab:
            bad = failed(records, suite="browser", framework="normlab", backend="cpu-worker", model=model, batch=batch)
            rows.append([MODEL[model], batch, f"failed: {bad['error']}" if bad else "-", "-", "-",
                         ms(native) if native else "not measured", ips(native) if native else "not measured", "-",
                         ms(narrow) if narrow else "not measured", "-", target])
            continue
        rows.append(
            [MODEL[model], batch, ms(lab), spread(lab), ips(lab),
             ms(native) if native else "not measured", ips(native) if native else "not measured",
             ratio_cell(ratio), ms(narrow) if narrow else "not measured", ratio_cell(narrow_ratio), target]
        )
    table(["model", "batch", "worker ms/step", "worker blocks", "worker images/s", "native ms/step (1 thread)",
           "native images/s", "worker ÷ native (time)", "native, 128-bit vectors, ms/step",
           "worker ÷ native 128-bit", "target"], rows)
    print("Native 128-bit: the same CPU backend built with its matrix products limited to 128-bit vectors "
          "without FMA (matrixmultiply's MMTEST_FEATURE=sse2), the vector width WebAssembly SIMD has; the "
          "full native backend's products use AVX2 with FMA, eight lanes and a fused multiply-add.\n")
    has_native = find(records, suite="native", framework="normlab", backend="cpu", threads=1) is not None
    print(f"The worker: {device}. Native: normlab-bench's CPU backend on one thread, from the same results file"
          + ("" if has_native else " (none there: not measured)") + ".\n")
    return checks


def tfjs_cpu_records(records, backend, model, batch):
    """TensorFlow.js's records on a CPU-side backend for one configuration: (the fastest
    that trained or None, every record including failed and untrainable ones)."""
    every = [r for r in records if r.get("suite") == "browser" and r.get("framework") == "tfjs"
             and r.get("backend") == backend and r.get("model") == model and r.get("batch") == batch]
    trained = [r for r in every if "error" not in r]
    best = max(trained, key=lambda r: r["images_per_s"]) if trained else None
    return best, every


def tfjs_cell(best, every):
    if best:
        threads = best.get("threads")
        return f"{best['images_per_s']:.0f}" + (f" ({threads} thread{'s' if threads != 1 else ''})" if best.get("backend") == "wasm" else "")
    if every:
        return cannot_train_cell(every[0])
    return "not measured"


def threads_words(n):
    return f"{n} thread" + ("s" if n != 1 else "")


def tfjs_cpu_section(records):
    """The lab's CPU engine (in its worker) against TensorFlow.js's wasm and cpu backends."""
    pairs = keys(records, suite="browser", framework="tfjs", backend="wasm") + keys(
        records, suite="browser", framework="tfjs", backend="cpu")
    pairs = sorted(set(pairs + keys(records, suite="browser", framework="normlab", backend="cpu-worker")),
                   key=lambda k: (k[1], k[0]))
    if not any(r.get("framework") == "tfjs" and r.get("backend") in ("wasm", "cpu") for r in records):
        return []
    any_tf = next((r for r in records if r.get("framework") == "tfjs" and r.get("backend") in ("wasm", "cpu")
                   and r.get("version")), {})
    print(f"### Against TensorFlow.js's CPU-side backends (TensorFlow.js {any_tf.get('version', '?')}: wasm and cpu), "
          "in the same browser\n")
    rows, checks = [], []
    for model, batch in pairs:
        lab = find(records, suite="browser", framework="normlab", backend="cpu-worker", model=model, batch=batch)
        wasm, wasm_all = tfjs_cpu_records(records, "wasm", model, batch)
        cpu, cpu_all = tfjs_cpu_records(records, "cpu", model, batch)
        lab_ips = lab["images_per_s"] if lab else None
        over = lambda peer: lab_ips / peer["images_per_s"] if lab_ips and peer else None
        best_tf = max([r for r in (wasm, cpu) if r], key=lambda r: r["images_per_s"], default=None)
        target = ""
        if batch == 64 and model == "mlp":
            ratio = over(wasm)
            if ratio is not None:
                checks.append(ratio >= 2.0)
                target = f"≥ 2× TF.js wasm: {verdict(ratio >= 2.0)}"
            else:
                target = "≥ 2× TF.js wasm: " + ("TF.js wasm cannot train it" if wasm_all and lab else "not measured")
        elif batch == 64 and model == "cnn":
            ratio = over(best_tf)
            if ratio is not None:
                checks.append(ratio >= 2.0)
                target = f"≥ 2× the best CPU-side TF.js ({best_tf['backend']}): {verdict(ratio >= 2.0)}"
            else:
                target = "≥ 2× the best CPU-side TF.js: not measured"
        lab_cell = ips(lab) if lab else "not measured"
        rows.append([MODEL[model], batch, lab_cell, tfjs_cell(wasm, wasm_all), tfjs_cell(cpu, cpu_all),
                     ratio_cell(over(wasm)), ratio_cell(over(cpu)), target])
    table(["model", "batch", "lab images/s (worker, 1 thread)", "TF.js wasm images/s", "TF.js cpu images/s",
           "lab ÷ TF.js wasm", "lab ÷ TF.js cpu", "target"], rows)

    # How TensorFlow.js's wasm backend ran: SIMD, threads, each thread setting's figure.
    wasm_runs = [r for r in records if r.get("framework") == "tfjs" and r.get("backend") == "wasm" and r.get("wasm")]
    if wasm_runs:
        w = wasm_runs[0]["wasm"]
        isolated = "cross-origin isolated" if w.get("cross_origin_isolated") else "NOT cross-origin isolated"
        free = next((r["effective_cores"] for r in wasm_runs if "effective_cores" in r), None)
        free_words = (f"; the machine gave {free:.2f} of its {wasm_runs[0].get('cores', '?')} cores just before"
                      if free is not None else "")
        print(f"TF.js wasm ran with SIMD {'on' if w.get('simd') else 'OFF'} (binary {w.get('binary')}; the page "
              f"{isolated}, navigator.hardwareConcurrency {w.get('hardware_concurrency')}{free_words}). Threads: "
              "TensorFlow.js 4.22 caps its XNNPACK pool at half the cores it is told of (at most 4), so as shipped it "
              "takes 1 thread on 2 cores; the benchmark measures it as shipped and with one thread per core (the page "
              "tells TensorFlow.js twice the cores while its module starts), and the table takes the faster:\n")
        by_mode = {}
        for r in wasm_runs:
            by_mode.setdefault((r.get("model"), r.get("batch")), []).append(r)
        for (model, batch), runs in sorted(by_mode.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            parts = []
            for r in runs:
                asked = r.get("wasm_threads_mode")
                mode = {"shipped": "as shipped", "all": "one per core", None: "as run"}.get(asked, f"{asked} asked")
                told = r["wasm"].get("hardware_concurrency_told")
                told_note = f", told {told} cores" if told and told != r["wasm"].get("hardware_concurrency") else ""
                figure = f"{r['images_per_s']:.0f} images/s" if "error" not in r else cannot_train_cell(r)
                parts.append(f"{threads_words(r.get('threads', 1))} ({mode}{told_note}): {figure}")
            print(f"- {MODEL[model]} at {batch}: " + "; ".join(parts))
        print()
    return checks


def list_schedule(costs, lanes):
    """The makespan of `costs` run in order, each on the lane that is free first."""
    free = [0.0] * max(1, lanes)
    for c in costs:
        i = free.index(min(free))
        free[i] += c
    return max(free)


def sweep_section(records):
    sweeps = [r for r in records if r.get("metric") == "l5_sweep"]
    if not sweeps:
        return []
    preset = sweeps[0].get("preset", "quick")
    print(f"### Lesson 5's {preset} sweep on the CPU engine: workers against one worker\n")
    measured = {}
    for r in sweeps:
        measured.setdefault(r.get("workers_param"), r)
    default, one, page = measured.get(None), measured.get(1), measured.get(0)
    ok = lambda r: r is not None and "error" not in r
    cores = next((r.get("hardware_concurrency") for r in sweeps if r.get("hardware_concurrency")), None)
    rows, checks = [], []
    for label, r in [("the page's workers (default: one per core)", default), ("one worker (workers=1)", one),
                     ("the page's own thread (workers=0)", page)]:
        if r is None:
            continue
        if not ok(r):
            rows.append([label, "-", "-", f"failed: {r['error']}", "-", "-", ""])
            continue
        speedup = one["training_s"] / r["training_s"] if ok(one) else None
        target = ""
        if r is default and speedup is not None:
            if preset != "quick":
                target = f"≥ 1.7× is set for the quick preset (this is {preset})"
            elif r["runs"] >= 8 and r.get("effective_cores", 2.0) < 1.7:
                # 1.7× cannot come out of fewer than 1.7 cores: something else was running.
                target = (f"≥ 1.7× with 8 or more runs on this {cores}-core machine: not judged (the machine gave "
                          f"{r['effective_cores']:.2f} of its {r.get('cores', cores)} cores)")
            elif r["runs"] >= 8:
                met = speedup >= 1.7
                checks.append(met)
                target = f"≥ 1.7× with 8 or more runs on this {cores}-core machine: {verdict(met)}"
            else:
                target = f"≥ 1.7× needs 8 or more runs ({r['runs']} here)"
        workers = r["workers_started"]
        shown = f", progress: CPU × {r['threads_shown']} threads" if r.get("threads_shown", 1) > 1 else ""
        free = f"{r['effective_cores']:.2f} of {r.get('cores', '?')}" if "effective_cores" in r else "-"
        rows.append([label, f"{workers}{shown}", r["runs"], f"{r['training_s']:.1f}",
                     "1.00×" if r is one else ratio_cell(speedup), free, target])
    table(["where the runs train", "workers started", "runs", "seconds (first step to the job's end)",
           "speedup over one worker", "cores free just before", "target"], rows)
    print(f"navigator.hardwareConcurrency: {cores}. The time runs from the first training step (the progress's "
          "data-steps above 0) to the job's end; the data set's loading and the step-cost measurement before it are "
          "left out (" + ", ".join(f"{r['waiting_s']:.1f} s" for r in (default, one, page) if ok(r)) + ")."
          + (" The machine's 1-minute load average before → after each: "
             + ", ".join(f"{r['load_before']:.1f} → {r['load_after']:.1f}" for r in (default, one, page)
                         if ok(r) and "load_before" in r)
             + " (anything else running on the machine shows here). \"Cores free\": n threads spinning at once "
               "against one alone, just before each measurement." if any(ok(r) and "load_before" in r
                                                                           for r in (default, one, page)) else "")
          + "\n")

    # What a 4- and an 8-core laptop should see: an estimate from the measured costs.
    if ok(default) and ok(one) and one["runs"] > 0 and default["workers_started"] >= 1:
        runs, t1, tw, w = one["runs"], one["training_s"], default["training_s"], default["workers_started"]
        per_run = t1 / runs
        slowdown = tw / (math.ceil(runs / w) * per_run)
        starts = one.get("run_starts_s")
        durations = None
        if starts and len(starts) == runs and all(x is not None for x in starts):
            edges = [max(0.0, x) for x in starts] + [t1]
            durations = [max(0.0, b - a) for a, b in zip(edges, edges[1:])]
            slowdown_runs = tw / list_schedule(durations, w)
        rows = []
        for n in (4, 8):
            lanes = min(n, 8, runs)
            est = math.ceil(runs / lanes) * per_run * slowdown
            row = [f"{n} cores", lanes, f"{est:.1f}", ratio_cell(t1 / est)]
            if durations:
                est_runs = list_schedule(durations, lanes) * slowdown_runs
                row += [f"{est_runs:.1f}", ratio_cell(t1 / est_runs)]
            rows.append(row)
        header = ["laptop (estimate)", "workers", "seconds (equal runs)", "speedup (equal runs)"]
        if durations:
            header += ["seconds (measured run times)", "speedup (measured run times)"]
        print(f"Estimate, not a measurement, for a 4- and an 8-core laptop as fast per core as this machine: "
              f"each run costs {per_run:.2f} s (one worker's {t1:.1f} s over {runs} runs), the runs are list-scheduled "
              f"over min(cores, 8) workers in the page's order, and each worker is slowed as much as the measured "
              f"{w} were ({slowdown:.2f}× what equal runs over {w} workers would take"
              + (f"; {slowdown_runs:.2f}× with the one worker's own run times" if durations else "") + "):\n")
        table(header, rows)
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
    # The page loads every wasm file of the build (the engine workers' too): the target is
    # for them together.
    wasm = [r for r in payload if r["file"].endswith(".wasm")]
    for r in wasm:
        rows.append([f"{r['file']} (raw {r['raw'] / 1e6:.2f} MB)",
                     f"gzip {r['gzip'] / 1e6:.2f} MB, brotli {r['brotli'] / 1e6:.2f} MB", ""])
    if wasm:
        gzip, brotli = sum(r["gzip"] for r in wasm), sum(r["brotli"] for r in wasm)
        ok = min(gzip, brotli) < 3_000_000
        checks.append(ok)
        rows.append([f"all {len(wasm)} wasm files together (raw {sum(r['raw'] for r in wasm) / 1e6:.2f} MB)",
                     f"gzip {gzip / 1e6:.2f} MB, brotli {brotli / 1e6:.2f} MB", f"< 3 MB compressed: {verdict(ok)}"])
    table(["measure", "value", "target"], rows)
    return checks


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    records = load(sys.argv[1])
    errors = [r for r in records if "error" in r and not r.get("cannot_train")]
    untrainable = [r for r in records if r.get("cannot_train")]
    checks = []
    checks += browser_section(records)
    checks += worker_section(records)
    checks += tfjs_cpu_section(records)
    checks += sweep_section(records)
    checks += native_cpu_section(records)
    checks += native_gpu_section(records)
    checks += page_section(records)
    for r in errors:
        what = " ".join(str(r.get(k)) for k in ("framework", "backend", "model", "batch", "metric") if r.get(k))
        print(f"error in {what}: {r['error']}")
    for r in untrainable:
        what = " ".join(str(r.get(k)) for k in ("framework", "backend", "wasm_threads_mode", "model", "batch") if r.get(k))
        print(f"cannot train ({what}): {r['cannot_train']}")
    missed = checks.count(False)
    print(f"targets: {len(checks) - missed} met, {missed} missed" + (f"; {len(errors)} measurements failed" if errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
