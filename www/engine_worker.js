// The CPU engine's Web Worker (src/bin/engine_worker.rs; the page's side is
// src/ui/trainer/workers.rs). The page compiles the engine's WebAssembly module once and
// posts it here first; the engine then starts, says it is ready, and takes every later
// message itself. A classic worker (importScripts), so that it runs in every browser that
// runs the page; same origin only, no shared memory, no special headers.
importScripts("engine-worker.js");

self.onmessage = (event) => {
  self.onmessage = null;
  // wasm_bindgen is defined by engine-worker.js (wasm-bindgen's no-modules output).
  wasm_bindgen({ module_or_path: event.data }).catch((error) => {
    // The page hears of it as the worker's error event and trains on its own thread.
    setTimeout(() => {
      throw error;
    });
  });
};
