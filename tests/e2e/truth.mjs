// End-to-end checks that what a student sees is true and usable: the engine is chosen by
// measurement and says why; Stop acts within a second and progress moves every second,
// on the CPU engine and on WebGPU (SwiftShader); the Chinese page has no English left
// outside formulas, code and names; axe-core finds no accessibility violation on any
// lesson in either language. Called from lab.test.mjs.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { check, assert, join, artifacts, waitEnabled, waitForJobEnd, runRows } from "./harness.mjs";

const require = createRequire(import.meta.url);
const axeSource = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");

// The course and the teacher's pages after it.
const LESSONS = ["l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l11", "playground", "self-check", "class"];

/** Words that may stay in Latin letters on the Chinese page: names of methods, models,
 *  data sets, tools and units, and the short codes a student types (URL keys, norm names). */
const ALLOWED_LATIN = new Set(
  `normlab BatchNorm LayerNorm GroupNorm InstanceNorm RMSNorm BN LN GN IN RMS Lp Dropout WebGPU GPU CPU
   MLP CNN ReLU relu tanh Tanh GELU Adam adam SGD sgd PyTorch TensorFlow Fashion MNIST Fashion-MNIST CIFAR zzz Zalando MIT LeCun Cortes Burges
   epoch epochs nat nats CSV JSON PNG JPEG URL softmax cross entropy ln lr SD sd Conv conv max pool Linear Embedding
   google swiftshader SwiftShader Vulkan lavapipe llvmpipe Chromium Chrome Firefox Safari WGSL WebAssembly Rust
   batch layer instance group rms none before after mlp cnn char norm act bias affine momentum noise opt sgdm wd
   train test batches clip drop init hidden channels embed data seed value auto webgpu cpu l1 l2 linf group4 group8
   Ioffe Szegedy Santurkar Tsipras Ilyas Madry Keskar Xiong Wu He Ba Kiros Hinton Ulyanov Vedaldi Lempitsky Zhang Sennrich
   Glorot Srivastava Pascanu Mikolov VGG ImageNet ResNet LLaMA Lipschitz Keras ICS RNN cos sigmoid logits token top NaN Inf dy dx
   et al arXiv NeurIPS ICML ICLR ECCV CVPR Transformer GPT makemore Bengio Pre-norm Post-norm Pre-LayerNorm Post-LayerNorm Pre-LN Post-LN
   x y z w b g m n k s p r N C H W S B L D F G T e E Var SE KB MB GB ms min s h`.split(/\s+/).filter(Boolean),
);

