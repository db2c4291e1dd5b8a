// The TensorFlow.js half of tools/bench/browser_bench.mjs: the lab's two benchmark models
// (the notes' CNN and the MLP 784-256-256-10, both with BatchNorm, Adam lr 1e-3) trained
// with TensorFlow.js on one of its backends, on the lab's own Fashion-MNIST file and timed
// the way the lab times itself (src/bin/normlab_bench.rs and the page's
// benchmark_training_step): one warm-up block, then `blocks` blocks of `steps_per_block`
// steps, each block ending with a read-back of the last loss; the median block's time
// per step.
//
//   window.tfjsBenchmark({model: "cnn"|"mlp", batch, steps_per_block, blocks,
//                         backend: "webgpu"|"wasm"|"cpu", threads?})
//     -> Promise<{framework: "tfjs", backend, device, model, batch, ms_per_step,
//                 images_per_s, block_ms, parameters, final_loss, version, ...}>
//
// Backends: "webgpu" (the default; index.html loads its bundle), "wasm" (XNNPACK compiled
// to WebAssembly, SIMD where the browser has it, multi-threaded where the page is
// cross-origin isolated: cpu.html, which the driver serves with COOP/COEP) and "cpu"
// (TensorFlow.js's plain JavaScript kernels, part of tf.min.js). `threads` (wasm only):
// tf.wasm.setThreadsCount before the backend starts; by default one per logical core
// (navigator.hardwareConcurrency). TensorFlow.js 4.22 caps its XNNPACK pool at half the
// logical cores it is told of (init_with_threads_count: min(asked, 8, cores / 2), cores
// read from navigator.hardwareConcurrency as the module starts, on the idea that a core
// has two hyperthreads): one thread on a 2-core machine, whatever setThreadsCount asks.
// Where more is asked, the page tells TensorFlow.js twice as many cores while its module
// starts (and the truth again once it has), so that the cap lets them through; the
// answer records the real and the reported count and the threads TensorFlow.js then has
// (tf.wasm.getThreadsCount). `threads: "shipped"` leaves TensorFlow.js to its default.
// Where a backend cannot train a model (a kernel or a gradient it lacks, such as the
// convolution's filter gradient in the wasm backend) the answer carries `cannot_train`
// (the error's message) and no timing, instead of a rejected promise.
//
// Where this differs from the lab on purpose (none of it changes the work per step):
// - Layout NHWC, TensorFlow.js's own; with one input channel the image bytes are the same.
// - Batch rows come from `order = 0..n_train-1` (the lab shuffles with its ChaCha8
//   `epoch_order`); the rule for which slice of `order` a step takes is the lab's.
// - Keras initialisers (Glorot uniform, zero bias) instead of PyTorch's.
// - Keras updates the moving variance with the biased batch variance; PyTorch (and the
//   lab) with the unbiased one. Only the moving statistics differ, not the step's output.
//
// This file loads before tf.min.js (see index.html): it wraps GPUQueue.submit and
// GPUComputePassEncoder.dispatchWorkgroups to count submissions and dispatches per step,
// which must happen before TensorFlow.js creates its device. `tf` is only used later.

"use strict";

const gpuCounts = { submissions: 0, dispatches: 0 };
if (globalThis.GPUQueue && globalThis.GPUComputePassEncoder) {
  const submit = GPUQueue.prototype.submit;
  GPUQueue.prototype.submit = function (commandBuffers) {
    gpuCounts.submissions++;
    return submit.call(this, commandBuffers);
  };
  const dispatch = GPUComputePassEncoder.prototype.dispatchWorkgroups;
  GPUComputePassEncoder.prototype.dispatchWorkgroups = function (...args) {
    gpuCounts.dispatches++;
    return dispatch.apply(this, args);
  };
}

/** Trainable parameters of the lab's models (the lab reports the same figures). */
const EXPECTED_PARAMETERS = { cnn: 422_090, mlp: 270_346 };

/** PyTorch's BatchNorm eps and momentum 0.1, which Keras writes as momentum 0.9. */
const BN = { axis: -1, epsilon: 1e-5, momentum: 0.9 };

/** The lab's Adam: PyTorch's defaults (eps 1e-8; TensorFlow.js would take 1e-7). */
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

let datasetPromise = null;

/** The lab's data file, parsed (NLDS version 1, see www/data/README.md). */
function loadDataset() {
  datasetPromise ??= (async () => {
    const response = await fetch("/data/fashion-mnist.nlds.gz");
    if (!response.ok) throw new Error(`/data/fashion-mnist.nlds.gz: HTTP ${response.status}`);
    const gunzipped = response.body.pipeThrough(new DecompressionStream("gzip"));
    return parseNlds(new Uint8Array(await new Response(gunzipped).arrayBuffer()));
  })();
  return datasetPromise;
}

