#!/usr/bin/env bash
# Installs what normlab needs and is missing; safe to run again (it skips what is there).
#   scripts/setup.sh serve   the tools to build and serve the page
#   scripts/setup.sh test    those, plus the browser, the software Vulkan driver and the
#                            end-to-end test's npm packages
# Every tool comes from a package registry (crates.io, Debian, npm); Trunk is told to
# use these installed tools and never to download its own.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate version in Cargo.lock

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
fi

apt_packages=(binaryen)
if [ "$purpose" = test ]; then
    # fonts-wqy-microhei: Chinese glyphs, so that the end-to-end screenshots of the
    # Chinese page show characters rather than boxes.
    apt_packages+=(chromium chromium-driver mesa-vulkan-drivers libvulkan1 fonts-wqy-microhei)
fi
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (about 11 minutes on 2 cores)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$purpose" = test ] && { [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/axe-core ]; }; then
    say "installing the end-to-end test's npm packages"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
