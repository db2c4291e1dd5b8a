#!/usr/bin/env bash
# The benchmark: the lab against its peers, measured side by side in one invocation, and
# one table at the end. Not a test: it prints figures and never fails on them.
#
#   bash scripts/bench.sh                  everything (about 45 minutes on 2 cores)
#   BENCH_QUICK=1 bash scripts/bench.sh    batch 64 only, fewer steps, lesson 5 smoke (minutes)
#
# 1. native: normlab-bench (the CPU backend on one thread and on every core; native wgpu
#    with per-kernel GPU timestamps) and PyTorch eager on the CPU with the same thread
#    counts (and on CUDA where an NVIDIA GPU is present);
# 2. in headless Chromium: on one WebGPU adapter, the lab's training step against
#    TensorFlow.js's WebGPU backend; on the CPU, the page's CPU engine in a Web Worker
#    against TensorFlow.js's wasm backend (SIMD, threads) and its JavaScript cpu backend;
#    lesson 5's sweep in the page's workers against one worker (and the page's thread);
#    the page's start-up time and its payload;
# 3. tools/bench/report.py prints the table and checks it against the targets.
#
# The peers live outside the lab: PyTorch in its own virtual environment
# (target/bench-venv, from PyPI, ~5 GB with its CUDA libraries), TensorFlow.js in
# tools/bench/node_modules (npm). Raw figures: target/bench/results-*.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

TORCH_VERSION=2.15.0
venv=target/bench-venv
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    say "installing PyTorch $TORCH_VERSION into $venv (PyPI; several GB)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "torch==$TORCH_VERSION"
fi
if [ ! -d tools/bench/node_modules/@tensorflow/tfjs-backend-webgpu ] || [ ! -d tools/bench/node_modules/@tensorflow/tfjs-backend-wasm ]; then
    say "installing TensorFlow.js for the benchmark page (npm)"
    (cd tools/bench && npm ci --no-audit --no-fund --loglevel=error)
fi

say "building normlab-bench and the page"
cargo build --release --bin normlab-bench
trunk build --release

mkdir -p target/bench
out="target/bench/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
if [ -n "${BENCH_QUICK:-}" ]; then
    native_args=(--batches 64 --steps 5 --blocks 3)
    torch_args=(--batches 64 --steps 5 --blocks 3)
    # On the CPU 3 blocks of each one's default steps (browser_bench.mjs: fewer steps would
    # time the lab's wasm before V8 has optimized it); lesson 5's smoke sweep (8 runs,
    # seconds) instead of its quick one (16 runs, about 80 s each way on 2 cores).
    browser_args=(--batches 64 --steps 2 --blocks 2 --loads 3 --cpu-blocks 3 --sweep-preset smoke)
else
    native_args=()
    torch_args=()
    browser_args=()
fi

say "native: the lab (CPU backend, native wgpu)"
./target/release/normlab-bench --json "$out" "${native_args[@]}"
# The same native CPU backend with its matrix products limited to 128-bit vectors without
# FMA (matrixmultiply's MMTEST_FEATURE, read when it compiles, lets no AVX kernel run): the
# vector width WebAssembly SIMD has, so that the page's engine in a worker can be compared
# with native code on equal instructions as well as with the full native backend.
say "native: the lab's CPU backend with 128-bit vectors (no AVX, no FMA)"
MMTEST_FEATURE=sse2 CARGO_TARGET_DIR=target/bench-128bit cargo build --release --bin normlab-bench
./target/bench-128bit/release/normlab-bench --only cpu --models cnn,mlp --json "$out.128bit" "${native_args[@]}"
sed 's/"backend":"cpu"/"backend":"cpu-128bit"/' "$out.128bit" >> "$out"
rm -f "$out.128bit"
say "native: PyTorch on the CPU"
"$venv/bin/python" tools/bench/pytorch_bench.py --device cpu "${torch_args[@]}" >> "$out"
if "$venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    say "native: PyTorch on CUDA"
    "$venv/bin/python" tools/bench/pytorch_bench.py --device cuda "${torch_args[@]}" >> "$out"
fi
say "browser: the lab and TensorFlow.js on one WebGPU adapter and on the CPU; lesson 5's sweep; start-up; payload"
node tools/bench/browser_bench.mjs --out "$out" "${browser_args[@]}" > /dev/null

python3 tools/bench/report.py "$out"
