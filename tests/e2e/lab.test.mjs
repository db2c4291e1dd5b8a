// End-to-end tests of the built page (dist/) in Debian's headless Chromium.
//
//   node tests/e2e/lab.test.mjs            (after `trunk build --release`)
//
// Serves dist/ on 127.0.0.1, opens the page with WebGPU on SwiftShader, trains a short
// run, and checks what a student would see. A second browser context removes
// navigator.gpu to check the CPU fallback. Screenshots go to tests/e2e/artifacts/.
// Prints "N passed, M failed" and exits non-zero on any failure.

import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const dist = join(root, "dist");
const artifacts = join(here, "artifacts");
const TRAIN_TIMEOUT_MS = 8 * 60 * 1000;

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".gz": "application/gzip",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
};

function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = normalize(join(dist, path === "/" ? "index.html" : path));
    if (!file.startsWith(dist)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const results = [];
async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${error.stack ?? error}`);
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
await mkdir(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
  ],
});

/** Opens the page in a fresh context and records console errors and foreign requests. */
async function openLab(query, { removeWebGpu = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  if (removeWebGpu) {
    await context.addInitScript(() => {
      delete Navigator.prototype.gpu;
    });
  }
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("crash", () => errors.push("the page crashed"));
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["data:", "blob:"].includes(url.protocol) && url.origin !== origin) foreign.push(r.url());
  });
  await page.goto(`${origin}/?${query}`);
  return { context, page, errors, foreign };
}

/** Clicks Train and waits for the run to finish; returns the status text. */
async function trainToEnd(page) {
  // The button must exist (the page mounted) and be enabled (the device is known).
  await page.waitForFunction(
    () => {
      const button = document.querySelector("#train");
      return button !== null && !button.disabled;
    },
    null,
    { timeout: 60_000 },
  );
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      const training = /^Training/.test(document.querySelector("#status")?.textContent ?? "");
      for (const e of list.getEntries()) window.__longTasks.push({ duration: e.duration, training });
    }).observe({ type: "longtask", buffered: false });
  });
  await page.click("#train");
  await page.waitForFunction(
    () => /^(Finished|Stopped|The run could not)/.test(document.querySelector("#status")?.textContent ?? ""),
    null,
    { timeout: TRAIN_TIMEOUT_MS, polling: 500 },
  );
  return page.textContent("#status");
}

async function chartInk(page) {
  return page.evaluate(() => {
    const c = document.querySelector("#chart");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
    return ink;
  });
}

async function losses(page) {
  return JSON.parse((await page.getAttribute("#chart", "data-losses")) ?? "[]");
}

/** While the run trains, no main-thread task may last much over 50 ms (Chromium reports
 *  tasks over 50 ms; 100 ms leaves room for a loaded CI machine). Loading the data set
 *  before training is a one-off and not counted. */
async function assertResponsive(page) {
  const tasks = await page.evaluate(() => window.__longTasks);
  const during = tasks.filter((t) => t.training).map((t) => t.duration);
  console.log(`     main-thread tasks over 50 ms: ${during.length} while training (longest ${Math.max(0, ...during).toFixed(0)} ms), ${tasks.length - during.length} before`);
  assert(during.every((d) => d <= 100), `the page froze while training: tasks of ${during.join(", ")} ms`);
}

function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

await check("WebGPU page: names the adapter, trains, loss falls, chart drawn, no errors, no foreign requests", async () => {
  const { context, page, errors, foreign } = await openLab("data=fashion-mnist&norm=batch&opt=adam&lr=0.001&batch=64&epochs=1&seed=1&batches=40");
  const status = await trainToEnd(page);
  const device = await page.textContent("#device");
  await page.screenshot({ path: join(artifacts, "lab-webgpu.png"), fullPage: true });
  assert(/^Compute device: WebGPU: /.test(device), `device panel does not name a WebGPU adapter: ${device}`);
  assert(status.startsWith("Finished"), `run did not finish: ${status}`);
  const l = await losses(page);
  assert(l.length === 40, `expected 40 batch losses, got ${l.length}`);
  assert(mean(l.slice(-10)) < mean(l.slice(0, 10)) * 0.8, `loss did not fall: ${l.slice(0, 5)} … ${l.slice(-5)}`);
  const ink = await chartInk(page);
  assert(ink > 5000, `chart canvas has too few drawn pixels (${ink})`);
  console.log(`     device: ${device}; ${status}`);
  await assertResponsive(page);
  assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  assert(foreign.length === 0, `requests left localhost: ${foreign.join(", ")}`);
  await context.close();
});

await check("without WebGPU the page says so, falls back to the CPU and trains", async () => {
  const { context, page, errors, foreign } = await openLab("norm=batch&opt=adam&lr=0.001&batch=32&epochs=1&seed=2&batches=30", {
    removeWebGpu: true,
  });
  const status = await trainToEnd(page);
  const device = await page.textContent("#device");
  await page.screenshot({ path: join(artifacts, "lab-cpu-fallback.png"), fullPage: true });
  assert(device.includes("WebGPU unavailable: running on the CPU"), `device panel: ${device}`);
  assert(device.includes("navigator.gpu"), `the reason is not given: ${device}`);
  assert(status.startsWith("Finished"), `run did not finish: ${status}`);
  const l = await losses(page);
  assert(l.length === 30 && mean(l.slice(-10)) < mean(l.slice(0, 10)), `CPU run did not learn: ${l}`);
  console.log(`     ${status}`);
  await assertResponsive(page);
  assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  assert(foreign.length === 0, `requests left localhost: ${foreign.join(", ")}`);
  await context.close();
});

await check("the CNN of the notes trains in the page (CPU backend) without freezing it", async () => {
  const { context, page, errors } = await openLab("arch=cnn&norm=batch&opt=adam&lr=0.001&batch=32&epochs=1&seed=4&batches=12&backend=cpu");
  assert((await page.inputValue("#model")) === "cnn", "the model selector does not show the CNN from the link");
  const status = await trainToEnd(page);
  await page.screenshot({ path: join(artifacts, "lab-cnn-cpu.png"), fullPage: true });
  assert(status.startsWith("Finished"), `run did not finish: ${status}`);
  const l = await losses(page);
  assert(l.length === 12 && l.every(Number.isFinite), `CNN losses: ${l}`);
  console.log(`     ${status}; first loss ${l[0].toFixed(3)}, last ${l[l.length - 1].toFixed(3)}`);
  await assertResponsive(page);
  assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  await context.close();
});

await check("a diverging run is stopped and reported with its epoch and batch", async () => {
  // SGD at lr 1 without normalization blows up within a few dozen batches on this data
  // (natively, seed 1 diverges at batch 14); the CPU backend keeps the test deterministic.
  const { context, page, errors } = await openLab("norm=none&opt=sgd&lr=1&batch=64&epochs=1&seed=1&batches=60&backend=cpu");
  const status = await trainToEnd(page);
  const alert = (await page.textContent("#alert")) ?? "";
  await page.screenshot({ path: join(artifacts, "lab-diverged.png"), fullPage: true });
  const match = /diverged at epoch 1, batch (\d+)/.exec(alert);
  assert(match && Number(match[1]) >= 5 && Number(match[1]) <= 40, `alert: ${alert}`);
  assert(status.startsWith("Stopped: diverged at epoch 1, batch"), `status: ${status}`);
  assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  await context.close();
});

await browser.close();
server.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
