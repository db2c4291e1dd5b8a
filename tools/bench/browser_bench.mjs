// Browser benchmark, in ONE headless Chromium:
// - on the same WebGPU adapter (SwiftShader): the lab's training step against
//   TensorFlow.js's WebGPU backend;
// - on the CPU: the page's CPU engine in a Web Worker (as the page trains on it) against
//   TensorFlow.js's WebAssembly backend (SIMD; multi-threaded, as its page is
//   cross-origin isolated) and its plain JavaScript `cpu` backend;
// - lesson 5's quick sweep on the CPU engine: its wall time with the page's workers (one
//   per core), with one worker, and on the page's own thread;
// - the page's start-up time and the size of what it downloads.
//
//   cd tools/bench && npm install                 (once: playwright-core, TensorFlow.js)
//   trunk build --release                         (from the repository root: dist/)
//   node tools/bench/browser_bench.mjs [--out FILE] [--steps N] [--blocks N]
//        [--cpu-steps N] [--cpu-blocks N] [--models cnn,mlp] [--batches 64,256]
//        [--only lab,tfjs,lab-cpu,tfjs-cpu,sweep,startup,payload] [--tfjs-backends wasm,cpu]
//        [--wasm-threads shipped,all,N] [--sweep-preset quick|smoke] [--sweep-workers default,1,0]
//        [--loads N] [--timeout-s N] [--kernel-times]
// --kernel-times: the lab also times each of its kernels with WebGPU timestamps (after the
// timed blocks, so they do not slow them), reported as "kernels" in its result.
//
// WebGPU ("lab", "tfjs"): for each model × batch it opens the lab (/?lesson=l1) in a fresh
// page and calls `window.wasmBindings.benchmark_training_step(request)` with backend
// "webgpu", closes it, then opens /tfjs/index.html (tools/bench/tfjs/) and calls
// `window.tfjsBenchmark(request)`: the same models, data, batch rows and timing rule (one
// warm-up block, then `blocks` blocks of `steps` steps, each ended by reading the loss
// back; the median block's ms per step).
// CPU ("lab-cpu", "tfjs-cpu"): the same hook with backend "cpu-worker" (the page at
// ?engine=cpu: the CPU engine in a dedicated Web Worker, one thread), then
// /tfjs/cpu.html, served with COOP/COEP so that it is cross-origin isolated, in a fresh
// page per TensorFlow.js backend (--tfjs-backends): "wasm" (its .wasm files served from
// node_modules at /tfjs/wasm/) once per --wasm-threads entry, "shipped" (TensorFlow.js's
// own choice: half the logical cores, at most 4, so one thread on 2 cores), "all" (one
// per logical core, which needs tfjs_bench.js to lift that cap) or a count, by default
// "shipped,all" (the report compares with the faster); then "cpu". Where a TensorFlow.js
// backend cannot train a model (a kernel or gradient it lacks) its line says so
// ("cannot_train") instead of timing it.
// Sweep ("sweep"): lesson 5's page at ?lesson=l5&lang=en&engine=cpu[&workers=N] in a fresh
// context each (the page keeps its measured step costs in localStorage), the preset
// picked (--sweep-preset, quick by default), #l5-train clicked; the wall time from the
// first training step (.job-progress's data-steps > 0) to the job's end (.job-progress
// gone and #l5-train enabled), by performance.now() in the page; how many engine workers
// the page started (counted by wrapping the Worker constructor) and how many threads its
// progress showed ("CPU × N threads"); the run boundaries it showed (with one lane, each
// run's own time). --sweep-workers: "default" (one per core), 1 (one worker), 0 (the
// page's own thread, as before the workers).
// Start-up: `--loads` (5) loads of / in fresh browser contexts (empty cache and storage),
// each timed from navigation start until the first lesson's heading is on the page and its
// train button is enabled (the page mounted and knows its device), by performance.now()
// in the page. Payload: raw, gzip -9 and brotli q11 bytes of dist/'s .wasm and .js files.
//
// Defaults: on WebGPU 5 steps × 5 blocks for the MLP, but 3 × 3 for the CNN: on
// SwiftShader (a CPU emulating the GPU) one CNN step takes seconds, and 5 × 5 plus the
// warm-up would take minutes per configuration and framework. --steps / --blocks apply to
// both models. On the CPU 5 blocks of: 50 steps for the lab's MLP, 10 for its CNN, 20 for
// TensorFlow.js's wasm backend, 10 for its cpu backend's MLP, and 1 step × 3 blocks for
// its cpu backend's CNN (14-22 s a step at batch 64 on a 2-core machine). The lab's MLP
// step takes a few ms, and V8 runs wasm first from its baseline compiler and optimizes
// hot functions while they run: on the 2-core machine blocks of 5 steps after a 5-step
// warm-up came out anywhere between 7 and 80 ms a step, blocks of 50 a steady 5.5-6 ms.
// --cpu-steps / --cpu-blocks replace these (the JavaScript CNN takes fewer if they ask for
// fewer, never more).
// Measured on a 2-core machine: a CNN step at batch 64 takes 12-20 s in either framework
// on SwiftShader, an MLP step 0.5-1 s; hence --timeout-s (per framework and
// configuration, and per sweep) defaults to 3600 s, enough for the CNN at batch 256.
//
// stdout: one JSON object per line (also appended to --out): each framework's result with
// "suite":"browser" (a failed configuration carries "error" and the run goes on; one that
// a backend cannot train carries "cannot_train" too), {"metric":"l5_sweep",...},
// {"metric":"interactive_ms",...} and {"metric":"wasm_payload",...}. Progress goes to
// stderr. Exits non-zero only on a real error: no build, a crashed page, no browser.

