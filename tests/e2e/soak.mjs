// Soak: the page trains continuously in headless Chromium (WebGPU on SwiftShader) for
// SOAK_MINUTES (default 30), one playground run after another, and its resources must stay
// bounded: live GPU buffers (counted by wrapping the WebGPU API), their bytes, the JS heap
// and the wasm memory. Not part of `scripts/test.sh`; run it with `bash scripts/soak.sh`.
//
// The first few runs are the warm-up (allocators and caches settle); after it, each figure
// may not grow by more than its allowance, whatever the duration.

import { start, assert, waitEnabled, waitForJobEnd, runRows, join, artifacts } from "./harness.mjs";

const minutes = Number(process.env.SOAK_MINUTES ?? 30);
const WARM_UP_RUNS = 3;
/** Growth allowed after the warm-up. */
const ALLOWED = { liveBuffers: 0, bufferMB: 0, heapMB: 32, wasmMB: 64 };

const lab = await start();
const context = await lab.browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US" });
await context.addInitScript(() => {
  addEventListener("TrunkApplicationStarted", (e) => (window.__wasm = e.detail.wasm));
  const live = new Map();
  window.__gpuBuffers = () => ({ count: live.size, bytes: [...live.values()].reduce((a, b) => a + b, 0) });
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (descriptor) {
    const buffer = create.call(this, descriptor);
    live.set(buffer, descriptor.size);
    return buffer;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function () {
    live.delete(this);
    return destroy.call(this);
  };
});
const { page, errors } = await lab.open(
  "lesson=playground&lang=en&data=fashion-mnist&norm=batch&opt=adam&lr=0.001&batch=64&epochs=1&seed=1&batches=60&test=500",
  { context },
);
await waitEnabled(page, "#pg-train");

async function measure() {
  return page.evaluate(() => {
    const gpu = window.__gpuBuffers();
    const memory = window.__wasm?.memory ?? null;
    return {
      liveBuffers: gpu.count,
      bufferMB: gpu.bytes / 2 ** 20,
      heapMB: performance.memory.usedJSHeapSize / 2 ** 20,
      wasmMB: memory ? memory.buffer.byteLength / 2 ** 20 : NaN,
    };
  });
}

const samples = [];
const began = Date.now();
let runs = 0;
while (Date.now() - began < minutes * 60_000 || runs <= WARM_UP_RUNS) {
  await page.click("#pg-train");
  await waitForJobEnd(page, "#pg-train", "playground");
  runs++;
  // The run list would grow without bound; clearing it is what a student does.
  const [row] = await runRows(page, "playground");
  assert(row.status.startsWith("test accuracy"), `run ${runs}: ${row.status}`);
  await page.click('.run-panel[data-group="playground"] .clear');
  // Give the collector a chance before measuring (Chromium exposes no gc() by default).
  await page.waitForTimeout(500);
  const m = await measure();
  samples.push(m);
  const minute = ((Date.now() - began) / 60_000).toFixed(1);
  console.log(
    `run ${runs} (${minute} min): ${m.liveBuffers} GPU buffers, ${m.bufferMB.toFixed(1)} MB; JS heap ${m.heapMB.toFixed(1)} MB; wasm ${m.wasmMB.toFixed(1)} MB`,
  );
}

await page.screenshot({ path: join(artifacts, "soak.png"), fullPage: true });
const base = samples[WARM_UP_RUNS - 1];
const worst = {};
for (const key of Object.keys(ALLOWED)) worst[key] = Math.max(...samples.slice(WARM_UP_RUNS).map((s) => s[key] - base[key]));
console.log(`soak: ${runs} runs in ${((Date.now() - began) / 60_000).toFixed(1)} min; growth after warm-up: ${JSON.stringify(worst)}`);
let failed = false;
for (const [key, allowed] of Object.entries(ALLOWED)) {
  if (!(worst[key] <= allowed)) {
    console.log(`FAIL soak: ${key} grew by ${worst[key].toFixed(2)} after the warm-up (allowed ${allowed})`);
    failed = true;
  }
}
if (errors.length > 0) {
  console.log(`FAIL soak: console errors: ${errors.join(" | ")}`);
  failed = true;
}
console.log(failed ? "soak: FAILED" : "soak: passed");
process.exit(failed ? 1 : 0);
