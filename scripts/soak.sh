#!/usr/bin/env bash
# Soak test (not part of the test command): 30 minutes of continuous training in headless
# Chromium with GPU buffers, JS heap and wasm memory asserted to stay bounded.
#   SOAK_MINUTES=5 bash scripts/soak.sh     a shorter soak
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
trunk build --release
node tests/e2e/soak.mjs
