// Browser benchmark: the lab's training step against TensorFlow.js (WebGPU backend) in
// ONE headless Chromium on the same WebGPU adapter (SwiftShader), plus the page's
// start-up time and the size of what it downloads.
//
//   cd tools/bench && npm install                 (once: playwright-core, TensorFlow.js)
//   trunk build --release                         (from the repository root: dist/)
//   node tools/bench/browser_bench.mjs [--out FILE] [--steps N] [--blocks N]
//        [--models cnn,mlp] [--batches 64,256] [--only lab,tfjs,startup,payload]
//        [--loads N] [--timeout-s N] [--kernel-times]
// --kernel-times: the lab also times each of its kernels with WebGPU timestamps (after the
// timed blocks, so they do not slow them), reported as "kernels" in its result.
//
// For each model × batch it opens the lab (/?lesson=l1) in a fresh page and calls
// `window.wasmBindings.benchmark_training_step(request)`, closes it, then opens
// /tfjs/index.html (tools/bench/tfjs/) and calls `window.tfjsBenchmark(request)`: the same
// models, data, batch rows and timing rule (one warm-up block, then `blocks` blocks of
// `steps` steps, each ended by reading the loss back; the median block's ms per step).
// Start-up: `--loads` (5) loads of / in fresh browser contexts (empty cache and storage),
// each timed from navigation start until the first lesson's heading is on the page and its
// train button is enabled (the page mounted and knows its device), by performance.now()
// in the page. Payload: raw, gzip -9 and brotli q11 bytes of dist/'s .wasm and .js files.
//
// Defaults: 5 steps × 5 blocks for the MLP, but 3 × 3 for the CNN: on SwiftShader (a CPU
// emulating the GPU) one CNN step takes seconds, and 5 × 5 plus the warm-up would take
// minutes per configuration and framework. --steps / --blocks apply to both models.
// Measured on a 2-core machine: a CNN step at batch 64 takes 12-20 s in either framework,
// an MLP step 0.5-1 s; hence --timeout-s (per framework and configuration) defaults to
// 3600 s, enough for the CNN at batch 256.
//
// stdout: one JSON object per line (also appended to --out): each framework's result with
// "suite":"browser" (a failed configuration carries "error" and the run goes on),
// {"metric":"interactive_ms",...} and {"metric":"wasm_payload",...}. Progress goes to
// stderr. Exits non-zero only on a real error: no build, a crashed page, no browser.

import { readFile, readdir, appendFile, stat } from "node:fs/promises";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants as zlib } from "node:zlib";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumPath, inside, serveFiles } from "../local_chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const dist = join(root, "dist");
const tfjsPage = join(here, "tfjs");
const vendor = {
  "tf.min.js": join(here, "node_modules", "@tensorflow", "tfjs", "dist", "tf.min.js"),
  "tf-backend-webgpu.min.js": join(here, "node_modules", "@tensorflow", "tfjs-backend-webgpu", "dist", "tf-backend-webgpu.min.js"),
};

// ---------------------------------------------------------------- arguments

const USAGE =
  "usage: node tools/bench/browser_bench.mjs [--out FILE] [--steps N] [--blocks N] [--models cnn,mlp] " +
  "[--batches 64,256] [--only lab,tfjs,startup,payload] [--loads N] [--timeout-s N] [--kernel-times]";