import { readFile, readdir, appendFile, stat } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
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
  "tf-backend-wasm.min.js": join(here, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist", "tf-backend-wasm.min.js"),
};
/** TensorFlow.js's wasm binaries (plain, SIMD, threaded SIMD), served at /tfjs/wasm/. */
const wasmFolder = join(here, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
const wasmBinaries = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"];
/** The TensorFlow.js page served cross-origin isolated (COOP/COEP). */
const isolatedPage = "/tfjs/cpu.html";
const PARTS = ["lab", "tfjs", "lab-cpu", "tfjs-cpu", "sweep", "startup", "payload"];
const TFJS_CPU_BACKENDS = ["wasm", "cpu"];

// ---------------------------------------------------------------- arguments

const USAGE =
  "usage: node tools/bench/browser_bench.mjs [--out FILE] [--steps N] [--blocks N] [--cpu-steps N] [--cpu-blocks N] " +
  "[--models cnn,mlp] [--batches 64,256] [--only lab,tfjs,lab-cpu,tfjs-cpu,sweep,startup,payload] " +
  "[--tfjs-backends wasm,cpu] [--wasm-threads shipped,all,N] [--sweep-preset quick|smoke] [--sweep-workers default,1,0] " +
  "[--loads N] [--timeout-s N] [--kernel-times]";

function parseArgs(argv) {
  const opts = {
    out: null,
    steps: null,
    blocks: null,
    cpuSteps: null,
    cpuBlocks: null,
    models: ["cnn", "mlp"],
    batches: [64, 256],
    only: new Set(PARTS),
    tfjsBackends: [...TFJS_CPU_BACKENDS],
    wasmThreads: ["shipped", "all"],
    sweepPreset: "quick",
    sweepWorkers: [null, 1, 0],
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
      case "--cpu-steps":
        opts.cpuSteps = positive(flag, value);
        break;
      case "--cpu-blocks":
        opts.cpuBlocks = positive(flag, value);
        break;
      case "--tfjs-backends":
        opts.tfjsBackends = value.split(",").filter(Boolean);
        for (const b of opts.tfjsBackends) {
          if (!TFJS_CPU_BACKENDS.includes(b)) throw new Error(`--tfjs-backends: unknown backend "${b}" (wasm, cpu)`);
        }
        break;
      case "--wasm-threads":
        opts.wasmThreads = value
          .split(",")
          .filter(Boolean)
          .map((t) => (t === "shipped" || t === "all" ? t : positive(flag, t)));
        break;
      case "--sweep-preset":
        if (!["quick", "smoke", "full"].includes(value)) throw new Error(`--sweep-preset: unknown preset "${value}"`);
        opts.sweepPreset = value;
        break;
      case "--sweep-workers":
        opts.sweepWorkers = value
          .split(",")
          .filter(Boolean)
          .map((w) => {
            if (w === "default") return null;
            const n = Number(w);
            if (!Number.isInteger(n) || n < 0) throw new Error(`--sweep-workers: "${w}" is not default or a count`);
            return n;
          });
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
          if (!PARTS.includes(o)) throw new Error(`--only: unknown part "${o}" (${PARTS.join(", ")})`);
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

/** Steps per block and blocks for a model on WebGPU: the flags, or the defaults explained above. */
function schedule(opts, model) {
  const fallback = model === "cnn" ? 3 : 5;
  return { steps_per_block: opts.steps ?? fallback, blocks: opts.blocks ?? fallback };
}

/** The same on the CPU, for `who` ("lab", "wasm" or "cpu"): the flags, or the defaults
 *  explained above. */
function cpuSchedule(opts, model, who) {
  if (who === "cpu" && model === "cnn") {
    // 14-22 s a step at batch 64 on the 2-core machine, about four times that at 256: one
    // step per block, three blocks, fewer where the flags ask for fewer.
    return { steps_per_block: Math.min(opts.cpuSteps ?? 1, 1), blocks: Math.min(opts.cpuBlocks ?? 3, 3) };
  }
  const steps = { lab: { mlp: 50, cnn: 10 }, wasm: { mlp: 20, cnn: 10 }, cpu: { mlp: 10 } }[who][model];
  return { steps_per_block: opts.cpuSteps ?? steps, blocks: opts.cpuBlocks ?? 5 };
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

/** dist/ at /, tools/bench/tfjs/ at /tfjs/, the TensorFlow.js bundles at /tfjs/vendor/ and
 *  the wasm backend's binaries at /tfjs/wasm/. */
function resolvePath(path) {
  if (path.startsWith("/tfjs/vendor/")) return vendor[path.slice("/tfjs/vendor/".length)] ?? null;
  if (path.startsWith("/tfjs/wasm/")) {
    const name = path.slice("/tfjs/wasm/".length);
    return wasmBinaries.includes(name) ? join(wasmFolder, name) : null;
  }
  if (path === "/tfjs" || path === "/tfjs/") return join(tfjsPage, "index.html");
  if (path.startsWith("/tfjs/")) return inside(tfjsPage, path.slice("/tfjs/".length));
  return inside(dist, path === "/" ? "index.html" : path);
}

/** The shared static server, plus the headers that make /tfjs/cpu.html cross-origin
 *  isolated (so SharedArrayBuffer exists and TensorFlow.js's wasm backend may use
 *  threads). Its subresources are all same-origin, which require-corp lets through; the
 *  wasm backend's thread workers are blob: URLs, which inherit the page's policy. The
 *  lab's own pages are served as before. */
async function serve() {
  const server = await serveFiles(resolvePath);
  server.prependListener("request", (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === isolatedPage) {
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    }
    if (path.startsWith("/tfjs/")) res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  });
  return server;
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
  const needsDist = opts.only.size > 0;
  if (needsDist) {
    if (!(await exists(join(dist, "index.html")))) problems.push(`${dist}/index.html is missing: run \`trunk build --release\` first`);
    if (!(await exists(join(dist, "data", "fashion-mnist.nlds.gz")))) problems.push(`${dist}/data/fashion-mnist.nlds.gz is missing: run \`trunk build --release\``);
  }
  const tfjsFiles = [
    ...(opts.only.has("tfjs") ? [vendor["tf.min.js"], vendor["tf-backend-webgpu.min.js"]] : []),
    ...(opts.only.has("tfjs-cpu")
      ? [vendor["tf.min.js"], vendor["tf-backend-wasm.min.js"], ...wasmBinaries.map((b) => join(wasmFolder, b))]
      : []),
  ];
  for (const file of new Set(tfjsFiles)) {
    if (!(await exists(file))) problems.push(`${file} is missing: run \`npm install\` in tools/bench`);
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

/** The lab's own benchmark entry point, on its page (at ?engine=cpu for the CPU engine, as
 *  a student on the CPU would open it: the page then leaves WebGPU alone). */
async function benchLab(browser, origin, request, timeoutSecs) {
  const { context, page, messages, state } = await openPage(browser);
  try {
    const engine = request.backend === "webgpu" ? "" : "&engine=cpu";
    await page.goto(`${origin}/?lesson=l1&lang=en${engine}`);
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

/** TensorFlow.js on one backend: WebGPU on tools/bench/tfjs/index.html, wasm and cpu on
 *  tools/bench/tfjs/cpu.html (cross-origin isolated). */
async function benchTfjs(browser, origin, request, timeoutSecs) {
  const { context, page, messages, state } = await openPage(browser);
  try {
    await page.goto(`${origin}${(request.backend ?? "webgpu") === "webgpu" ? "/tfjs/index.html" : isolatedPage}`);
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

// ---------------------------------------------------------------- lesson 5's sweep

/** Lesson 5's sweep on the CPU engine, in a fresh context: `workers` null (the page's
 *  default, one per core), N (workers=N) or 0 (the page's own thread). The times are the
 *  page's performance.now(), taken by a MutationObserver as the progress changes. */
async function sweepOnce(browser, origin, preset, workers, timeoutSecs) {
  const { context, page, messages, state } = await openPage(browser);
  try {
    await page.addInitScript(() => {
      // Count the workers the page starts (the engine's, and any other, by script).
      const Original = window.Worker;
      const started = [];
      window.__workersStarted = started;
      window.Worker = class extends Original {
        constructor(url, options) {
          super(url, options);
          started.push({ url: String(url), at: performance.now() });
        }
      };
    });
    const extra = workers === null ? "" : `&workers=${workers}`;
    await page.goto(`${origin}/?lesson=l5&lang=en&engine=cpu${extra}`);
    await page.waitForSelector("article[data-lesson]", { timeout: 120_000 });
    await page.check(`input[name="l5-preset"][value="${preset}"]`);
    await page.waitForFunction(() => {
      const b = document.querySelector("#l5-train");
      return b !== null && !b.disabled;
    }, null, { timeout: 120_000 });
    await page.evaluate(() => {
      const s = { clickedAt: null, trainingSince: null, endedAt: null, texts: [], maxSteps: 0, workersBefore: 0 };
      window.__sweep = s;
      const read = () => {
        if (s.clickedAt === null || s.endedAt !== null) return;
        const now = performance.now();
        const progress = document.querySelector(".job-progress");
        const text = progress?.querySelector(".job-text")?.textContent;
        if (text && text !== s.texts.at(-1)?.text) s.texts.push({ at: now, text });
        const steps = Number(progress?.dataset.steps ?? 0);
        s.maxSteps = Math.max(s.maxSteps, steps);
        if (steps > 0 && s.trainingSince === null) s.trainingSince = now;
        const button = document.querySelector("#l5-train");
        if (s.trainingSince !== null && progress === null && button && !button.disabled) s.endedAt = now;
      };
      new MutationObserver(read).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
      s.workersBefore = window.__workersStarted.length;
      s.read = read;
    });
    await page.evaluate(() => {
      window.__sweep.clickedAt = performance.now();
    });
    await page.click("#l5-train");
    await page.waitForFunction(() => window.__sweep.endedAt !== null, null, { timeout: timeoutSecs * 1000, polling: 250 });
    const result = await page.evaluate(() => {
      const s = window.__sweep;
      const texts = s.texts;
      // "runs 1–2 of 16 · … · CPU × 2 threads" (workers) or "run 3 of 16 · …" (one lane).
      const runs = Math.max(0, ...texts.map((t) => Number(/ of (\d+)\b/.exec(t.text)?.[1] ?? 0)));
      const threadsShown = Math.max(1, ...texts.map((t) => Number(/× (\d+) threads/.exec(t.text)?.[1] ?? 1)));
      // With one lane, the moment each run first shows ("run k of N"): its own time runs to
      // the next one's (with several lanes only the last runs show so; the report then
      // leaves these out).
      const runStarts = [];
      for (const t of texts) {
        const m = /\brun (\d+) of \d+/.exec(t.text);
        if (m && runStarts[Number(m[1]) - 1] === undefined) runStarts[Number(m[1]) - 1] = t.at;
      }
      const workers = window.__workersStarted.slice(s.workersBefore);
      return {
        training_s: (s.endedAt - s.trainingSince) / 1000,
        waiting_s: (s.trainingSince - s.clickedAt) / 1000,
        runs,
        threads_shown: threadsShown,
        workers_started: workers.length,
        worker_scripts: [...new Set(workers.map((w) => new URL(w.url, location.href).pathname))],
        steps: s.maxSteps,
        run_starts_s:
          runStarts.length === runs && runStarts.every((x) => x !== undefined)
            ? runStarts.map((x) => Math.round((x - s.trainingSince) / 10) / 100)
            : null,
        hardware_concurrency: navigator.hardwareConcurrency,
        last_text: texts.filter((t) => / of \d+/.test(t.text)).at(-1)?.text ?? texts.at(-1)?.text ?? null,
        rows: document.querySelectorAll('.run-panel[data-group="l5/batch-sweep"] li.run').length,
      };
    });
    return { result, messages };
  } catch (error) {
    return { error: state.crashed ? `the page crashed (${errorText(error)})` : errorText(error), messages };
  } finally {
    await context.close().catch(() => {});
  }
}

/** How many cores' worth of CPU the machine gives right now: a fixed spin on one thread,
 *  then on `n` threads at once; n × (one thread's time) / (the n threads' time). On a
 *  shared machine another job (even a niced one in another session's cgroup) takes its
 *  share, and the sweep's workers can only go as fast as the cores they get. */
async function effectiveCores(n) {
  const spin = (iterations) =>
    new Promise((done, fail) => {
      const w = new Worker(
        `const { parentPort, workerData } = require("node:worker_threads");
         let x = 0; for (let i = 0; i < workerData; i++) x = (x * 1664525 + 1013904223) % 4294967296;
         parentPort.postMessage(x);`,
        { eval: true, workerData: iterations },
      );
      w.once("message", () => done());
      w.once("error", fail);
    });
  const time = async (threads, iterations) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: threads }, () => spin(iterations)));
    return performance.now() - started;
  };
  // About 0.3 s of spinning on one core, measured twice each way.
  const iterations = 60_000_000;
  const one = Math.min(await time(1, iterations), await time(1, iterations));
  const all = Math.min(await time(n, iterations), await time(n, iterations));
  return Math.round(((n * one) / all) * 100) / 100;
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

  const needsBrowser = PARTS.filter((p) => p !== "payload").some((p) => opts.only.has(p));
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

    // The CPU: the page's CPU engine in a Web Worker, TensorFlow.js's wasm and cpu backends.
    for (const model of opts.models) {
      for (const batch of opts.batches) {
        const runs = [];
        if (opts.only.has("lab-cpu")) {
          const s = cpuSchedule(opts, model, "lab");
          runs.push(["normlab", "cpu-worker", s, () => benchLab(browser, origin, { model, batch, backend: "cpu-worker", ...s }, opts.timeoutSecs), { backend: "cpu-worker" }]);
        }
        if (opts.only.has("tfjs-cpu")) {
          for (const backend of opts.tfjsBackends) {
            const s = cpuSchedule(opts, model, backend);
            for (const threads of backend === "wasm" ? opts.wasmThreads : [null]) {
              // "all": tfjs_bench.js's default, one thread per logical core.
              const ask = threads === null || threads === "all" ? {} : { threads };
              const label = threads === null ? backend : `${backend}, threads ${threads}`;
              const request = { model, batch, backend, ...s, ...ask };
              const tags = { backend, ...(threads === null ? {} : { wasm_threads_mode: String(threads) }) };
              runs.push(["tfjs", label, s, () => benchTfjs(browser, origin, request, opts.timeoutSecs), tags]);
            }
          }
        }
        // What the CPU gives just now, beside each figure (TensorFlow.js's threads need it).
        const free = runs.length ? { effective_cores: await effectiveCores(availableParallelism()), cores: availableParallelism() } : {};
        for (const [framework, label, { steps_per_block, blocks }, run, rawTags] of runs) {
          const tags = { ...rawTags, ...free };
          const what = `${framework} (${label}) ${model} batch ${batch}`;
          progress(`${what}: ${steps_per_block} step${steps_per_block === 1 ? "" : "s"} × ${blocks} blocks after a warm-up block…`);
          const started = Date.now();
          const outcome = await run();
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          const consoleLines = outcome.messages.length ? { console: outcome.messages.slice(0, 20) } : {};
          if (outcome.error) {
            progress(`${what}: FAILED after ${secs} s: ${outcome.error}`);
            await emit({ framework, ...tags, model, batch, steps_per_block, blocks, error: outcome.error, ...consoleLines });
          } else if (outcome.result.cannot_train) {
            const r = outcome.result;
            progress(`${what}: cannot train: ${r.cannot_train} (${secs} s in all)`);
            await emit({ ...r, ...tags, error: `cannot train: ${r.cannot_train}`, ...consoleLines });
          } else {
            const r = outcome.result;
            const threads = r.threads !== undefined ? `, ${r.threads} thread${r.threads === 1 ? "" : "s"}` : "";
            progress(`${what}: ${r.ms_per_step.toFixed(2)} ms/step, ${Math.round(r.images_per_s)} images/s${threads} (${secs} s in all)`);
            await emit({ ...r, ...tags, steps_per_block, blocks, ...consoleLines });
          }
          if (outcome.messages.length) progress(`  console: ${outcome.messages.slice(0, 5).join(" | ")}`);
          if (crashed) failed = true;
        }
      }
    }

    // Lesson 5's sweep: workers against one worker (and the page's own thread).
    if (opts.only.has("sweep")) {
      for (const workers of opts.sweepWorkers) {
        const label = workers === null ? "default workers (one per core)" : workers === 0 ? "the page's own thread" : `workers=${workers}`;
        progress(`lesson 5's ${opts.sweepPreset} sweep on the CPU engine, ${label}…`);
        const started = Date.now();
        const loadBefore = loadavg()[0];
        const cores = availableParallelism();
        const capacity = await effectiveCores(cores);
        const outcome = await sweepOnce(browser, origin, opts.sweepPreset, workers, opts.timeoutSecs);
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        // The machine's 1-minute load average before and after: on a shared 2-core machine
        // anything else running shows here (the sweep itself adds up to its workers + 1).
        const load = {
          load_before: Math.round(loadBefore * 100) / 100,
          load_after: Math.round(loadavg()[0] * 100) / 100,
          // Cores' worth of CPU the machine gave just before (see effectiveCores), of `cores`.
          effective_cores: capacity,
          cores,
        };
        const base = { metric: "l5_sweep", preset: opts.sweepPreset, workers_param: workers, ...load };
        const consoleLines = outcome.messages.length ? { console: outcome.messages.slice(0, 20) } : {};
        if (outcome.error) {
          progress(`  FAILED after ${secs} s: ${outcome.error}`);
          await emit({ ...base, error: outcome.error, ...consoleLines });
        } else {
          const r = outcome.result;
          progress(
            `  ${r.runs} runs in ${r.training_s.toFixed(1)} s of training; ${r.workers_started} worker(s) started, ` +
              `${r.threads_shown} thread(s) shown; hardwareConcurrency ${r.hardware_concurrency}; the machine gave ` +
              `${capacity} of its ${cores} cores just before (${secs} s in all)`,
          );
          await emit({ ...base, ...r, ...consoleLines });
        }
        if (outcome.messages.length) progress(`  console: ${outcome.messages.slice(0, 5).join(" | ")}`);
        if (crashed) failed = true;
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
