// "What the lab measured": every lesson's tables show the numbers of the stored results
// files (www/results/, made by normlab-run --reproduce-course), seed by seed, in both
// languages, and fit a phone's width. Called from lab.test.mjs.

import { readFile } from "node:fs/promises";
import { check, assert, join, root, artifacts } from "./harness.mjs";

/** Each lesson's `@live measured:<experiment>` markers, read from its English text. */
async function markers(lesson) {
  const text = await readFile(join(root, "www", "lessons", `${lesson}.en.md`), "utf8");
  return [...text.matchAll(/^@live measured:([a-z0-9-]+)$/gm)].map((m) => m[1]);
}

/** Whether a seed's cell says what the file has: its accuracy (one decimal) or held-out
 *  loss (two), or how it failed. A value exactly halfway may round either way. */
function cellMatches(cell, seedRun, config) {
  const byLoss = ["names", "name-sequences"].includes(config.dataset);
  const outcome = seedRun.outcome;
  if (outcome.outcome === "diverged") return cell === `diverged (epoch ${outcome.epoch}, batch ${outcome.batch})`;
  const near = (shown, value, decimals) => Math.abs(Number(shown) - value) <= 0.5 * 10 ** -decimals + 1e-9;
  if (byLoss) {
    const loss = seedRun.epochs.at(-1).test_loss;
    if (Math.abs(loss) >= 1e4) return /^\d\.\d·10[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/.test(cell);
    return /^\d+\.\d\d$/.test(cell) && near(cell, loss, 2);
  }
  const match = /^(not learning \()?(\d+\.\d) %\)?$/.exec(cell);
  return match !== null && Boolean(match[1]) === outcome.not_learning && near(match[2], outcome.final_test_accuracy * 100, 1);
}

const LESSONS = ["l1", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l11"];

export async function measuredChecks(lab) {
  await check("What the lab measured: every lesson's tables show the stored results, each seed's number as the file has it", async () => {
    const { context, page, errors } = await lab.open("lesson=l1&lang=en");
    const seen = [];
    for (const lesson of LESSONS) {
      const experiments = await markers(lesson);
      assert(experiments.length > 0, `${lesson} has no measured table`);
      await page.goto(`${lab.origin}/?lesson=${lesson}&lang=en`);
      for (const experiment of experiments) {
        const results = JSON.parse(await readFile(join(root, "www", "results", `${experiment}.json`), "utf8"));
        const selector = `.measured[data-experiment="${experiment}"] table tbody tr`;
        await page.waitForSelector(selector, { timeout: 30_000 });
        const rows = await page.$$eval(selector, (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
        const caption = await page.textContent(`.measured[data-experiment="${experiment}"] caption`);
        assert(rows.length === results.runs.length, `${experiment}: ${rows.length} rows for ${results.runs.length} runs`);
        assert(caption.includes(`commit ${results.commit}`) && /seeds 1–3/.test(caption), `${experiment}: caption ${caption}`);
        results.runs.forEach((run, i) => {
          run.seeds.forEach((seedRun, s) => {
            const outcome = JSON.stringify(seedRun.outcome);
            assert(cellMatches(rows[i][s], seedRun, run.config), `${experiment} run ${i + 1} seed ${seedRun.seed}: the page says "${rows[i][s]}", the file ${outcome}`);
          });
        });
        seen.push(`${experiment} ${rows.length}×${results.seeds.length}`);
      }
      if (lesson === "l5") await page.screenshot({ path: join(artifacts, "measured-l5-en.png"), fullPage: true });
    }
    console.log(`     ${seen.join(", ")}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  await check("What the lab measured: in Chinese on a 390 px phone the tables are in Chinese and scroll inside their box", async () => {
    const { context, page, errors } = await lab.open("lesson=l4&lang=zh", { locale: "zh-CN", viewport: { width: 390, height: 844 } });
    for (const lesson of ["l4", "l9", "l11"]) {
      await page.goto(`${lab.origin}/?lesson=${lesson}&lang=zh`);
      await page.waitForSelector(".measured table tbody tr", { timeout: 30_000 });
      const header = await page.textContent(".measured table thead");
      const caption = await page.textContent(".measured caption");
      assert(/种子/.test(header) && /实验室的测量结果/.test(caption), `${lesson}: not in Chinese: ${header} | ${caption}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert(overflow <= 1, `${lesson}: the page scrolls sideways by ${overflow} px`);
      await page.screenshot({ path: join(artifacts, `measured-${lesson}-zh-390.png`), fullPage: true });
    }
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });
}
