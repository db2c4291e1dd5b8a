#!/usr/bin/env bash
# Trunk post-build hook (see Trunk.toml): moves the inline start-up module Trunk writes
# into index.html out to its own file, start.js, so that the page runs under the
# Content-Security-Policy in index.html, which allows no inline script and no eval.
set -euo pipefail
html="$TRUNK_STAGING_DIR/index.html"
start="$TRUNK_STAGING_DIR/start.js"
base="${TRUNK_PUBLIC_URL:-/}"
awk -v start="$start" -v src="${base%/}/start.js" '
    /<script type="module">/ && !moved { inside = 1; next }
    inside && /<\/script>/ {
        inside = 0; moved = 1
        print "<script type=\"module\" src=\"" src "\"></script>"
        next
    }
    inside { print > start; next }
    { print }
    END { if (!moved) { print "csp_hook: no inline start-up script found in index.html" > "/dev/stderr"; exit 1 } }
' "$html" > "$html.new"
mv "$html.new" "$html"
if grep -q "<script>\|<script type=\"module\">" "$html"; then
    echo "csp_hook: index.html still holds an inline script" >&2
    exit 1
fi
