#!/usr/bin/env bash
# Builds the lab and serves it at http://127.0.0.1:8080 (installing what is missing first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh serve
echo "normlab: building and serving at http://127.0.0.1:${NORMLAB_PORT:-8080}/"
exec trunk serve --release --port "${NORMLAB_PORT:-8080}"
