// End-to-end checks of the teacher's class view (?lesson=class): a class's files, made here
// from the two fixtures the native suite keeps current (tests/e2e/fixtures/, see
// `class_e2e_fixtures_are_what_the_lab_writes` in src/class_view.rs), are picked and
// dropped onto the page; the runs of one piece are overlaid with their mean and band, one
// dot per run, the run with another batch size flagged, the foreign and the damaged file
// set aside by name, and the device report listed. Called from lab.test.mjs.

import { readFile } from "node:fs/promises";
import { check, assert, join, root, artifacts, chartSummary, chartInk } from "./harness.mjs";

const fixtures = join(root, "tests", "e2e", "fixtures");

/** The class's files: three students' runs of lesson 4's piece at its quick preset with
 *  seeds 1–3 (one student's two runs in one file), one run with batch 32 (not a preset),
 *  a JSON file that is not the lab's, a cut-off export, and one device report. */
async function classFiles() {
  const exported = JSON.parse(await readFile(join(fixtures, "class-run.json"), "utf8"));
  const template = exported.runs[0];
  const run = (id, seed, accuracies, change = (c) => c) => {
    const r = structuredClone(template);
    r.id = id;
    r.started_ms = 1.7e12 + id;
    r.config = change({ ...r.config, seed });
    r.series.epochs = accuracies.map((a, i) => ({ ...template.series.epochs[0], epoch: i + 1, test_accuracy: a }));
    r.status.outcome.final_test_accuracy = accuracies.at(-1);
    return r;
  };
  const exportOf = (runs) => JSON.stringify({ version: exported.version, runs });
  const device = JSON.parse(await readFile(join(fixtures, "class-device.json"), "utf8"));
  device.gpu = "SwiftShader Device (Subzero)";
  device.kernels = device.kernels.map((k) => ({ ...k, passed: true, tolerance_used: 0.1 }));
  device.steps = [
    { model: "mlp", engine: "webgpu", batch: 64, step_millis: 4.4 },
    { model: "mlp", engine: "cpu", batch: 64, step_millis: 3.5 },
    { model: "cnn", engine: "webgpu", batch: 64, step_millis: 210.0 },
    { model: "cnn", engine: "cpu", batch: 64, step_millis: 95.0 },
  ];
  const phone = {
    ...device,
    gpu: null,
    gpu_problem: "this browser has no WebGPU",
    kernels: [],
    steps: [{ model: "mlp", engine: "cpu", batch: 64, step_millis: 12.0 }, { model: "cnn", engine: "cpu", batch: 64, step_millis: 400.0 }],
  };
  const cut = exportOf([run(9, 9, [0.5])]);
  const json = (name, text) => ({ name, mimeType: "application/json", buffer: Buffer.from(text) });
  return {
    picked: [
      json("ann.json", exportOf([run(1, 1, [0.8, 0.85])])),
      json("bo.json", exportOf([run(1, 2, [0.78, 0.83]), run(2, 3, [0.82, 0.87])])),
      json("notes.json", JSON.stringify({ title: "my notes", items: [1, 2, 3] })),
      json("broken.json", cut.slice(0, cut.length / 2)),
    ],
    dropped: [
      json("cy.json", exportOf([run(5, 4, [0.7, 0.75], (c) => ({ ...c, batch_size: 32 }))])),
      json("device-ann.json", JSON.stringify(device)),
      json("device-bo.json", JSON.stringify(phone)),
    ],
  };
}

/** Drops `files` on the drop zone as a browser does: a `drop` event carrying them in
 *  its DataTransfer. */
async function dropFiles(page, files) {
  const transfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([f.text], f.name, { type: f.mimeType }));
    return dt;
  }, files.map((f) => ({ name: f.name, mimeType: f.mimeType, text: f.buffer.toString("utf8") })));
  await page.dispatchEvent(".class-drop", "dragover", { dataTransfer: transfer });
  await page.dispatchEvent(".class-drop", "drop", { dataTransfer: transfer });
}

/** The piece's section once it shows `runs` runs. */
async function pieceSection(page, group, runs) {
  const selector = `section.class-piece[data-group="${group}"][data-runs="${runs}"]`;
  await page.waitForSelector(selector, { timeout: 20_000 });
  return selector;
}

