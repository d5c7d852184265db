/**
 * The browser test's page (bundled by esbuild): brings up the wasm backend through @cvm/backend with
 * 2 threads and reports what it got, with the small case's results, on `window.result`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, wasmThreadsCount } from '../../src/index.js';
import { smallCase } from './small-case.js';

async function run() {
  // The test server serves tfjs-backend-wasm's binaries under /wasm/ (`?wasm=` points elsewhere).
  const wasmPaths = new URLSearchParams(location.search).get('wasm') ?? '/wasm/';
  const choice = await selectBackend(['wasm'], { threads: 2, wasmPaths });
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    backend: tf.getBackend(),
    why: choice.why,
    threads: await wasmThreadsCount(),
    multithreadSupport: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    ...(await smallCase()),
  };
}

(globalThis as { result?: Promise<unknown> }).result = run().catch((err: Error) => ({
  error: `${err.message}\n${err.stack}`,
}));
