// Shared pieces of the end-to-end tests: a static server for dist/ (at its root or under a
// sub-path), Debian's headless Chromium with WebGPU on SwiftShader, pages that record console
// errors, failed requests and any request leaving localhost, and a tiny check runner that
// prints "N passed, M failed".

import { mkdir } from "node:fs/promises";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumPath, inside, serveFiles } from "../../tools/local_chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
const dist = join(root, "dist");
export const artifacts = join(here, "artifacts");

/** dist/ (or the folder `dir`) at the address `prefix`, as a static host serves a folder:
 *  the folder's own address serves its index.html, anything outside it is a 404. */
export function serveDist({ prefix = "/", dir = dist } = {}) {
  return serveFiles((path) => {
    if (!path.startsWith(prefix)) return null;
    const rel = path.slice(prefix.length);
    return inside(dir, rel === "" ? "index.html" : rel);
  });
}

export const results = [];
let only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;

export async function check(name, fn) {
  if (only && !only.test(name)) return;
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

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export async function start() {
  const server = await serveDist();
  const origin = `http://127.0.0.1:${server.address().port}`;
  await mkdir(artifacts, { recursive: true });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });

  /** Opens the page (at `base`, the lab's folder on some server; the shared server's root
   *  by default) in a fresh context (or `context`) and records console errors, foreign
   *  requests and failed ones (no answer, or an HTTP error). */
  async function open(query, { removeWebGpu = false, context = null, locale = "en-US", viewport, base = `${origin}/` } = {}) {
    const ctx = context ?? (await browser.newContext({ viewport: viewport ?? { width: 1280, height: 1000 }, locale, acceptDownloads: true }));
    if (removeWebGpu && !context) {
      await ctx.addInitScript(() => {
        delete Navigator.prototype.gpu;
      });
    }
    const page = await ctx.newPage();
    const errors = [];
    const foreign = [];
    const failed = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("crash", () => errors.push("the page crashed"));
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (!["data:", "blob:"].includes(url.protocol) && url.origin !== new URL(base).origin) foreign.push(r.url());
    });
    page.on("requestfailed", (r) => failed.push(`${r.url()} (${r.failure()?.errorText})`));
    page.on("response", (r) => r.status() >= 400 && failed.push(`${r.url()} (HTTP ${r.status()})`));
    await page.goto(`${base}?${query}`);
    await page.waitForSelector("article[data-lesson]", { timeout: 60_000 });
    return { context: ctx, page, errors, foreign, failed };
  }

  async function finish() {
    await browser.close();
    server.close();
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`e2e: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  }

  return { origin, browser, open, finish };
}

/** Waits until a button exists and is enabled (the page mounted, the device is known). */
export async function waitEnabled(page, selector, timeout = 60_000) {
  await page.waitForFunction(
    (s) => {
      const b = document.querySelector(s);
      return b !== null && !b.disabled;
    },
    selector,
    { timeout },
  );
}

/** Clicks a live piece's train button and waits until its job is over (the button is
 *  enabled again and the group's runs are no longer running). */
export async function trainToEnd(page, button, group, timeout = 8 * 60 * 1000) {
  await waitEnabled(page, button);
  await page.click(button);
  await waitForJobEnd(page, button, group, timeout);
}

/** Waits until the job started from `button` is over. */
export async function waitForJobEnd(page, button, group, timeout = 8 * 60 * 1000) {
  await page.waitForFunction(
    ([b, g]) => {
      const panel = document.querySelector(`.run-panel[data-group="${g}"]`);
      const busy = document.querySelector(".job-progress");
      return !document.querySelector(b).disabled && busy === null && panel !== null;
    },
    [button, group],
    { timeout, polling: 500 },
  );
}

/** Runs' rows of a group: their labels and status texts. */
export async function runRows(page, group) {
  return page.$$eval(`.run-panel[data-group="${group}"] li.run`, (rows) =>
    rows.map((r) => ({
      id: Number(r.dataset.run),
      label: r.querySelector(".run-label").firstChild.textContent,
      config: r.querySelector(".run-config")?.textContent ?? "",
      status: r.querySelector(".run-status").textContent,
      device: r.querySelector(".run-device").textContent,
      link: r.querySelector(".run-link").getAttribute("href"),
    })),
  );
}

/** The JSON summary a chart canvas carries of what it drew. */
export async function chartSummary(page, id) {
  await page.waitForSelector(`#${id}[data-drawn]`, { timeout: 30_000 });
  return JSON.parse((await page.getAttribute(`#${id}`, "data-summary")) || "null");
}

/** How many pixels of a canvas are not (near) white. */
export async function chartInk(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
    return ink;
  }, id);
}

export { join };
