// The CPU engine's Web Workers: a job's runs train off the page's thread, several at once,
// with exactly the losses the page's own thread gives (same seeds, bit for bit); Stop
// reaches every worker within a second; the page stays responsive while they train.
// Called from lab.test.mjs.

import { check, assert, join, artifacts, waitEnabled, waitForJobEnd, runRows } from "./harness.mjs";

/** Every stored run of the page: its label, status and batch losses. */
async function storedRuns(page) {
  return page.evaluate(() =>
    JSON.parse(localStorage.getItem("normlab.runs")).runs.map((r) => ({
      label: r.series.label,
      status: r.status,
      losses: r.series.batch_losses.map((p) => p[1]),
      epochs: r.series.epochs,
    })),
  );
}

/** Trains lesson 5's sweep at `preset` on the CPU engine with `workers` (null: the
 *  default, one per core) and returns its runs, the progress texts it showed, the
 *  main-thread tasks over 50 ms while it trained, and the wall time of the training. */
async function sweep(lab, preset, workers) {
  const extra = workers === null ? "" : `&workers=${workers}`;
  const { context, page, errors } = await lab.open(`lesson=l5&lang=en&engine=cpu${extra}`);
  await page.check(`input[name="l5-preset"][value="${preset}"]`);
  await waitEnabled(page, "#l5-train");
  await page.evaluate(() => {
    window.__texts = [];
    window.__longTasks = [];
    window.__trainingSince = null;
    const read = () => {
      const progress = document.querySelector(".job-progress");
      const text = progress?.querySelector(".job-text")?.textContent;
      if (text && text !== window.__texts.at(-1)) window.__texts.push(text);
      if (Number(progress?.dataset.steps ?? 0) > 0 && window.__trainingSince === null) window.__trainingSince = performance.now();
    };
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    new PerformanceObserver((list) => {
      const training = Number(document.querySelector(".job-progress")?.dataset.steps ?? 0) > 0;
      for (const e of list.getEntries()) if (training) window.__longTasks.push(Math.round(e.duration));
    }).observe({ type: "longtask", buffered: false });
  });
  await page.click("#l5-train");
  await waitForJobEnd(page, "#l5-train", "l5/batch-sweep");
  const { texts, longTasks, trainingSecs } = await page.evaluate(() => ({
    texts: window.__texts,
    longTasks: window.__longTasks,
    trainingSecs: (performance.now() - window.__trainingSince) / 1000,
  }));
  const runs = await storedRuns(page);
  await page.screenshot({ path: join(artifacts, `workers-l5-${preset}-${workers ?? "default"}.png`), fullPage: true });
  await context.close();
  return { runs, texts, longTasks, trainingSecs, errors };
}

