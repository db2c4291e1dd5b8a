// What the end-to-end tests (tests/e2e/harness.mjs) and the browser benchmark
// (tools/bench/browser_bench.mjs) share: a static file server on localhost and the flags
// that run Debian's headless Chromium with WebGPU on SwiftShader. Node's standard library
// only, so that both (each with its own node_modules) can import it.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

/** Debian's Chromium, or $CHROMIUM. */
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium with WebGPU compute on its bundled SwiftShader, nothing fetched from
 *  outside. Playwright gives every launch a fresh temporary user data dir. */
export const chromiumArgs = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".gz": "application/gzip",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".webmanifest": "application/manifest+json",
};

/** `rel` inside the folder `base`, or null where it would leave it ("../"). */
export function inside(base, rel) {
  const file = normalize(join(base, rel));
  return file === base || file.startsWith(base + "/") ? file : null;
}

/** Serves, on 127.0.0.1 and a free port, the file `resolve(path)` names for each request's
 *  path (404 where it names none or the file is missing). Resolves to the listening server. */
export function serveFiles(resolve) {
  const server = createServer(async (req, res) => {
    const file = resolve(decodeURIComponent(new URL(req.url, "http://x").pathname));
    try {
      if (file === null) throw new Error("outside the served folders");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ready) => server.listen(0, "127.0.0.1", () => ready(server)));
}
