// End-to-end checks of the device self-check page (?lesson=self-check): on SwiftShader every
// kernel agrees with the CPU reference within the tests' tolerance, the step times of both
// models on both engines are measured, the words say what the tables say, and the saved
// report reads back; without WebGPU the page says so and times the CPU only. Called from
// lab.test.mjs.

import { readFile } from "node:fs/promises";
import { check, assert, join, artifacts } from "./harness.mjs";

/** Runs the check to its end and returns the page's figures. */
async function runCheck(page) {
  await page.waitForSelector("#self-check-run:not([disabled])", { timeout: 60_000 });
  await page.click("#self-check-run");
  await page.waitForSelector("#self-check-summary", { timeout: 6 * 60_000 });
  return page.evaluate(() => {
    const rows = (id) =>
      [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.children].map((c) => c.textContent.trim()));
    return {
      summary: document.querySelector("#self-check-summary").textContent,
      kernels: rows("self-check-kernels"),
      steps: rows("self-check-steps"),
    };
  });
}

export async function selfCheckChecks(lab) {
  await check("self-check: on SwiftShader every kernel agrees with the CPU, both models are timed on both engines, and the report saves", async () => {
    const { context, page, errors } = await lab.open("lesson=self-check&lang=en");
    const started = Date.now();
    const found = await runCheck(page);
    console.log(`     the check took ${((Date.now() - started) / 1000).toFixed(0)} s: ${found.summary}`);
    await page.screenshot({ path: join(artifacts, "self-check-en.png"), fullPage: true });
    assert(found.kernels.length >= 14, `only ${found.kernels.length} kernel families: ${JSON.stringify(found.kernels)}`);
    for (const [kernel, cases, largest, used, verdict] of found.kernels) {
      assert(verdict === "✓ agrees", `${kernel}: ${verdict} (largest difference ${largest}, ${used} of the tolerance)`);
      assert(Number(cases) >= 1 && Number.isFinite(Number(largest)) && parseFloat(used) <= 100, `${kernel}: ${cases} cases, ${largest}, ${used}`);
    }
    const totalCases = found.kernels.reduce((n, row) => n + Number(row[1]), 0);
    assert(
      found.summary.includes(`every one of the lab's ${found.kernels.length} kernels within the tests' tolerance`) &&
        found.summary.includes(`(${totalCases} cases;`),
      `the words do not say what the table says: ${found.summary}`,
    );
    assert(found.steps.length === 4, `step times: ${JSON.stringify(found.steps)}`);
    for (const [model, engine, ms] of found.steps) {
      assert(Number(ms) > 0, `${model} on ${engine}: ${ms} ms`);
    }
    const ms = (model, engine) => Number(found.steps.find((s) => s[0].includes(model) && s[1] === engine)[2]);
    for (const model of ["MLP", "CNN"]) {
      for (const engine of ["WebGPU", "CPU"]) {
        const shown = ms(model, engine);
        // The sentence rounds as people do (4.1 ms, 90 ms, 3.2 s); the table has tenths.
        const said = shown >= 1000 ? `${(shown / 1000).toFixed(1)} s` : shown >= 10 ? `${shown.toFixed(0)} ms` : `${shown.toFixed(1)} ms`;
        assert(found.summary.includes(said), `${model} on ${engine}: the table says ${shown} ms, the words not ${said}: ${found.summary}`);
      }
    }
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#self-check-save")]);
    const report = JSON.parse(await readFile(await download.path(), "utf8"));
    assert(report.kind === "normlab-device-report" && report.version === 1, `report header: ${report.kind} ${report.version}`);
    assert(/swiftshader/i.test(report.gpu ?? ""), `report gpu: ${report.gpu}`);
    assert(report.kernels.length === found.kernels.length && report.kernels.every((k) => k.passed && k.tolerance_used <= 1), "report kernels");
    assert(report.steps.length === 4 && report.steps.every((s) => s.batch === 64 && s.step_millis > 0), `report steps: ${JSON.stringify(report.steps)}`);
    assert(errors.length === 0, `console errors: ${errors.join("; ")}`);
    await context.close();
  });

  await check("self-check: without WebGPU the page says so and times the CPU engine only (Chinese, phone width)", async () => {
    const { context, page, errors } = await lab.open("lesson=self-check&lang=zh", { removeWebGpu: true, viewport: { width: 390, height: 844 } });
    const found = await runCheck(page);
    await page.screenshot({ path: join(artifacts, "self-check-zh-390.png"), fullPage: true });
    assert(found.kernels.length === 0, `kernels without a GPU: ${JSON.stringify(found.kernels)}`);
    assert(found.summary.includes("没有可用的 WebGPU") && found.summary.includes("CPU 引擎"), `summary: ${found.summary}`);
    assert(found.steps.length === 2 && found.steps.every((s) => s[1] === "CPU"), `step times: ${JSON.stringify(found.steps)}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the page is ${overflow} px wider than the phone`);
    assert(errors.length === 0, `console errors: ${errors.join("; ")}`);
    await context.close();
  });
}