/** The Latin-letter words of the page's visible text outside formulas and code. */
async function latinWords(page) {
  return page.evaluate(() => {
    // Formulas, code, and words the Chinese text gives in English on purpose (an English
    // gloss beside the Chinese term, a paper's title), which it marks with lang="en".
    const skip = (el) => el.closest('math, code, pre, script, style, .math, .formula, option, [lang="en"]') !== null;
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || skip(el)) continue;
      const style = getComputedStyle(el);
      if (style.display === "none" || style.visibility === "hidden") continue;
      for (const w of node.textContent.match(/[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]/g) ?? []) out.push(w);
    }
    for (const el of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
      for (const attr of ["aria-label", "title", "placeholder"]) {
        for (const w of (el.getAttribute(attr) ?? "").match(/[A-Za-z][A-Za-z'’-]*[A-Za-z]/g) ?? []) out.push(w);
      }
    }
    return out;
  });
}

function untranslated(words) {
  return [...new Set(words.filter((w) => !ALLOWED_LATIN.has(w) && !ALLOWED_LATIN.has(w.replace(/s$/, ""))))];
}

export async function truthChecks(lab) {
  await check("engine: with SwiftShader and the CNN the automatic choice picks the CPU and says why", async () => {
    const { context, page, errors } = await lab.open("lesson=l4&lang=en&engine=auto");
    await page.check('input[name="l4-preset"][value="smoke"]');
    await waitEnabled(page, "#l4-train");
    await page.click("#l4-train");
    await waitForJobEnd(page, "#l4-train", "l4/high-lr");
    const device = await page.textContent("#device .device-name");
    const rows = await runRows(page, "l4/high-lr");
    console.log(`     ${device}`);
    assert(/swiftshader/i.test(device) && /software renderer/.test(device), `the panel does not name the software renderer: ${device}`);
    assert(/measured (at least )?[\d.]+× slower than this CPU for the CNN: training on the CPU/.test(device), `no reason given: ${device}`);
    assert(rows.length === 2 && rows.every((r) => r.device === "CPU"), `runs: ${JSON.stringify(rows)}`);
    assert((await page.inputValue("#engine")) === "auto", "the switch does not show the automatic choice");
    // The switch persists across lessons and reloads, and a run's link carries the engine.
    await page.selectOption("#engine", "cpu");
    await page.click(".pager a.next");
    await page.waitForSelector('article[data-lesson="l5"]');
    await page.reload();
    await page.waitForSelector('article[data-lesson="l5"]');
    assert((await page.inputValue("#engine")) === "cpu", "the engine choice was lost on a reload");
    assert(rows[0].link.includes("engine=cpu"), `the run's link does not carry its engine: ${rows[0].link}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  await check("L4 quick on the CPU engine: the plain CNN is \"not learning\", BatchNorm reaches 70 %; the stalled loss lies at ln 10 on the chart", async () => {
    const { context, page, errors } = await lab.open("lesson=l4&lang=en&engine=cpu");
    await page.check('input[name="l4-preset"][value="quick"]');
    const plan = await page.textContent(".preset-plan");
    const started = Date.now();
    await waitEnabled(page, "#l4-train");
    await page.click("#l4-train");
    await waitForJobEnd(page, "#l4-train", "l4/high-lr", 5 * 60 * 1000);
    const seconds = (Date.now() - started) / 1000;
    const rows = await runRows(page, "l4/high-lr");
    const chart = JSON.parse(await page.getAttribute("#l4-chart", "data-summary"));
    await page.screenshot({ path: join(artifacts, "l4-quick-cpu.png"), fullPage: true });
    console.log(`     ${plan.trim()} | took ${seconds.toFixed(0)} s | ${rows.map((r) => r.status).join(" | ")}`);
    assert(/^not learning/.test(rows[0].status), `the plain CNN: ${rows[0].status}`);
    const accuracy = Number(/test accuracy ([\d.]+)/.exec(rows[1].status)?.[1]);
    assert(accuracy >= 70, `the BatchNorm CNN: ${rows[1].status}`);
    assert(seconds <= 120, `the quick preset took ${seconds.toFixed(0)} s on the CPU engine`);
    // The stalled run's losses are drawn where they are: the axis covers them, ln 10 included.
    const [low, high] = chart.loss_axis;
    const stalled = chart.runs[0].losses;
    const top = Math.max(...stalled, ...chart.runs[0].epoch_losses);
    assert(low <= Math.LN10 && Math.LN10 <= high && top <= high, `the loss axis ${low}–${high} does not cover the stalled run (up to ${top})`);
    // The legend shows each mark's style, not only its colour.
    const styles = chart.legend.map(([, style]) => style).filter(Boolean);
    assert(["Faint", "SolidWithPoints", "DashedWithTriangles"].every((s) => styles.includes(s)), `legend styles: ${JSON.stringify(chart.legend)}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  /** Starts a job, waits until it trains, presses Stop and measures how long it takes to end. */
  async function stopTime(page, button, group) {
    await waitEnabled(page, button);
    await page.click(button);
    // Stop in the middle of the run: after its first batch, while the next are computed.
    await page.waitForFunction(() => Number(document.querySelector(".job-progress")?.dataset.steps ?? 0) >= 1, null, { timeout: 120_000 });
    await page.waitForTimeout(300);
    // Every text the progress shows from now on, with when it showed (the job may end
    // before a test could read it back).
    await page.evaluate(() => {
      window.__progressTexts = [];
      new MutationObserver(() => {
        const text = document.querySelector(".job-progress .job-text")?.textContent;
        if (text) window.__progressTexts.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const started = Date.now();
    // A real click, without Playwright's wait for the element to hold still (the progress
    // text beside it changes every second).
    await page.click(".job-progress .stop", { force: true });
    await page.waitForFunction(() => document.querySelector(".job-progress") === null, null, { timeout: 30_000, polling: 20 });
    const millis = Date.now() - started;
    const stopping = (await page.evaluate(() => window.__progressTexts)).find((t) => /stopping/.test(t)) ?? "";
    const [row] = await runRows(page, group);
    return { millis, stopping, status: row.status };
  }

  await check("Stop acts within a second on the CPU engine (the CNN at batch 512) and says it is stopping", async () => {
    const { context, page, errors } = await lab.open("lesson=playground&lang=en&arch=cnn&norm=batch&opt=adam&lr=0.001&batch=512&epochs=1&engine=cpu");
    const { millis, stopping, status } = await stopTime(page, "#pg-train", "playground");
    console.log(`     Stop took ${millis} ms; "${stopping}"; ${status}`);
    assert(/stopping…/.test(stopping), `no "stopping…" at once: ${stopping}`);
    assert(millis <= 1000, `Stop took ${millis} ms on the CPU`);
    assert(/^stopped at epoch 1, batch \d+$/.test(status), `status: ${status}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  await check("on WebGPU (SwiftShader) the CNN's progress moves every second, and Stop acts within a second", async () => {
    const { context, page, errors } = await lab.open("lesson=playground&lang=en&arch=cnn&norm=batch&opt=adam&lr=0.001&batch=64&epochs=1&engine=webgpu");
    await waitEnabled(page, "#pg-train");
    await page.click("#pg-train");
    await page.waitForFunction(() => document.querySelector(".job-progress")?.dataset.phase === "training", null, { timeout: 120_000 });
    // Watch the progress text in the page for six seconds and time each change.
    const { texts, longest } = await page.evaluate(() => new Promise((done) => {
      const read = () => document.querySelector(".job-progress .job-text")?.textContent ?? "";
      const texts = [read()];
      let last = performance.now();
      let longest = 0;
      const started = last;
      const watch = setInterval(() => {
        const now = performance.now();
        const text = read();
        if (text !== texts.at(-1)) {
          longest = Math.max(longest, now - last);
          last = now;
          texts.push(text);
        }
        if (now - started >= 6000) {
          clearInterval(watch);
          done({ texts, longest: Math.round(Math.max(longest, now - last)) });
        }
      }, 50);
    }));
    console.log(`     progress: "${texts[0]}" … "${texts.at(-1)}"; ${texts.length} texts, longest unchanged ${longest} ms`);
    // A second, plus a quarter for the page's tick and a quarter for a busy machine.
    assert(longest <= 1500, `the progress stood still for ${longest} ms`);
    assert(/WebGPU/.test(texts.at(-1)), `not training on WebGPU: ${texts.at(-1)}`);
    const started = Date.now();
    await page.click(".job-progress .stop", { force: true });
    await page.waitForFunction(() => document.querySelector(".job-progress") === null, null, { timeout: 30_000, polling: 20 });
    const millis = Date.now() - started;
    const [row] = await runRows(page, "playground");
    console.log(`     Stop took ${millis} ms; ${row.status}`);
    assert(millis <= 1000, `Stop took ${millis} ms on SwiftShader`);
    assert(/^stopped/.test(row.status), `status: ${row.status}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  await check("Chinese: every lesson, its live pieces and the page's messages are in Chinese (no English outside formulas, code and names)", async () => {
    const { context, page, errors } = await lab.open("lesson=l1&lang=zh", { locale: "zh-CN" });
    const found = {};
    for (const lesson of LESSONS) {
      await page.goto(`${lab.origin}/?lesson=${lesson}&lang=zh`);
      await page.waitForSelector(`article[data-lesson="${lesson}"] h1`);
      await page.waitForTimeout(300);
      // Open every disclosure so their contents are read too.
      await page.$$eval("details", (ds) => ds.forEach((d) => (d.open = true)));
      const words = untranslated(await latinWords(page));
      if (words.length) found[lesson] = words;
      await page.screenshot({ path: join(artifacts, `zh-${lesson}.png`), fullPage: true });
    }
    // Messages: a link to a lesson that does not exist, a setting out of range, an epoch
    // count clamped, a CIFAR-10 file that is not one, a model too large.
    await page.goto(`${lab.origin}/?lesson=l99&lang=zh`);
    await page.waitForSelector("article[data-lesson]");
    const unknown = await page.textContent(".banner");
    assert(/不存在/.test(unknown), `no message for an unknown lesson: ${unknown}`);
    await page.goto(`${lab.origin}/?lesson=playground&lang=zh&lr=2&zzz=1`);
    await page.waitForSelector("#pg-train");
    await page.fill("#pg-epochs", "999");
    await page.press("#pg-epochs", "Tab");
    await page.setInputFiles("#pg-file", { name: "empty.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(0) });
    await page.waitForSelector("#pg-file-status");
    const messages = untranslated(await latinWords(page));
    if (messages.length) found["messages"] = messages;
    await page.screenshot({ path: join(artifacts, "zh-messages.png"), fullPage: true });
    assert(Object.keys(found).length === 0, `English left on the Chinese page: ${JSON.stringify(found)}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  await check("accessibility: axe-core finds no violation on any lesson, in English or Chinese", async () => {
    // The page's Content-Security-Policy refuses injected scripts; this context bypasses it
    // only to run axe.
    const ctx = await lab.browser.newContext({ viewport: { width: 1280, height: 1000 }, bypassCSP: true });
    const { context, page } = await lab.open("lesson=l1&lang=en", { context: ctx });
    const report = {};
    for (const lang of ["en", "zh"]) {
      for (const lesson of LESSONS) {
        await page.goto(`${lab.origin}/?lesson=${lesson}&lang=${lang}`);
        await page.waitForSelector(`article[data-lesson="${lesson}"] h1`);
        await page.waitForTimeout(300);
        await page.addScriptTag({ content: axeSource });
        const violations = await page.evaluate(async () => {
          const result = await window.axe.run(document, { resultTypes: ["violations"] });
          return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
        });
        if (violations.length) report[`${lesson}/${lang}`] = violations;
      }
    }
    assert(Object.keys(report).length === 0, `axe-core violations: ${JSON.stringify(report, null, 1)}`);
    await context.close();
  });

  await check("phone: at 390 px the page fits without scrolling sideways and chart text stays readable", async () => {
    const { context, page, errors } = await lab.open("lesson=l4&lang=en", { viewport: { width: 390, height: 844 } });
    await page.waitForSelector("#l4-chart");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: join(artifacts, "phone-l4.png"), fullPage: true });
    assert(overflow <= 1, `the page is ${overflow}px wider than a 390 px phone`);
    // The canvas is drawn at the device's pixel ratio for its width on the page.
    const sizing = await page.$eval("#l4-chart", (c) => ({ css: c.getBoundingClientRect().width, pixels: c.width, ratio: window.devicePixelRatio }));
    assert(Math.abs(sizing.pixels - sizing.css * sizing.ratio) <= 2, `canvas not sized to its box: ${JSON.stringify(sizing)}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });
}
