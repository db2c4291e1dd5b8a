// The playground's own images: a folder with one sub-folder per class, generated here as
// small PNGs (a tiny encoder: zlib and CRC-32), given to the folder picker, previewed,
// trained on the CPU engine; and the refusals (one class, no images).

import { mkdir, rm, writeFile } from "node:fs/promises";
import { deflateSync } from "node:zlib";
import { check, assert, join, artifacts, trainToEnd, runRows } from "./harness.mjs";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** An 8-bit RGB PNG of `size`×`size` pixels, `pixel(x, y)` giving [r, g, b]. */
function png(size, pixel) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, no interlace
  const rows = Buffer.alloc(size * (1 + 3 * size));
  for (let y = 0; y < size; y++) {
    rows[y * (1 + 3 * size)] = 0; // filter: none
    for (let x = 0; x < size; x++) rows.set(pixel(x, y), y * (1 + 3 * size) + 1 + 3 * x);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** Vertical stripes (red on white) or a checkerboard (blue on white), shifted by `i`. */
const PATTERNS = {
  stripes: (i) => (x) => ((x + i) >> 2) % 2 === 0 ? [220, 30, 30] : [255, 255, 255],
  checks: (i) => (x, y) => (((x + i) >> 3) + ((y + i) >> 3)) % 2 === 0 ? [30, 60, 200] : [255, 255, 255],
};

/** Writes `folders` ({path: Buffer}) under a fresh directory and returns its path. */
async function folder(name, files) {
  const dir = join(artifacts, "own-images", name);
  await rm(dir, { recursive: true, force: true });
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  return dir;
}

function classImages(pattern, count) {
  return Object.fromEntries(
    [...Array(count).keys()].map((i) => [`${pattern}/${pattern}-${String(i).padStart(2, "0")}.png`, png(24, PATTERNS[pattern](i))]),
  );
}

const PER_CLASS = 30;

/** Gives `dir` to the folder picker and returns the status text once it is written. */
async function pickFolder(page, dir) {
  await page.waitForFunction(() => document.querySelector("#pg-folder")?.webkitdirectory === true);
  const before = await page.evaluate(() => document.querySelector("#pg-images-status")?.textContent ?? null);
  await page.setInputFiles("#pg-folder", dir);
  await page.waitForFunction(
    (b) => {
      const status = document.querySelector("#pg-images-status");
      return status !== null && status.textContent !== b && document.querySelector("#pg-images-reading") === null;
    },
    before,
    { timeout: 30_000 },
  );
  return page.textContent("#pg-images-status");
}

/** The preview's classes: [{name, count, thumbnails (decoded), caption}]. */
async function previewClasses(page) {
  return page.$$eval("#pg-images-preview figure.image-class", (figures) =>
    figures.map((f) => ({
      name: f.dataset.class,
      count: Number(f.dataset.count),
      thumbnails: [...f.querySelectorAll("img")].filter((img) => img.complete && img.naturalWidth > 0).length,
      caption: f.querySelector("figcaption").textContent,
    })),
  );
}

/** Drops the folder `name` holding `files` ({path: Buffer}) on the own-images box. A page
 *  cannot make a real folder drop (the entries of a script's DataTransfer are null), so the
 *  drop event carries stand-ins with the entries API's shape: directories answer
 *  `readEntries` in batches of 10 until an empty one, as Chromium does in batches of 100. */
async function dropFolder(page, name, files) {
  const list = Object.entries(files).map(([path, bytes]) => [path, bytes.toString("base64")]);
  await page.evaluate(
    ([name, list]) => {
      const dir = (dirName, fullPath) => ({ isDirectory: true, isFile: false, name: dirName, fullPath, children: [] });
      const root = dir(name, `/${name}`);
      for (const [path, base64] of list) {
        const parts = path.split("/");
        let at = root;
        for (const part of parts.slice(0, -1)) {
          let next = at.children.find((c) => c.isDirectory && c.name === part);
          if (!next) at.children.push((next = dir(part, `${at.fullPath}/${part}`)));
          at = next;
        }
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const file = new File([bytes], parts.at(-1));
        at.children.push({ isDirectory: false, isFile: true, name: parts.at(-1), file: (ok) => setTimeout(() => ok(file)) });
      }
      const withReaders = (entry) => {
        if (!entry.isDirectory) return entry;
        entry.children.forEach(withReaders);
        entry.createReader = () => {
          let at = 0;
          return { readEntries: (ok) => setTimeout(() => ok(entry.children.slice(at, (at += 10)))) };
        };
        return entry;
      };
      withReaders(root);
      const items = [{ kind: "file", webkitGetAsEntry: () => root }];
      const event = new DragEvent("drop", { bubbles: true, cancelable: true });
      Object.defineProperty(event, "dataTransfer", { value: { items: Object.assign(items, { length: 1 }) } });
      document.querySelector("#pg-images").dispatchEvent(event);
    },
    [name, list],
  );
}

export async function ownImagesChecks(lab) {
  const goodFiles = {
    ...classImages("stripes", PER_CLASS),
    ...classImages("checks", PER_CLASS),
    "checks/broken.png": Buffer.from("this is not a PNG, only its name says so"),
    "notes.txt": Buffer.from("two classes of patterns\n"),
    "stripes/labels.csv": Buffer.from("file,label\n"),
  };
  const good = await folder("two-classes", goodFiles);

  await check("playground: own images — a folder of two classes is previewed per class, the corrupt file is named, and it trains on the CPU", async () => {
    const { context, page, errors, foreign } = await lab.open(
      "lesson=playground&lang=en&engine=cpu&norm=batch&opt=adam&lr=0.01&batch=16&epochs=3&hidden=64&seed=1",
    );
    const status = await pickFolder(page, good);
    assert(
      status.includes("60 images in 2 classes, 28×28 grey: 48 for training, 12 for testing (20 % of each class held out, split by seed 1)"),
      `status: ${status}`,
    );
    assert(status.includes("1 file could not be read and was skipped: checks/broken.png"), `the corrupt file is not named: ${status}`);
    assert(status.includes("2 files that are not PNG or JPEG images were skipped"), `non-images not counted: ${status}`);
    const classes = await previewClasses(page);
    assert(
      JSON.stringify(classes.map((c) => [c.name, c.count, c.thumbnails])) === JSON.stringify([["checks", 30, 6], ["stripes", 30, 6]]),
      `preview: ${JSON.stringify(classes)}`,
    );
    assert(classes[0].caption.includes("24 train · 6 test"), `caption: ${classes[0].caption}`);
    assert((await page.inputValue("#pg-data")) === "image-folder", "the data set did not switch to the folder");
    await page.locator("#pg-images").screenshot({ path: join(artifacts, "own-images-en-1280.png") });
    await trainToEnd(page, "#pg-train", "playground", 120_000);
    const [row] = await runRows(page, "playground");
    console.log(`     ${row.label}: ${row.status}`);
    const accuracy = Number(/test accuracy ([\d.]+)/.exec(row.status)?.[1]);
    // Stripes against a checkerboard: three epochs of 48 images tell them apart.
    assert(accuracy >= 90, `own images run: ${row.status}`);
    assert(row.device.includes("CPU"), `engine: ${row.device}`);
    assert(foreign.length === 0, `requests left localhost: ${foreign.join(", ")}`);
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await page.screenshot({ path: join(artifacts, "own-images-en-trained.png"), fullPage: true });

    // The run's link names the data set but cannot carry the images: opened in a fresh
    // page, training says so instead of running on something else.
    const again = await lab.open(row.link.replace(/^.*\?/, ""));
    await trainToEnd(again.page, "#pg-train", "playground", 60_000);
    const said = await again.page.textContent(".widget.playground");
    assert(said.includes("no image folder is loaded in this page"), "the link's run did not say the images are missing");
    await again.context.close();
    await context.close();
  });

  await check("playground: own images — a dropped folder is walked (sub-folders read in batches) and gives the same counts, skipped files and preview as the picker", async () => {
    const { context, page, errors } = await lab.open("lesson=playground&lang=en&engine=cpu&seed=1");
    await page.waitForSelector("#pg-images");
    await dropFolder(page, "two-classes", goodFiles);
    await page.waitForSelector("#pg-images-status", { timeout: 30_000 });
    const status = await page.textContent("#pg-images-status");
    assert(status.includes("60 images in 2 classes, 28×28 grey: 48 for training, 12 for testing"), `dropped: ${status}`);
    assert(status.includes("checks/broken.png") && status.includes("2 files that are not PNG or JPEG images"), `dropped: ${status}`);
    const classes = await previewClasses(page);
    assert(JSON.stringify(classes.map((c) => [c.name, c.count])) === JSON.stringify([["checks", 30], ["stripes", 30]]), `dropped preview: ${JSON.stringify(classes)}`);
    assert((await page.inputValue("#pg-data")) === "image-folder", "the data set did not switch to the dropped folder");
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();
  });

  await check("playground: own images — a folder of one class and a folder without images are refused in words; colour 32×32 in Chinese at 390 px trains the CNN", async () => {
    const one = await folder("one-class", { ...classImages("stripes", 5), "notes.txt": Buffer.from("x") });
    const none = await folder("no-images", { "readme.txt": Buffer.from("no pictures here"), "cats/list.txt": Buffer.from("") });
    const { context, page, errors } = await lab.open("lesson=playground&lang=en&engine=cpu");
    const single = await pickFolder(page, one);
    assert(single.includes("all the images are in one class (stripes); a classifier needs at least two sub-folders"), `one class: ${single}`);
    const empty = await pickFolder(page, none);
    assert(empty.includes("the folder holds no PNG or JPEG images in class folders (2 other files)"), `no images: ${empty}`);
    assert((await page.$$("#pg-images-preview figure")).length === 0, "a refused folder left a preview");
    assert((await page.inputValue("#pg-data")) !== "image-folder", "a refused folder was taken as the data set");
    assert(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    await context.close();

    const zh = await lab.open("lesson=playground&lang=zh&engine=cpu&seed=2&arch=cnn&channels=4-8&norm=batch&opt=adam&lr=0.01&batch=16&epochs=1&batches=3", {
      viewport: { width: 390, height: 844 },
      locale: "zh-CN",
    });
    await zh.page.selectOption("#pg-images-shape", "colour32");
    const text = await pickFolder(zh.page, good);
    assert(text.includes("2 个类别共 60 张图像，32×32 彩色：48 张用于训练，12 张用于测试"), `Chinese status: ${text}`);
    assert(text.includes("checks/broken.png"), `Chinese status does not name the file: ${text}`);
    // File names are names, set as code (not words of the page's language).
    assert((await zh.page.textContent("#pg-images-status code")) === "checks/broken.png", "the file name is not set as code");
    const classes = await previewClasses(zh.page);
    assert(classes.length === 2 && classes.every((c) => c.thumbnails === 6), `Chinese preview: ${JSON.stringify(classes)}`);
    const overflow = await zh.page.evaluate(() => {
      const section = document.querySelector("#pg-images").getBoundingClientRect();
      return { page: document.documentElement.scrollWidth, right: section.right };
    });
    assert(overflow.page <= 390 && overflow.right <= 390, `the preview does not fit 390 px: ${JSON.stringify(overflow)}`);
    await zh.page.locator("#pg-images").screenshot({ path: join(artifacts, "own-images-zh-390.png") });
    // The CNN trains on the three colour planes (classes = the two sub-folders).
    await trainToEnd(zh.page, "#pg-train", "playground", 120_000);
    const [row] = await runRows(zh.page, "playground");
    console.log(`     ${row.label}: ${row.status}`);
    assert(row.status.startsWith("测试准确率") || row.status.startsWith("没有学习"), `CNN on colour images: ${row.status}`);
    assert(row.config.includes("CNN") || row.label.includes("CNN"), `not the CNN: ${row.label} ${row.config}`);
    assert(zh.errors.length === 0, `console errors: ${zh.errors.join(" | ")}`);
    await zh.context.close();
  });
}