function parseArgs(argv) {
  const opts = {
    out: null,
    steps: null,
    blocks: null,
    models: ["cnn", "mlp"],
    batches: [64, 256],
    only: new Set(["lab", "tfjs", "startup", "payload"]),
    loads: 5,
    timeoutSecs: 3600,
    kernelTimes: false,
  };
  const positive = (flag, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} wants a positive integer, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag === "--kernel-times") {
      opts.kernelTimes = true;
      continue;
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    switch (flag) {
      case "--out":
        opts.out = value;
        break;
      case "--steps":
        opts.steps = positive(flag, value);
        break;
      case "--blocks":
        opts.blocks = positive(flag, value);
        break;
      case "--models":
        opts.models = value.split(",").filter(Boolean);
        for (const m of opts.models) if (!["cnn", "mlp"].includes(m)) throw new Error(`unknown model "${m}"`);
        break;
      case "--batches":
        opts.batches = value.split(",").filter(Boolean).map((b) => positive(flag, b));
        break;
      case "--only":
        opts.only = new Set(value.split(",").filter(Boolean));
        for (const o of opts.only) {
          if (!["lab", "tfjs", "startup", "payload"].includes(o)) throw new Error(`--only: unknown part "${o}"`);
        }
        break;
      case "--loads":
        opts.loads = positive(flag, value);
        break;
      case "--timeout-s":
        opts.timeoutSecs = positive(flag, value);
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return opts;
}

/** Steps per block and blocks for a model: the flags, or the defaults explained above. */
function schedule(opts, model) {
  const fallback = model === "cnn" ? 3 : 5;
  return { steps_per_block: opts.steps ?? fallback, blocks: opts.blocks ?? fallback };
}

// ---------------------------------------------------------------- output

let outFile = null;
async function emit(record) {
  const line = JSON.stringify({ suite: "browser", ...record });
  console.log(line);
  if (outFile) await appendFile(outFile, line + "\n");
}
const progress = (message) => console.error(`[bench] ${message}`);

// ---------------------------------------------------------------- static server

/** dist/ at /, tools/bench/tfjs/ at /tfjs/, the two TensorFlow.js bundles at /tfjs/vendor/. */
function resolvePath(path) {
  if (path.startsWith("/tfjs/vendor/")) return vendor[path.slice("/tfjs/vendor/".length)] ?? null;
  if (path === "/tfjs" || path === "/tfjs/") return join(tfjsPage, "index.html");
  if (path.startsWith("/tfjs/")) return inside(tfjsPage, path.slice("/tfjs/".length));
  return inside(dist, path === "/" ? "index.html" : path);
}

function serve() {
  return serveFiles(resolvePath);
}

// ---------------------------------------------------------------- checks before starting

async function exists(path) {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function checkInputs(opts) {
  const problems = [];
  const needsDist = opts.only.has("lab") || opts.only.has("startup") || opts.only.has("payload") || opts.only.has("tfjs");
  if (needsDist) {
    if (!(await exists(join(dist, "index.html")))) problems.push(`${dist}/index.html is missing: run \`trunk build --release\` first`);
    if (!(await exists(join(dist, "data", "fashion-mnist.nlds.gz")))) problems.push(`${dist}/data/fashion-mnist.nlds.gz is missing: run \`trunk build --release\``);
  }
  if (opts.only.has("tfjs")) {
    for (const file of Object.values(vendor)) {
      if (!(await exists(file))) problems.push(`${file} is missing: run \`npm install\` in tools/bench`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- the browser

async function launch(kernelTimes) {
  // The end-to-end tests' Chromium and flags (tools/local_chromium.mjs). Developer features
  // make WebGPU's timestamps exact instead of rounded to 100 µs (for --kernel-times).
  return chromium.launch({
    executablePath: chromiumPath,
    args: [...(kernelTimes ? ["--enable-webgpu-developer-features"] : []), ...chromiumArgs],
  });
}

let crashed = false;

/** A fresh context and page that records console warnings/errors and crashes. */
async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US" });
  const page = await context.newPage();
  const messages = [];
  const state = { crashed: false };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") messages.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => messages.push(`pageerror: ${e}`));
  page.on("crash", () => {
    state.crashed = true;
    crashed = true;
    messages.push("the page crashed");
  });
  return { context, page, messages, state };
}

function withTimeout(promise, secs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${secs} s`)), secs * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error) {
  // page.evaluate wraps a rejected promise's value into its message; keep the first line.
  return String(error?.message ?? error)
    .split("\n")
    .filter((l) => l.trim())
    .slice(0, 3)
    .join(" | ");
}

/** The lab's own benchmark entry point, on its page. */
async function benchLab(browser, origin, request, timeoutSecs) {
  const { context, page, messages, state } = await openPage(browser);
  try {
    await page.goto(`${origin}/?lesson=l1&lang=en`);
    await page.waitForFunction(() => window.wasmBindings !== undefined, null, { timeout: 120_000 });
    const present = await page.evaluate(() => typeof window.wasmBindings.benchmark_training_step === "function");
    if (!present) {
      throw new Error("this build has no wasmBindings.benchmark_training_step: rebuild with `trunk build --release`");
    }
    const text = await withTimeout(
      page.evaluate((req) => window.wasmBindings.benchmark_training_step(JSON.stringify(req)), request),
      timeoutSecs,
      "the lab",
    );
    return { result: JSON.parse(text), messages };
  } catch (error) {
    return { error: state.crashed ? `the page crashed (${errorText(error)})` : errorText(error), messages };
  } finally {
    await context.close().catch(() => {});
  }
}

/** TensorFlow.js on its WebGPU backend, on tools/bench/tfjs/index.html. */
async function benchTfjs(browser, origin, request, timeoutSecs) {
  const { context, page, messages, state } = await openPage(browser);
  try {
    await page.goto(`${origin}/tfjs/index.html`);
    await page.waitForFunction(() => typeof window.tfjsBenchmark === "function" && typeof window.tf === "object", null, {
      timeout: 60_000,
    });
    const result = await withTimeout(
      page.evaluate((req) => window.tfjsBenchmark(req), request),
      timeoutSecs,
      "TensorFlow.js",
    );
    return { result, messages };
  } catch (error) {
    return { error: state.crashed ? `the page crashed (${errorText(error)})` : errorText(error), messages };
  } finally {
    await context.close().catch(() => {});
  }
}

function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Start-up: fresh context (empty cache and storage), load /, until interactive. */
async function startupOnce(browser, origin) {
  const { context, page, messages, state } = await openPage(browser);
  try {
    await page.addInitScript(() => {
      // Runs before the page's own scripts. "Interactive": the lesson's heading has text
      // and its train button is enabled (Leptos mounted it and the device is known; the
      // button's `disabled` property is reflected as an attribute, so the observer sees it).
      const marks = {};
      window.__startup = marks;
      const check = () => {
        if (marks.interactive_ms !== undefined) return;
        const now = performance.now();
        const heading = document.querySelector("article[data-lesson] h1");
        if (marks.heading_ms === undefined && heading && heading.textContent.trim()) marks.heading_ms = now;
        if (marks.wasm_ms === undefined && window.wasmBindings !== undefined) marks.wasm_ms = now;
        const button = document.querySelector("article[data-lesson] button.train");
        if (marks.heading_ms !== undefined && button && !button.disabled) marks.interactive_ms = now;
      };
      new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      const frame = () => {
        check();
        if (marks.interactive_ms === undefined) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      addEventListener("TrunkApplicationStarted", check);
    });
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__startup?.interactive_ms !== undefined, null, { timeout: 120_000 });
    const marks = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return {
        ...window.__startup,
        dom_content_loaded_ms: nav?.domContentLoadedEventEnd,
        load_ms: nav?.loadEventEnd,
        lesson: document.querySelector("article[data-lesson]")?.dataset.lesson,
      };
    });
    return { marks, messages };
  } catch (error) {
    return { error: state.crashed ? `the page crashed (${errorText(error)})` : errorText(error), messages };
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- payload

async function payload() {
  const files = (await readdir(dist)).filter((f) => f.endsWith(".wasm") || f.endsWith(".js")).sort();
  const rows = [];
  for (const file of files) {
    const bytes = await readFile(join(dist, file));
    rows.push({
      metric: "wasm_payload",
      file,
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      brotli: brotliCompressSync(bytes, {
        params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length },
      }).length,
    });
  }
  return rows;
}

// ---------------------------------------------------------------- main

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  outFile = opts.out;
  const problems = await checkInputs(opts);
  if (problems.length > 0) {
    for (const p of problems) console.error(`error: ${p}`);
    return 1;
  }
  let failed = false;

  if (opts.only.has("payload")) {
    for (const row of await payload()) await emit(row);
  }

  const needsBrowser = ["lab", "tfjs", "startup"].some((p) => opts.only.has(p));
  if (!needsBrowser) return 0;
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launch(opts.kernelTimes);
  progress(`Chromium ${browser.version()}, serving ${dist} at ${origin}`);
  try {
    if (opts.only.has("startup")) {
      const samples = [];
      const marks = [];
      for (let i = 0; i < opts.loads; i++) {
        const run = await startupOnce(browser, origin);
        if (run.error) {
          progress(`start-up load ${i + 1}: ${run.error}`);
          await emit({ metric: "interactive_ms", error: run.error, console: run.messages.slice(0, 20) });
          failed ||= crashed;
          break;
        }
        progress(`start-up load ${i + 1}/${opts.loads}: interactive at ${run.marks.interactive_ms.toFixed(0)} ms`);
        samples.push(run.marks.interactive_ms);
        marks.push(run.marks);
        if (run.messages.length) progress(`  console: ${run.messages.slice(0, 5).join(" | ")}`);
      }
      if (samples.length === opts.loads) {
        const round = (x) => (x === undefined ? null : Math.round(x * 10) / 10);
        await emit({
          metric: "interactive_ms",
          median: round(median(samples)),
          samples: samples.map(round),
          heading_ms: round(median(marks.map((m) => m.heading_ms))),
          wasm_started_ms: round(median(marks.map((m) => m.wasm_ms).filter((x) => x !== undefined))),
          dom_content_loaded_ms: round(median(marks.map((m) => m.dom_content_loaded_ms))),
          lesson: marks[0].lesson,
          definition:
            "performance.now() when the first lesson's h1 has text and its button.train is enabled; fresh context per load",
        });
      }
    }

    for (const model of opts.models) {
      for (const batch of opts.batches) {
        const { steps_per_block, blocks } = schedule(opts, model);
        const frameworks = [
          ["lab", "normlab", () => benchLab(browser, origin, { model, batch, backend: "webgpu", steps_per_block, blocks, kernel_times: opts.kernelTimes }, opts.timeoutSecs)],
          ["tfjs", "tfjs", () => benchTfjs(browser, origin, { model, batch, steps_per_block, blocks }, opts.timeoutSecs)],
        ];
        for (const [part, framework, run] of frameworks) {
          if (!opts.only.has(part)) continue;
          progress(`${framework} ${model} batch ${batch}: ${steps_per_block} steps × ${blocks} blocks after a warm-up block…`);
          const started = Date.now();
          const outcome = await run();
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          if (outcome.error) {
            progress(`${framework} ${model} batch ${batch}: FAILED after ${secs} s: ${outcome.error}`);
            await emit({ framework, backend: "webgpu", model, batch, steps_per_block, blocks, error: outcome.error, console: outcome.messages.slice(0, 20) });
          } else {
            const r = outcome.result;
            progress(`${framework} ${model} batch ${batch}: ${r.ms_per_step.toFixed(1)} ms/step, ${Math.round(r.images_per_s)} images/s (${secs} s in all)`);
            const record = { ...r, steps_per_block, blocks };
            if (outcome.messages.length) record.console = outcome.messages.slice(0, 20);
            await emit(record);
          }
          if (outcome.messages.length) progress(`  console: ${outcome.messages.slice(0, 5).join(" | ")}`);
          if (crashed) failed = true;
        }
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  return failed ? 1 : 0;
}

process.exitCode = await main().catch((error) => {
  console.error(`error: ${error.stack ?? error}`);
  return 1;
});