export async function classViewChecks(lab) {
  const { picked, dropped } = await classFiles();

  await check("class view: picked and dropped exports are overlaid with their mean, band and dots; the odd run flagged, bad files set aside, the device listed", async () => {
    const { context, page, errors, foreign } = await lab.open("lesson=class&lang=en");
    await page.waitForSelector("#class-files", { state: "attached" });
    await page.setInputFiles("#class-files", picked);
    const partial = await pieceSection(page, "l4/high-lr", 3);
    assert((await page.$$(`${partial} .class-dot`)).length === 3, "three runs picked, three dots");
    await dropFiles(page, dropped);
    const section = await pieceSection(page, "l4/high-lr", 4);

    // The overlay: configuration A (the preset) with three runs, B (batch 32) with one.
    const canvas = await page.$eval(`${section} canvas`, (c) => c.id);
    const summary = await chartSummary(page, canvas);
    assert(summary.configs.length === 2, `configurations: ${JSON.stringify(summary.configs)}`);
    const [a, b] = summary.configs;
    assert(a.runs === 3 && !a.flagged && b.runs === 1 && b.flagged, `A and B: ${JSON.stringify(summary.configs)}`);
    const near = (xs, ys) => xs.length === ys.length && xs.every((x, i) => Math.abs(x - ys[i]) < 0.01);
    assert(near(a.mean, [80, 85]), `A's mean per epoch: ${a.mean}`);
    assert(near(a.low, [78, 83]) && near(a.high, [82, 87]), `A's band: ${a.low} to ${a.high}`);
    assert(near(b.mean, [70, 75]), `B's mean: ${b.mean}`);
    const ink = await chartInk(page, canvas);
    assert(ink > 5000, `the chart is nearly blank (${ink} inked pixels)`);

    // One dot per run, placed by its final accuracy.
    const dots = await page.$$eval(`${section} .class-dot`, (ds) => ds.map((d) => Number(d.dataset.accuracy)));
    assert(near([...dots].sort((x, y) => x - y), [75, 83, 85, 87]), `dots: ${dots}`);

    // The run with batch 32 is flagged with what differs; the preset's is not.
    const configs = await page.$$eval(`${section} .class-config`, (ls) => ls.map((l) => ({ flagged: l.dataset.flagged, text: l.textContent })));
    assert(configs[0].flagged === "false" && configs[1].flagged === "true", `flags: ${JSON.stringify(configs)}`);
    assert(/batch_size\s*32 instead of 64/.test(configs[1].text), `B's flag: ${configs[1].text}`);
    assert(/seeds 1, 2, 3/.test(configs[0].text), `A's seeds: ${configs[0].text}`);

    // Both bad files set aside by name, each with its reason; the rest kept.
    const aside = await page.textContent(".class-aside");
    assert(/notes\.json: neither a run export nor a device report/.test(aside), `set aside: ${aside}`);
    assert(/broken\.json: not readable as JSON/.test(aside), `set aside: ${aside}`);
    const status = await page.textContent("#class-summary");
    assert(status.includes("4 runs of 1 piece, 2 device reports, 2 files set aside"), status);

    // The device table.
    const rows = await page.$$eval(".class-devices tbody tr", (rs) => rs.map((r) => [...r.children].map((c) => c.textContent.trim())));
    assert(rows.length === 2, `device rows: ${JSON.stringify(rows)}`);
    const [file, gpu, kernels, mlpGpu, mlpCpu, cnnGpu, cnnCpu] = rows[0];
    assert(file === "device-ann.json" && gpu === "SwiftShader Device (Subzero)" && kernels === "passed (2 kernels)", `device row: ${rows[0]}`);
    assert([mlpGpu, mlpCpu, cnnGpu, cnnCpu].join(" ") === "4.4 3.5 210.0 95.0", `step times: ${rows[0]}`);
    assert(rows[1].join(" | ") === "device-bo.json | none (this browser has no WebGPU) | not checked (no GPU) | – | 12.0 | – | 400.0", `the device without a GPU: ${rows[1]}`);

    await page.screenshot({ path: join(artifacts, "class-view-en-1280.png"), fullPage: true });
    assert(errors.length === 0, `console errors: ${errors}`);
    assert(foreign.length === 0, `requests leaving the page: ${foreign}`);
    await context.close();
  });

  await check("class view: in Chinese on a 390 px phone the same class fits the width and says what differs", async () => {
    const { context, page, errors } = await lab.open("lesson=class&lang=zh", { viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    await page.waitForSelector("#class-files", { state: "attached" });
    await page.setInputFiles("#class-files", [...picked, ...dropped]);
    const section = await pieceSection(page, "l4/high-lr", 4);
    const flag = await page.textContent(`${section} .class-config.flagged`);
    assert(/batch_size\s*为 32，预设为 64/.test(flag), `flag in Chinese: ${flag}`);
    const configs = await page.textContent(`${section} .class-configs`);
    assert(configs.includes("3 次运行，种子 1, 2, 3") && !configs.includes("种子 4 ·"), `configurations in Chinese: ${configs}`);
    const aside = await page.textContent(".class-aside");
    assert(aside.includes("notes.json") && aside.includes("broken.json"), `set aside: ${aside}`);
    await (await page.$(".class-view")).screenshot({ path: join(artifacts, "class-view-zh-390.png") });
    // Nothing but the device table's own scroller is wider than the phone.
    const wide = await page.evaluate(() => {
      const over = [...document.querySelectorAll(".class-view *")].filter((e) => e.getBoundingClientRect().right > 391 && !e.closest(".class-devices-wrap"));
      return { width: document.documentElement.scrollWidth, over: over.slice(0, 5).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`) };
    });
    assert(wide.width <= 390, `the page is ${wide.width} px wide: ${wide.over.join(", ")}`);
    const dotsWidth = await page.$eval(`${section} .class-dots`, (t) => t.getBoundingClientRect().right);
    assert(dotsWidth <= 390, `the dot table reaches ${dotsWidth} px`);
    assert((await page.$$(`${section} .class-dot`)).length === 4, "four dots");
    assert(errors.length === 0, `console errors: ${errors}`);
    await context.close();
  });
}