function parseNlds(bytes) {
  if (bytes.length < 32) throw new Error("NLDS: shorter than its header");
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, nTrain, nTest, height, width, channels, classes] = [4, 8, 12, 16, 20, 24, 28].map((o) =>
    view.getUint32(o, true),
  );
  if (magic !== "NLDS" || version !== 1) throw new Error(`NLDS: magic ${magic}, version ${version}`);
  const features = channels * height * width;
  const expected = 32 + (nTrain + nTest) * (1 + features);
  if (bytes.length !== expected) throw new Error(`NLDS: ${bytes.length} bytes, expected ${expected}`);
  let offset = 32;
  const take = (n) => bytes.subarray(offset, (offset += n));
  const trainLabels = take(nTrain);
  const trainPixels = take(nTrain * features);
  // The test split follows; the benchmark trains only.

  // As the lab does (src/data/mod.rs): pixels scaled to [0, 1], then standardised with
  // the training split's mean and (population) standard deviation.
  let sum = 0;
  for (const p of trainPixels) sum += p / 255;
  const mean = sum / trainPixels.length;
  let squares = 0;
  for (const p of trainPixels) squares += (p / 255 - mean) ** 2;
  const std = Math.max(Math.sqrt(squares / trainPixels.length), 1e-6);
  const images = new Float32Array(trainPixels.length);
  for (let i = 0; i < images.length; i++) images[i] = (trainPixels[i] / 255 - mean) / std;
  return {
    n: nTrain,
    height,
    width,
    channels,
    classes,
    images,
    labels: Int32Array.from(trainLabels),
    pixelMean: mean,
    pixelStd: std,
  };
}

/** The lab's models, layer for layer (src/nn: conv/dense with bias, BatchNorm, ReLU). */
function buildModel(kind, data) {
  const bn = () => tf.layers.batchNormalization(BN);
  const relu = () => tf.layers.reLU();
  const model = tf.sequential();
  if (kind === "cnn") {
    // conv3x3(1→32) BN ReLU pool2, conv3x3(32→64) BN ReLU pool2, 3136→128 BN ReLU, 128→10
    const conv = (filters, extra = {}) =>
      tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", useBias: true, ...extra });
    model.add(conv(32, { inputShape: [data.height, data.width, data.channels] }));
    model.add(bn());
    model.add(relu());
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    model.add(conv(64));
    model.add(bn());
    model.add(relu());
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 128, useBias: true }));
    model.add(bn());
    model.add(relu());
    model.add(tf.layers.dense({ units: data.classes, useBias: true }));
  } else if (kind === "mlp") {
    // 784→256 BN ReLU, 256→256 BN ReLU, 256→10
    const features = data.channels * data.height * data.width;
    model.add(tf.layers.dense({ units: 256, useBias: true, inputShape: [features] }));
    model.add(bn());
    model.add(relu());
    model.add(tf.layers.dense({ units: 256, useBias: true }));
    model.add(bn());
    model.add(relu());
    model.add(tf.layers.dense({ units: data.classes, useBias: true }));
  } else {
    throw new Error(`unknown model "${kind}" (cnn or mlp)`);
  }
  return model;
}

function trainableParameters(model) {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
}

