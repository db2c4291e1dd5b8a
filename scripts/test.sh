#!/usr/bin/env bash
# Runs every test of normlab (installing what is missing first). This is what CI runs.
#   1. formatting and clippy, native and wasm32
#   2. native tests: unit tests and the engine suite (CPU vs PyTorch fixtures, gradient
#      checks, WGSL validation, GPU vs CPU on lavapipe, training runs)
#   3. the GPU kernels inside headless Chromium (wasm-bindgen-test, WebGPU on SwiftShader)
#   4. the page end to end: Trunk build, served on localhost, driven in headless Chromium
# Ends with one line "N passed, M failed" over the four stages.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test || exit 1

# The GPU tests must run the GPU: a missing adapter is a failure, not a skip.
export NORMLAB_REQUIRE_GPU=1
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}

passed=0
failed=0
stage() {
    local name=$1
    shift
    echo "=== $name"
    local started=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $name: ok ($((SECONDS - started)) s)"
    else
        failed=$((failed + 1))
        echo "=== $name: FAILED ($((SECONDS - started)) s)"
    fi
}

lint() {
    cargo fmt --check &&
        cargo clippy --all-targets -- -D warnings &&
        cargo clippy --target wasm32-unknown-unknown --lib --bins -- -D warnings
}
native_tests() { cargo test; }
browser_kernels() { cargo test --target wasm32-unknown-unknown --test web; }
end_to_end() { trunk build --release && node tests/e2e/lab.test.mjs; }

stage "format and clippy" lint
stage "native tests" native_tests
stage "GPU kernels in headless Chromium" browser_kernels
stage "page end to end" end_to_end

echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
