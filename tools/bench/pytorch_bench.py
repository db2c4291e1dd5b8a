"""PyTorch peer of normlab-bench: how long one training step takes in PyTorch eager mode.

    target/bench-venv/bin/python tools/bench/pytorch_bench.py [--device cpu|cuda]
        [--threads N] [--models cnn,mlp] [--batches 64,256] [--steps N] [--blocks N]
        [--data www/data/fashion-mnist.nlds.gz]

It mirrors src/bin/normlab_bench.rs so that the two sets of figures can be divided:

- the same data: the lab's shipped Fashion-MNIST file, pixels standardised as
  src/data/mod.rs does, the whole training split on the device once; each step gathers
  its rows with index_select (the lab's gather_rows);
- the same models: the notes' CNN and the MLP 784-256-256-10, each with BatchNorm before
  ReLU, in train mode, with cross-entropy (mean) and Adam at lr 1e-3;
- the same methodology: one warm-up block, then `blocks` blocks of `steps` steps, each
  block ended by a read-back of the loss (plus a CUDA synchronisation) so that all
  queued device work is inside the timing; the figure is the median block's ms/step.

One JSON object per measurement goes to stdout, progress to stderr.
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time
import warnings

# torch warns at import when NumPy is absent; this script never uses NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
from torch import nn  # noqa: E402

# Trainable parameter counts of the lab's models (normlab-run prints the same numbers);
# a mismatch means the two benchmarks would time different networks.
EXPECTED_PARAMETERS = {"cnn": 422_090, "mlp": 270_346}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load_nlds_gz(path):
    """The training split of an NLDS v1 file (www/data/README.md) as (images, labels).

    images: float32 [n_train, channels, height, width], standardised exactly as the lab's
    Dataset::from_bytes does: (p/255 - mean) / std with the training pixels' mean and
    population std, computed in float64 and then rounded to float32.
    """
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != b"NLDS":
        raise ValueError(f"{path}: missing the NLDS header")
    version, n_train, n_test, height, width, channels, classes = (
        int.from_bytes(raw[4 * i : 4 * i + 4], "little") for i in range(1, 8)
    )
    if version != 1:
        raise ValueError(f"{path}: unsupported NLDS version {version}")
    features = channels * height * width
    if len(raw) != 32 + (n_train + n_test) * (1 + features):
        raise ValueError(f"{path}: wrong length for {n_train} + {n_test} images")
    buffer = bytearray(raw)  # frombuffer wants a writable buffer
    labels = torch.frombuffer(buffer, dtype=torch.uint8, count=n_train, offset=32)
    pixels = torch.frombuffer(buffer, dtype=torch.uint8, count=n_train * features, offset=32 + n_train)
    unit = pixels.double() / 255.0
    mean = unit.mean().float().item()
    std = max(unit.var(correction=0).sqrt().item(), 1e-6)
    std = torch.tensor(std, dtype=torch.float32).item()
    images = (pixels.float() / 255.0 - mean) / std
    log(f"data: {path}: {n_train} training images {channels}x{height}x{width}, {classes} classes")
    return images.reshape(n_train, channels, height, width), labels.long()


def make_model(name):
    """The lab's ExperimentConfig::notes_cnn() and the default MLP (hidden [256, 256]),
    both with BatchNorm placed before ReLU and biases on (the lab's defaults)."""
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128), nn.BatchNorm1d(128), nn.ReLU(),
            nn.Linear(128, 10),
        )  # fmt: skip
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, 10),
        )  # fmt: skip
    raise ValueError(f"unknown model {name!r} (cnn or mlp)")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(model_name, batch, steps, blocks, images, labels, device):
    """The lab's time_training_steps: ms/step of each timed block, the parameter count and
    the last loss."""
    torch.manual_seed(1)
    model = make_model(model_name).to(device).train()
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if parameters != EXPECTED_PARAMETERS[model_name]:
        raise AssertionError(f"{model_name}: {parameters} parameters, the lab's has {EXPECTED_PARAMETERS[model_name]}")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    # Step i's rows are the lab's batch_rows (src/experiment/benchmark.rs): the run of
    # `batch` consecutive training rows from (i * batch) % max(n_train - batch, 1).
    # The row numbers stay on the device: slicing them costs no host-to-device copy, as
    # the lab's small index upload costs no wait on wgpu (a pageable CUDA copy would wait).
    rows_all = torch.arange(images.shape[0], device=device)
    span = max(len(rows_all) - batch, 1)

    block_ms = []
    for block in range(blocks + 1):  # block 0 is the warm-up
        started = time.perf_counter()
        for i in range(steps):
            start = ((block * steps + i) * batch) % span
            rows = rows_all[start : start + batch]
            x = images.index_select(0, rows)
            y = labels.index_select(0, rows)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        # The read-back waits for every step queued in this block (the lab's read_metrics).
        final_loss = loss.item()
        sync(device)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        if block > 0:
            block_ms.append(elapsed_ms / steps)
    return block_ms, parameters, final_loss


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: 1, then os.cpu_count())")
    parser.add_argument("--models", default="cnn,mlp")
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--steps", type=int, default=10, help="steps per block")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks after the warm-up block")
    parser.add_argument("--data", default="www/data/fashion-mnist.nlds.gz")
    args = parser.parse_args()
    args.steps, args.blocks = max(args.steps, 1), max(args.blocks, 1)  # as the lab clamps them
    models = [m for m in args.models.split(",") if m]
    batches = [int(b) for b in args.batches.split(",") if b]
    for m in models:
        if m not in EXPECTED_PARAMETERS:
            parser.error(f"unknown model {m!r} (cnn or mlp)")

    # One inter-op thread, set before any op runs (it cannot change later): a training
    # step is a chain of dependent ops, and the lab's CPU backend runs them in sequence.
    torch.set_num_interop_threads(1)
    common = {"suite": "native", "framework": "pytorch", "backend": args.device, "version": torch.__version__}
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print(json.dumps({**common, "error": "CUDA is not available (torch.cuda.is_available() is False)"}))
            return 0
        device = torch.device("cuda")
        description = torch.cuda.get_device_name(device)
        thread_counts = [None]  # host threads only feed the launch queue
    else:
        device = torch.device("cpu")
        description = cpu_name()
        thread_counts = [args.threads] if args.threads else sorted({1, os.cpu_count() or 1})

    images, labels = load_nlds_gz(args.data)
    images, labels = images.to(device), labels.to(device)
    log(f"pytorch {torch.__version__} on {description}: {args.steps} steps per block, "
        f"median of {args.blocks} blocks after one warm-up block; Adam")  # fmt: skip

    for threads in thread_counts:
        if threads is not None:
            torch.set_num_threads(threads)
        for batch in batches:  # batch outer, model inner: normlab-bench's order
            for model_name in models:
                block_ms, parameters, final_loss = time_steps(
                    model_name, batch, args.steps, args.blocks, images, labels, device
                )
                # normlab-bench takes sorted[len / 2]: the upper median when the count is even.
                ms_per_step = statistics.median_high(block_ms)
                record = {**common}
                if threads is not None:
                    record["threads"] = threads
                record.update(
                    device=description,
                    model=model_name,
                    batch=batch,
                    ms_per_step=round(ms_per_step, 3),
                    images_per_s=round(batch / (ms_per_step / 1000.0), 1),
                    block_ms=[round(ms, 3) for ms in block_ms],
                    parameters=parameters,
                    final_loss=round(final_loss, 5),
                )
                print(json.dumps(record), flush=True)
                where = f"{threads} thread(s)" if threads is not None else description
                log(f"{model_name} batch {batch} on {where}: {ms_per_step:.2f} ms/step, loss {final_loss:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
