#!/usr/bin/env bash
# Trunk post-build hook (see Trunk.toml), run after csp_hook.sh: stamps the service worker
# (www/sw.js, copied to dist/sw.js) with the list of every file the build wrote and a hash
# of their contents. The worker saves exactly those files, so the offline copy is always in
# step with dist/; a new build is a new hash, hence a new worker and a new cache, and the
# old cache is deleted when the new worker takes over.
set -euo pipefail
cd "$TRUNK_STAGING_DIR"
worker="sw.js"
if [ ! -f "$worker" ]; then
    echo "offline_hook: $worker is missing from the build (index.html copies www/sw.js)" >&2
    exit 1
fi

# Every file but the worker itself (the browser fetches and checks that one), relative to
# the worker, as the worker names them. Names go into a JavaScript string unescaped, so
# they must be plain.
files=$(find . -type f ! -path "./$worker" | sed 's|^\./||' | LC_ALL=C sort)
if grep -qv '^[A-Za-z0-9._/-]*$' <<<"$files"; then
    echo "offline_hook: a file name in dist/ is not plain ASCII without spaces:" >&2
    grep -v '^[A-Za-z0-9._/-]*$' <<<"$files" >&2
    exit 1
fi

# The build's version: every file's name and contents, the unstamped worker among them.
build=$( { while IFS= read -r f; do sha256sum "$f"; done <<<"$files"; sha256sum "$worker"; } | sha256sum | cut -c1-16)
list=$(sed 's|.*|  "&",|' <<<"$files")

LIST="$list" awk -v build="$build" '
    /^const BUILD = / { print "const BUILD = \"" build "\";"; stamped++; next }
    /^const FILES = \[\];$/ { print "const FILES = ["; print ENVIRON["LIST"]; print "];"; stamped++; next }
    { print }
    END { if (stamped != 2) { print "offline_hook: sw.js lacks its BUILD or FILES line" > "/dev/stderr"; exit 1 } }
' "$worker" > "$worker.new"
mv "$worker.new" "$worker"
echo "offline_hook: sw.js saves $(wc -l <<<"$files") files as build $build"
