// End-to-end checks of the lab as a class hosts it: saved by its service worker, it works
// with no network and says so; served from a folder of a host (/labs/normlab/), every file
// and fetch is found and Chromium finds it installable; a new deployment shows as an update
// waiting, and taking it replaces the old build's cache. Each check has a server of its
// own (an origin of its own, so no other check meets its worker). Called from lab.test.mjs.

import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumPath } from "../../tools/local_chromium.mjs";
import { check, assert, join, root, artifacts, serveDist, trainToEnd, runRows } from "./harness.mjs";

/** Lesson 1's live piece at its smoke preset on the CPU engine: a few seconds of training
 *  that fetches a data set (Fashion-MNIST) as the lessons do. */
const L1_SMOKE = "lesson=l1&lang=en&preset=smoke&engine=cpu";

/** Waits until a service worker is active and controls the page. */
async function waitControlled(page) {
  await page.waitForFunction(
    () => navigator.serviceWorker?.controller?.state === "activated",
    null,
    { timeout: 60_000, polling: 250 },
  );
}

/** Trains lesson 1's piece to the end and returns its runs' rows. */
async function trainL1(page) {
  await page.check('input[name="l1-preset"][value="smoke"]');
  await trainToEnd(page, "#l1-train", "l1/deep-mlp", 90_000);
  const rows = await runRows(page, "l1/deep-mlp");
  assert(rows.length === 2 && rows.every((r) => /^test run, too short to show the effect: test accuracy [\d.]+ %$/.test(r.status)), `lesson 1's runs: ${JSON.stringify(rows)}`);
  return rows;
}

/** Closes a server and the connections it keeps open. */
function closed(server) {
  server.closeAllConnections();
  return new Promise((done) => server.close(done));
}

