/**
 * tfjs-backend-wasm's threaded-SIMD build in Node.
 *
 * tfjs 4.22 turns threads off whenever it runs in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false under
 * `IS_NODE`), and its loader could not start them anyway: emscripten's pthread worker is created from
 * a `blob:` URL, which worker_threads reject (ERR_WORKER_PATH). Here the emscripten glue shipped in
 * the package (`wasm-out/tfjs-backend-wasm-threaded-simd.js`) is loaded as the CommonJS module it is,
 * with its pthread worker started from a real file (`worker/wasm-pthread-worker.cjs`). No global of
 * the main thread is patched, not even the `Worker` emscripten's glue would set ({@link loadGlue}).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFunction } from 'node:vm';
import { Worker } from 'node:worker_threads';
import {
  type EmscriptenFactory,
  instantiateThreaded,
  MAX_WASM_THREADS,
  type WasmModule,
} from './threaded-module.js';

const WORKER_FILE = fileURLToPath(new URL('../../worker/wasm-pthread-worker.cjs', import.meta.url));

/** The default thread count: every core Node reports, capped at {@link MAX_WASM_THREADS}. */
export function defaultWasmThreads(): number {
  return Math.min(availableParallelism(), MAX_WASM_THREADS);
}

/**
 * The glue's factory, evaluated as the CommonJS module it is but with its own `global` and `Worker`:
 * in Node it runs `global.Worker = require('worker_threads').Worker` and then `new Worker(…)`, which
 * would leave a browser-like `Worker` on Node's global for every other library to see. Here `global`
 * is an object inheriting from the real one, which takes that assignment, and `Worker` is bound to
 * worker_threads' directly.
 */
function loadGlue(gluePath: string): EmscriptenFactory {
  const body = compileFunction(
    readFileSync(gluePath, 'utf8'),
    ['exports', 'require', 'module', '__filename', '__dirname', 'global', 'Worker'],
    { filename: gluePath },
  );
  const module = { exports: {} as unknown };
  const ownGlobal = Object.create(globalThis) as typeof globalThis;
  body(module.exports, createRequire(gluePath), module, gluePath, dirname(gluePath), ownGlobal, Worker);
  return module.exports as EmscriptenFactory;
}

/** Instantiates the threaded-SIMD build with a real-file pthread worker; resolves once its workers load. */
export async function loadThreadedWasmModule(): Promise<WasmModule> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
  );
  const factory = loadGlue(gluePath);
  const binary = await readFile(gluePath.replace(/\.js$/, '.wasm'));
  // Pool workers are unref'd only once loaded; until then nothing else may keep Node's loop alive.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    return await instantiateThreaded(
      factory,
      {
        locateFile: (path: string, prefix: string) =>
          path.endsWith('.worker.js') ? WORKER_FILE : prefix + path,
        // The worker reads the glue's path from here (emscripten's default is the glue's __filename).
        mainScriptUrlOrBlob: gluePath,
      },
      async () => binary,
    );
  } finally {
    clearInterval(keepAlive);
  }
}

/**
 * Lets Node exit while XNNPACK's thread pool is alive. Emscripten `ref()`s a worker while a pthread
 * runs on it, and the pool's threads run (waiting for work) until the backend is removed, so without
 * this every program that activated wasm would hang at its end. The main thread blocks inside the
 * kernels while the pool works, so nothing needs the workers to hold the event loop open.
 */
export function releasePoolWorkers(module: WasmModule): void {
  const pthreads = module.PThread as { runningWorkers?: Array<{ unref?: () => void }> } | undefined;
  for (const worker of pthreads?.runningWorkers ?? []) worker.unref?.();
}