export async function workersChecks(lab) {
  await check("CPU engine in workers: lesson 5's sweep trains its runs two at a time off the page's thread, with the page's own losses bit for bit, and the page stays responsive", async () => {
    const inWorkers = await sweep(lab, "smoke", null);
    const onPage = await sweep(lab, "smoke", 0);
    console.log(`     workers: ${inWorkers.runs.length} runs in ${inWorkers.trainingSecs.toFixed(1)} s; the page's thread: ${onPage.trainingSecs.toFixed(1)} s; tasks over 50 ms while training in workers: ${inWorkers.longTasks.length} (longest ${Math.max(0, ...inWorkers.longTasks)} ms)`);
    console.log(`     "${inWorkers.texts.find((t) => /runs \d+–\d+ of/.test(t)) ?? inWorkers.texts.at(-1)}"`);
    assert(inWorkers.runs.length === 8 && onPage.runs.length === 8, `runs: ${inWorkers.runs.length} and ${onPage.runs.length}`);
    for (const [i, run] of inWorkers.runs.entries()) {
      const same = onPage.runs[i];
      assert(run.label === same.label && run.losses.length > 0, `run ${i}: ${run.label} against ${same.label}`);
      assert(JSON.stringify(run.losses) === JSON.stringify(same.losses), `${run.label}: the worker's losses differ from the page's thread:\n${run.losses.slice(0, 8)}\n${same.losses.slice(0, 8)}`);
      assert(JSON.stringify(run.status) === JSON.stringify(same.status), `${run.label}: ${JSON.stringify(run.status)} against ${JSON.stringify(same.status)}`);
    }
    // Two workers on this machine's two cores: two runs at once, and the progress says so.
    assert(inWorkers.texts.some((t) => /runs \d+–\d+ of 8 · .* · CPU × 2 threads/.test(t)), `no two runs at once in the progress: ${inWorkers.texts.slice(-3).join(" | ")}`);
    assert(onPage.texts.every((t) => !/threads/.test(t)), `the page's thread said threads: ${onPage.texts.at(-1)}`);
    assert(inWorkers.longTasks.every((d) => d <= 150), `the page froze while the workers trained: tasks of ${inWorkers.longTasks.join(", ")} ms`);
    assert(inWorkers.errors.length === 0 && onPage.errors.length === 0, `console errors: ${[...inWorkers.errors, ...onPage.errors].join(" | ")}`);
  });

  await check("CPU engine in workers: the quick sweep's time beforehand counts the workers (two runs at a time, about half one worker's time) and is within 2× of what the sweep then takes", async () => {
    // "(1 min 39 s)" → 99 seconds.
    const seconds = (text) => [...text.matchAll(/(\d+) (h|min|s)\b/g)].reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, min: 60, s: 1 }[unit], 0);
    const estimate = async (page) => {
      await page.check('input[name="l5-preset"][value="quick"]');
      const plan = '[name="l5-preset"] ~ .preset-plan, fieldset:has([name="l5-preset"]) > .preset-plan';
      await page.waitForFunction((sel) => / here/.test(document.querySelector(sel)?.textContent ?? ""), plan, { timeout: 120_000 });
      const text = await page.$eval(plan, (e) => e.textContent);
      const time = await page.$eval('input[name="l5-preset"][value="quick"]', (e) => e.closest("label").querySelector(".preset-time").textContent);
      return { plan: text, secs: seconds(time) };
    };
    // One context: the second page reads the step cost the first one measured, so the two
    // estimates differ only in how many runs train at once.
    const { context, page, errors } = await lab.open("lesson=l5&lang=en&engine=cpu");
    const workers = await estimate(page);
    const single = await lab.open("lesson=l5&lang=en&engine=cpu&workers=1", { context });
    const one = await estimate(single.page);
    await single.page.close();
    console.log(`     default: "${workers.plan}"; workers=1: "${one.plan}"`);
    assert(/2 runs at a time/.test(workers.plan), `the estimate does not count the two workers: ${workers.plan}`);
    assert(!/at a time/.test(one.plan), `one worker said runs at a time: ${one.plan}`);
    const ratio = workers.secs / one.secs;
    assert(ratio > 0.4 && ratio < 0.65, `two workers' estimate ${workers.secs} s against one's ${one.secs} s (${ratio.toFixed(2)})`);
    await waitEnabled(page, "#l5-train");
    const started = Date.now();
    await page.click("#l5-train");
    await waitForJobEnd(page, "#l5-train", "l5/batch-sweep");
    const took = (Date.now() - started) / 1000;
    console.log(`     estimated ${workers.secs} s, took ${took.toFixed(1)} s from the click`);
    assert(workers.secs < 2 * took && took < 2 * workers.secs, `estimated ${workers.secs} s, took ${took.toFixed(1)} s`);
    assert(errors.length === 0 && single.errors.length === 0, `console errors: ${[...errors, ...single.errors].join(" | ")}`);
    await context.close();
  });

  await check("CPU engine in workers: Stop reaches every worker within a second and both runs in training end as stopped", async () => {
    const { context, page, errors } = await lab.open("lesson=l5&lang=en&engine=cpu");
    await page.check('input[name="l5-preset"][value="quick"]');
    await waitEnabled(page, "#l5-train");
    await page.click("#l5-train");
    // Both workers training: two runs in progress, a few hundred steps in.
    await page.waitForFunction(() => {
      const p = document.querySelector(".job-progress");
      return Number(p?.dataset.steps ?? 0) > 300 && /runs \d+–\d+ of/.test(p.querySelector(".job-text")?.textContent ?? "");
    }, null, { timeout: 120_000, polling: 50 });
    const started = Date.now();
    await page.click(".job-progress .stop", { force: true });
    await page.waitForFunction(() => document.querySelector(".job-progress") === null, null, { timeout: 30_000, polling: 20 });
    const millis = Date.now() - started;
    const rows = await runRows(page, "l5/batch-sweep");
    const stopped = rows.filter((r) => /^stopped at epoch \d+, batch \d+$/.test(r.status));
    console.log(`     Stop took ${millis} ms; ${rows.length} runs: ${rows.map((r) => r.status).join(" | ")}`);
    assert(millis <= 1000, `Stop took ${millis} ms with the runs in workers`);
    assert(stopped.length === 2, `not two stopped runs: ${JSON.stringify(rows.map((r) => r.status))}`);
    assert(rows.every((r) => !/running|interrupted/.test(r.status)), `a run still running: ${JSON.stringify(rows.map((r) => r.status))}`);
    await page.screenshot({ path: join(artifacts, "workers-stopped.png"), fullPage: true });
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });
}