export async function hostingChecks(lab) {
  await check("offline: after the first visit the lab reloads, opens lessons, trains and keeps its runs with no network and no server, and says it runs from the saved copy", async () => {
    const server = await serveDist();
    const base = `http://127.0.0.1:${server.address().port}/`;
    const { context, page, errors, foreign } = await lab.open(L1_SMOKE, { base });
    await waitControlled(page);
    const saved = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith("normlab-")));
    assert(saved.length === 1, `caches after the first visit: ${saved}`);
    assert((await page.$("#offline-notice")) === null, "the offline notice shows while the server answers");

    // No network, and no server either: only the saved copy can answer.
    await context.setOffline(true);
    await closed(server);
    await page.reload();
    await page.waitForSelector('article[data-lesson="l1"]', { timeout: 60_000 });
    await page.waitForSelector("#offline-notice", { timeout: 20_000 });
    const notice = await page.textContent("#offline-notice");
    assert(/Offline: the lab runs from the copy saved in this browser/.test(notice), `notice: ${notice}`);
    const rows = await trainL1(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, "offline-notice.png") });
    // The finished runs are kept across a reload, offline as online.
    await page.reload();
    await page.waitForSelector('.run-panel[data-group="l1/deep-mlp"] li.run');
    const kept = await runRows(page, "l1/deep-mlp");
    assert(kept.length === 2, `runs after an offline reload: ${JSON.stringify(kept)}`);

    // Another lesson by its address, and the notice in Chinese.
    await page.goto(`${base}?lesson=l3&lang=zh`);
    await page.waitForSelector('article[data-lesson="l3"]');
    const zh = await page.textContent("#offline-notice");
    assert(/离线/.test(zh), `the Chinese notice: ${zh}`);
    console.log(`     offline: ${rows.map((r) => r.status).join(" | ")}; ${zh}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    assert(foreign.length === 0, `requests left localhost: ${foreign.join(", ")}`);
    await context.close();
  });

  await check("sub-path: dist/ served at /labs/normlab/ loads, links lessons and trains, with no failed request and no console error", async () => {
    const prefix = "/labs/normlab/";
    const server = await serveDist({ prefix });
    const base = `http://127.0.0.1:${server.address().port}${prefix}`;
    const { context, page, errors, foreign, failed } = await lab.open(L1_SMOKE, { base });
    await waitControlled(page);
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert(scope === base, `the worker's scope is ${scope}, not the lab's folder ${base}`);
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector('link[rel="manifest"]');
      const json = await (await fetch(link.href)).json();
      return { href: link.href, start: new URL(json.start_url, link.href).href, icon: new URL(json.icons[0].src, link.href).href };
    });
    assert(manifest.start === base, `the manifest starts at ${manifest.start}`);
    assert((await page.evaluate(async (u) => (await fetch(u)).ok, manifest.icon)), `the icon ${manifest.icon} is missing`);
    await trainL1(page);
    // The lessons' links and the address bar stay in the lab's folder.
    await page.click(".pager a.next");
    await page.waitForSelector('article[data-lesson="l2"]');
    assert(page.url().startsWith(`${base}?lesson=l2`), `the next lesson's address: ${page.url()}`);
    await page.reload();
    await page.waitForSelector('article[data-lesson="l2"]');
    console.log(`     scope ${scope}; manifest ${manifest.href}`);
    assert(failed.length === 0, `failed requests: ${failed.join(", ")}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    assert(foreign.length === 0, `requests left localhost: ${foreign.join(", ")}`);
    await context.close();
    await closed(server);
  });

  await check("install: at /labs/normlab/ Chromium finds the lab installable (manifest, icon, worker) with no error", async () => {
    const prefix = "/labs/normlab/";
    const server = await serveDist({ prefix });
    const base = `http://127.0.0.1:${server.address().port}${prefix}`;
    // Chromium never offers to install from an incognito context, which is what every other
    // check's context is: this one has a profile of its own.
    const profile = await mkdtemp(join(tmpdir(), "normlab-profile-"));
    const persistent = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs });
    try {
      const { page, errors } = await lab.open("lesson=l1&lang=en", { context: persistent, base });
      await waitControlled(page);
      const cdp = await persistent.newCDPSession(page);
      const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
      const manifest = await cdp.send("Page.getAppManifest");
      assert(manifest.url === `${base}manifest.webmanifest` && manifest.errors.length === 0, `the manifest: ${JSON.stringify(manifest).slice(0, 300)}`);
      assert(installabilityErrors.length === 0, `not installable: ${JSON.stringify(installabilityErrors)}`);
      console.log(`     installable from ${manifest.url}`);
      assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    } finally {
      await persistent.close();
      await closed(server);
      await rm(profile, { recursive: true, force: true });
    }
  });

  await check("update: a new deployment shows as waiting, in words; Reload takes it and the old build's cache is deleted", async () => {
    // A copy of dist/ that can be redeployed: a new worker is what a new build brings.
    const dir = await mkdtemp(join(tmpdir(), "normlab-deploy-"));
    await cp(join(root, "dist"), dir, { recursive: true });
    const server = await serveDist({ dir });
    const base = `http://127.0.0.1:${server.address().port}/`;
    try {
      const { context, page, errors } = await lab.open("lesson=l2&lang=en", { base });
      await waitControlled(page);
      const [first] = await page.evaluate(() => caches.keys());
      const worker = join(dir, "sw.js");
      const text = await readFile(worker, "utf8");
      await writeFile(worker, text.replace(/^const BUILD = "([0-9a-f]+)";$/m, 'const BUILD = "$1next";'));
      await page.reload();
      await page.waitForSelector("#update-notice", { timeout: 30_000 });
      const notice = await page.textContent("#update-notice");
      assert(/A new version of the lab has been saved/.test(notice), `notice: ${notice}`);
      await page.screenshot({ path: join(artifacts, "update-notice.png") });
      await Promise.all([page.waitForEvent("load", { timeout: 30_000 }), page.click("#update-notice button.reload")]);
      await page.waitForSelector('article[data-lesson="l2"]');
      await page.waitForFunction(async () => (await caches.keys()).length === 1 && (await caches.keys())[0].endsWith("next"), null, { timeout: 20_000, polling: 250 });
      assert((await page.$("#update-notice")) === null, "the update notice stayed after the update");
      console.log(`     ${first} replaced by ${await page.evaluate(async () => (await caches.keys())[0])}`);
      assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
      await context.close();
    } finally {
      await closed(server);
      await rm(dir, { recursive: true, force: true });
    }
  });
}
