'use strict';
// The pthread worker of tfjs-backend-wasm's threaded-SIMD build, started from a real file in Node.
//
// tfjs ships emscripten's worker script only as a string (`wasmWorkerContents`) and starts it from a
// `blob:` URL, which Node's worker_threads refuse (ERR_WORKER_PATH). This file runs that same script.
// Its first message from the main thread ("load") names the emscripten glue file (`urlOrBlob`), so the
// worker script is read from beside the glue the main thread loaded and the two always match.
const { parentPort } = require('node:worker_threads');

parentPort.once('message', (load) => {
  const gluePath = load.urlOrBlob;
  const { wasmWorkerContents } = require(gluePath.replace(/\.js$/, '.worker.js'));
  // The string came through a template literal that turned the script's `\n` escapes into real
  // newlines inside string literals; tfjs puts them back the same way before making its Blob.
  const script = wasmWorkerContents.replace(/\n/g, '\\n');
  // Direct eval so the script sees this module's `require` and `__filename`, as it expects; it
  // installs `onmessage` (on this worker's own global) and a listener for every later message.
  // biome-ignore lint/security/noGlobalEval: running emscripten's worker script is this file's job.
  eval(script);
  // Its `importScripts(path)` evaluates the glue as a classic script, whose CommonJS tail fails
  // outside a module; requiring the glue defines the same factory.
  globalThis.importScripts = (path) => {
    globalThis.WasmBackendModuleThreadedSimd = require(path);
  };
  globalThis.onmessage({ data: load });
});
