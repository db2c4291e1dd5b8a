#!/usr/bin/env bash
# The NVIDIA part of the benchmark on its own: the lab's native wgpu backend (Vulkan)
# against PyTorch eager on CUDA, the same models, rows and timing rule as
# scripts/bench.sh, one table (tools/bench/report.py). For a machine with an NVIDIA GPU, its
# Vulkan driver and a Python whose PyTorch sees CUDA, which may have no network and no Rust
# toolchain: a normlab-bench binary built elsewhere (x86-64 Linux) can be handed in.
#
#   bash scripts/bench-gpu.sh [PATH-TO-normlab-bench]
#       default: target/release/normlab-bench, built with cargo when cargo is there
#   PYTHON=python3 (the one with PyTorch)    BENCH_QUICK=1 (batch 64 only, fewer steps)
#
# Raw figures: target/bench/results-gpu-*.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[bench-gpu]\033[0m %s\n' "$*" >&2; }

bench=${1:-target/release/normlab-bench}
python=${PYTHON:-python3}
if [ ! -x "$bench" ]; then
    if command -v cargo >/dev/null; then
        say "building normlab-bench"
        cargo build --release --bin normlab-bench
        bench=target/release/normlab-bench
    else
        say "no $bench, and no cargo to build it: pass a normlab-bench binary"
        exit 2
    fi
fi
if ! "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    say "$python's PyTorch sees no CUDA device (or is missing): nothing to compare against"
    exit 2
fi

if [ -n "${BENCH_QUICK:-}" ]; then
    args=(--batches 64 --steps 5 --blocks 3)
else
    args=()
fi
data=www/data/fashion-mnist.nlds.gz
mkdir -p target/bench
out="target/bench/results-gpu-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

say "native wgpu (Vulkan), with per-kernel timestamps"
"$bench" --only gpu --data "$data" --json "$out" "${args[@]}"
say "PyTorch eager on CUDA"
"$python" tools/bench/pytorch_bench.py --device cuda --data "$data" "${args[@]}" >> "$out"

"$python" tools/bench/report.py "$out"
