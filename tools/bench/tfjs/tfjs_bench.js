// The TensorFlow.js half of tools/bench/browser_bench.mjs: the lab's two benchmark models
// (the notes' CNN and the MLP 784-256-256-10, both with BatchNorm, Adam lr 1e-3) trained
// with TensorFlow.js on its WebGPU backend, on the lab's own Fashion-MNIST file and timed
// the way the lab times itself (src/bin/normlab_bench.rs and the page's
// benchmark_training_step): one warm-up block, then `blocks` blocks of `steps_per_block`
// steps, each block ending with a read-back of the last loss; the median block's time
// per step.
//
//   window.tfjsBenchmark({model: "cnn"|"mlp", batch, steps_per_block, blocks})
//     -> Promise<{framework: "tfjs", backend: "webgpu", device, model, batch, ms_per_step,
//                 images_per_s, block_ms, parameters, final_loss, version, ...}>
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

async function ready() {
  backendReady ??= (async () => {
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
    if (tf.getBackend() !== "webgpu") throw new Error(`TensorFlow.js runs on ${tf.getBackend()}, not webgpu`);
    // Count kernels that the WebGPU backend hands to its CPU code (WEBGPU_CPU_FORWARD:
    // tiny inputs that are still on the CPU, such as scalars made in JavaScript).
    const backend = tf.backend();
    const shouldExecuteOnCPU = backend.shouldExecuteOnCPU.bind(backend);
    backend.shouldExecuteOnCPU = (...args) => {
      const onCpu = shouldExecuteOnCPU(...args);
      if (onCpu) gpuCounts.cpuForwarded = (gpuCounts.cpuForwarded ?? 0) + 1;
      return onCpu;
    };
  })();
  return backendReady;
}

function deviceName(info) {
  return info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(" ") || "unknown";
}

window.tfjsBenchmark = async function tfjsBenchmark(request) {
  const kind = request.model;
  const batch = request.batch;
  const steps = request.steps_per_block;
  const blocks = request.blocks;
  if (!(kind in EXPECTED_PARAMETERS)) throw new Error(`unknown model "${kind}" (cnn or mlp)`);
  if (!(batch >= 1 && steps >= 1 && blocks >= 1)) throw new Error(`bad request ${JSON.stringify(request)}`);

  await ready();
  const data = await loadDataset();
  if (batch >= data.n) throw new Error(`batch ${batch} is not below the ${data.n} training images`);
  const tensorsAtStart = tf.memory().numTensors;

  // The whole training split on the GPU once; a step gathers its rows from it.
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
  const timedCounts = { submissions: 0, dispatches: 0, cpuForwarded: 0 };
  try {
    for (let block = 0; block <= blocks; block++) {
      const before = { ...gpuCounts };
      const started = performance.now();
      let loss = null;
      for (let s = 0; s < steps; s++) {
        loss?.dispose();
        loss = step(stepIndex++);
      }
      finalLoss = (await loss.data())[0];
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
    if (new Set(tensorsAfterBlock.slice(1)).size !== 1 || tensorsAfterBlock[1] !== tensorsAfterBlock[0]) {
      throw new Error(`tensors leak between steps: live tensors after each block ${tensorsAfterBlock.join(", ")}`);
    }
    if (!Number.isFinite(finalLoss)) throw new Error(`the loss is ${finalLoss}`);
  } finally {
    model.dispose();
    optimizer.dispose();
    images.dispose();
    labels.dispose();
  }
  const tensorsLeft = tf.memory().numTensors - tensorsAtStart;

  const msPerStep = median(blockMs);
  const timedSteps = steps * blocks;
  return {
    framework: "tfjs",
    backend: "webgpu",
    device: deviceName(adapterInfo),
    model: kind,
    batch,
    ms_per_step: msPerStep,
    images_per_s: batch / (msPerStep / 1000),
    block_ms: blockMs,
    // As the lab counts them: the read-back's submission at the end of each block is
    // left out (TensorFlow.js may also submit pending work before it copies).
    submissions_per_step: (timedCounts.submissions - blocks) / timedSteps,
    dispatches_per_step: timedCounts.dispatches / timedSteps,
    cpu_forwarded_per_step: timedCounts.cpuForwarded / timedSteps,
    parameters,
    final_loss: finalLoss,
    block_loss: blockLoss,
    steps_per_block: steps,
    blocks,
    live_tensors: tensorsAfterBlock[0],
    tensors_left_after_dispose: tensorsLeft,
    version: tf.version.tfjs,
    adapter: adapterInfo,
    flags: {
      WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE"),
      WEBGPU_CPU_FORWARD: tf.env().get("WEBGPU_CPU_FORWARD"),
    },
  };
};