function median(xs) {
  // The lab's rule: the middle of the sorted list (the upper one of two).
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

let backendReady = null;
let adapterInfo = null;
/** What the wasm backend runs on: SIMD, threads, which binary it fetched. */
let wasmInfo = null;

/** The folder the driver serves the wasm backend's .wasm files from. */
const WASM_FOLDER = "/tfjs/wasm/";

async function ready(backend, threads) {
  backendReady ??= (async () => {
    if (backend === "webgpu") await readyWebgpu();
    else if (backend === "wasm") await readyWasm(threads);
    else if (backend === "cpu") {
      if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend('cpu') failed");
      await tf.ready();
    } else {
      throw new Error(`unknown backend "${backend}" (webgpu, wasm or cpu)`);
    }
    if (tf.getBackend() !== backend) throw new Error(`TensorFlow.js runs on ${tf.getBackend()}, not ${backend}`);
    return backend;
  })();
  const started = await backendReady;
  if (started !== backend) throw new Error(`this page already runs TensorFlow.js on ${started}, not ${backend}`);
}

async function readyWasm(threads) {
  if (!tf.wasm) throw new Error("the wasm backend's bundle (tf-backend-wasm.min.js) is not on this page");
  tf.wasm.setWasmPaths(WASM_FOLDER);
  const cores = navigator.hardwareConcurrency;
  const asked = threads === "shipped" ? null : (threads ?? cores);
  if (asked !== null) tf.wasm.setThreadsCount(asked);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const multithread = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  // TensorFlow.js's cap (see above): report 2 × asked cores while the module starts.
  const reported = asked !== null && asked > Math.floor(cores / 2) ? 2 * asked : cores;
  if (reported !== cores) Object.defineProperty(navigator, "hardwareConcurrency", { value: reported, configurable: true });
  try {
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
    await tf.ready();
  } finally {
    if (reported !== cores) delete navigator.hardwareConcurrency;
  }
  if (navigator.hardwareConcurrency !== cores) throw new Error("navigator.hardwareConcurrency was not restored");
  // The binary the backend fetched says what it runs: plain, SIMD or threaded SIMD.
  const binary = performance
    .getEntriesByType("resource")
    .map((e) => new URL(e.name).pathname)
    .filter((p) => p.endsWith(".wasm"))
    .map((p) => p.slice(p.lastIndexOf("/") + 1))
    .at(-1);
  const threadsUsed = tf.wasm.getThreadsCount();
  wasmInfo = {
    simd_supported: simd,
    multithread_supported: multithread,
    cross_origin_isolated: globalThis.crossOriginIsolated === true,
    hardware_concurrency: cores,
    // What TensorFlow.js was told while its module started (more than the truth only
    // to lift its cap of half the cores).
    hardware_concurrency_told: reported,
    threads_requested: asked ?? "TensorFlow.js's default",
    binary: binary ?? null,
    simd: binary ? binary.includes("simd") : simd,
    // The threaded binary with XNNPACK's pool of getThreadsCount() threads; any other
    // binary runs on the page's thread alone.
    threaded: binary ? binary.includes("threaded") : false,
    threads: binary && binary.includes("threaded") ? threadsUsed : 1,
    threads_count: threadsUsed,
  };
}

async function readyWebgpu() {
  if (!navigator.gpu) throw new Error("this browser has no WebGPU (navigator.gpu is missing)");
  // The adapter TensorFlow.js will get too: it asks with the same power preference.
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("navigator.gpu.requestAdapter() gave no adapter");
  const info = adapter.info ?? {};
  adapterInfo = {
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    device: info.device ?? "",
    description: info.description ?? "",
    is_fallback_adapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? null,
  };
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  // Count kernels that the WebGPU backend hands to its CPU code (WEBGPU_CPU_FORWARD:
  // tiny inputs that are still on the CPU, such as scalars made in JavaScript).
  const backend = tf.backend();
  const shouldExecuteOnCPU = backend.shouldExecuteOnCPU.bind(backend);
  backend.shouldExecuteOnCPU = (...args) => {
    const onCpu = shouldExecuteOnCPU(...args);
    if (onCpu) gpuCounts.cpuForwarded = (gpuCounts.cpuForwarded ?? 0) + 1;
    return onCpu;
  };
}

function deviceName(backend) {
  if (backend === "webgpu") {
    const info = adapterInfo;
    return info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(" ") || "unknown";
  }
  if (backend === "wasm") {
    const w = wasmInfo;
    const threads = w.threads > 1 ? `${w.threads} threads` : "one thread";
    return `CPU (TensorFlow.js wasm, ${w.simd ? "SIMD" : "no SIMD"}, ${threads})`;
  }
  return "CPU (TensorFlow.js cpu: JavaScript, one thread)";
}

window.tfjsBenchmark = async function tfjsBenchmark(request) {
  const kind = request.model;
  const batch = request.batch;
  const steps = request.steps_per_block;
  const blocks = request.blocks;
  const backend = request.backend ?? "webgpu";
  if (!(kind in EXPECTED_PARAMETERS)) throw new Error(`unknown model "${kind}" (cnn or mlp)`);
  if (!(batch >= 1 && steps >= 1 && blocks >= 1)) throw new Error(`bad request ${JSON.stringify(request)}`);

  await ready(backend, request.threads);
  const data = await loadDataset();
  if (batch >= data.n) throw new Error(`batch ${batch} is not below the ${data.n} training images`);
  const tensorsAtStart = tf.memory().numTensors;

  // The whole training split in the backend's memory once (on the GPU for webgpu); a
  // step gathers its rows from it.
  const features = data.channels * data.height * data.width;
  const shape = kind === "cnn" ? [data.n, data.height, data.width, data.channels] : [data.n, features];
  const images = tf.tensor(data.images, shape, "float32");
  const labels = tf.tensor1d(data.labels, "int32");
  // Force the uploads now, so that the warm-up block does not pay for them.
  const touched = tf.tidy(() => tf.add(tf.sum(images), tf.cast(tf.sum(labels), "float32")));
  await touched.data();
  touched.dispose();

  const model = buildModel(kind, data);
  const parameters = trainableParameters(model);
  if (parameters !== EXPECTED_PARAMETERS[kind]) {
    throw new Error(`${kind}: ${parameters} trainable parameters, the lab's model has ${EXPECTED_PARAMETERS[kind]}`);
  }
  const optimizer = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);

  // The rows of step i: the lab's rule (src/bin/normlab_bench.rs), over order = 0..n-1.
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const step = (i) => {
    const start = (i * batch) % (order.length - batch);
    return tf.tidy(() => {
      const rows = tf.tensor1d(order.subarray(start, start + batch), "int32");
      const x = tf.gather(images, rows);
      const y = tf.oneHot(tf.gather(labels, rows), data.classes);
      // Forward in training mode (batch statistics, moving statistics updated), softmax
      // cross-entropy averaged over the batch, backward, Adam update; returns the loss.
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
    });
  };

  const blockMs = [];
  const blockLoss = [];
  const tensorsAfterBlock = [];
  let stepIndex = 0;
  let finalLoss = NaN;
  let cannotTrain = null;
  const timedCounts = { submissions: 0, dispatches: 0, cpuForwarded: 0 };
  try {
    for (let block = 0; block <= blocks && cannotTrain === null; block++) {
      const before = { ...gpuCounts };
      const started = performance.now();
      let loss = null;
      try {
        for (let s = 0; s < steps; s++) {
          loss?.dispose();
          loss = step(stepIndex++);
        }
        finalLoss = (await loss.data())[0];
      } catch (error) {
        // A kernel or gradient this backend lacks: the model cannot train here.
        loss?.dispose();
        cannotTrain = String(error?.message ?? error);
        break;
      }
      const elapsed = performance.now() - started;
      loss.dispose();
      blockLoss.push(finalLoss);
      tensorsAfterBlock.push(tf.memory().numTensors);
      if (block > 0) {
        blockMs.push(elapsed / steps);
        timedCounts.submissions += gpuCounts.submissions - before.submissions;
        timedCounts.dispatches += gpuCounts.dispatches - before.dispatches;
        timedCounts.cpuForwarded += (gpuCounts.cpuForwarded ?? 0) - (before.cpuForwarded ?? 0);
      }
    }
    // After the warm-up block (which creates Adam's moments) the number of live tensors
    // must stay put: a leak per step would show here.
    if (cannotTrain === null && (new Set(tensorsAfterBlock.slice(1)).size !== 1 || tensorsAfterBlock[1] !== tensorsAfterBlock[0])) {
      throw new Error(`tensors leak between steps: live tensors after each block ${tensorsAfterBlock.join(", ")}`);
    }
    if (cannotTrain === null && !Number.isFinite(finalLoss)) throw new Error(`the loss is ${finalLoss}`);
  } finally {
    model.dispose();
    optimizer.dispose();
    images.dispose();
    labels.dispose();
  }
  const tensorsLeft = tf.memory().numTensors - tensorsAtStart;

  const common = {
    framework: "tfjs",
    backend,
    device: deviceName(backend),
    model: kind,
    batch,
    parameters,
    steps_per_block: steps,
    blocks,
    version: tf.version.tfjs,
    ...(backend === "wasm" ? { wasm: wasmInfo, threads: wasmInfo.threads, simd: wasmInfo.simd } : {}),
    ...(backend === "cpu" ? { threads: 1 } : {}),
  };
  if (cannotTrain !== null) return { ...common, cannot_train: cannotTrain, steps_before_failure: stepIndex - 1 };

  const msPerStep = median(blockMs);
  const timedSteps = steps * blocks;
  const gpu =
    backend === "webgpu"
      ? {
          // As the lab counts them: the read-back's submission at the end of each block is
          // left out (TensorFlow.js may also submit pending work before it copies).
          submissions_per_step: (timedCounts.submissions - blocks) / timedSteps,
          dispatches_per_step: timedCounts.dispatches / timedSteps,
          cpu_forwarded_per_step: timedCounts.cpuForwarded / timedSteps,
          adapter: adapterInfo,
          flags: {
            WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE"),
            WEBGPU_CPU_FORWARD: tf.env().get("WEBGPU_CPU_FORWARD"),
          },
        }
      : {};
  return {
    ...common,
    ms_per_step: msPerStep,
    images_per_s: batch / (msPerStep / 1000),
    block_ms: blockMs,
    ...gpu,
    final_loss: finalLoss,
    block_loss: blockLoss,
    live_tensors: tensorsAfterBlock[0],
    tensors_left_after_dispose: tensorsLeft,
  };
};
