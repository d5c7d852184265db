/**
 * tfjs-backend-wasm as cvm's CPU backend: XNNPACK with SIMD, threads in Node and in cross-origin
 * isolated pages, and the kernels training needs ({@link registerWasmTrainingKernels}).
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from './kernels/register.js';

export interface WasmBackendOptions {
  /**
   * Threads for XNNPACK's pool. Default: every core (Node's `availableParallelism()`, the browser's
   * `navigator.hardwareConcurrency`), at most 8. Threads need SharedArrayBuffer: always there in
   * Node, and in browsers only on cross-origin isolated pages (COOP/COEP headers).
   */
  threads?: number;
  /**
   * Browser only: the URL prefix (ending in '/') the `.wasm` binaries are served from, as tfjs's
   * `setWasmPaths`. Default: beside the script, as tfjs does.
   */
  wasmPaths?: string;
}

const isNode = typeof (globalThis as { process?: NodeJS.Process }).process?.versions?.node === 'string';

/**
 * The Node-only half (worker threads, `node:` modules), imported through a name bundlers do not
 * follow, so that a browser bundle of this package (Vite, esbuild) leaves it out.
 */
function nodeThreads(): Promise<typeof import('./node-threads.js')> {
  const path = './node-threads.js';
  return import(/* @vite-ignore */ path);
}

function defaultThreads(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return Math.min(cores ?? 1, 8);
}

/**
 * Registers tfjs's wasm backend (its package must be installed) with the training kernels and a
 * factory that runs the threaded-SIMD build with the requested thread count: in Node always, in a
 * browser when the page is cross-origin isolated (else tfjs's single-threaded SIMD build). Call before `tf.setBackend('wasm')`; the thread
 * count is fixed when the backend initialises (`tf.removeBackend('wasm')` and call again to change it).
 */
export async function registerWasmBackend(options: WasmBackendOptions = {}): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  const threads = options.threads ?? (isNode ? (await nodeThreads()).defaultWasmThreads() : defaultThreads());
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`registerWasmBackend: threads must be a positive integer, got ${threads}`);
  }
  if (tf.engine().registry.wasm) return; // Already initialised: its thread count stays.
  wasm.setThreadsCount(threads);
  if (isNode) {
    const { loadThreadedWasmModule, releasePoolWorkers } = await nodeThreads();
    registerFactory(async () => {
      wasm.setThreadsCount(threads);
      const module = await loadThreadedWasmModule();
      const backend = new wasm.BackendWasm(module as never); // starts XNNPACK's pthread pool
      releasePoolWorkers(module);
      return backend;
    });
    return;
  }
  if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
  stockBrowserFactory ??= tf.engine().registryFactory.wasm?.factory;
  const stock = stockBrowserFactory;
  if (!stock) throw new Error("registerWasmBackend: tfjs-backend-wasm's factory is not registered");
  registerFactory(async () => {
    wasm.setThreadsCount(threads);
    const env = tf.env();
    const threaded =
      threads > 1 &&
      (await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) &&
      (await env.getAsync('WASM_HAS_SIMD_SUPPORT'));
    if (!threaded) return stock(); // SIMD (or plain) build, one thread
    const { createThreadedBrowserBackend } = await import('./browser-threads.js');
    return createThreadedBrowserBackend(options.wasmPaths);
  });
}

/** tfjs-backend-wasm's own factory in the browser, kept for pages that cannot run threads. */
let stockBrowserFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;

function registerFactory(factory: () => Promise<tf.KernelBackend>): void {
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2);
}

/** Threads the active wasm backend runs XNNPACK with (1 on the single-threaded builds). */
export async function wasmThreadsCount(): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}
