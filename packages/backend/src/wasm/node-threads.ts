/**
 * tfjs-backend-wasm's threaded-SIMD build in Node.
 *
 * tfjs 4.22 turns threads off whenever it runs in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false under
 * `IS_NODE`), and its loader could not start them anyway: emscripten's pthread worker is created from
 * a `blob:` URL, which worker_threads reject (ERR_WORKER_PATH). Here the emscripten glue shipped in
 * the package (`wasm-out/tfjs-backend-wasm-threaded-simd.js`) is loaded as the CommonJS module it is,
 * with its pthread worker started from a real file (`worker/wasm-pthread-worker.cjs`). No global of
 * the main thread is patched beyond what emscripten itself sets (`global.Worker`).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The emscripten module with the `tfjs` wrappers BackendWasm expects (as tfjs's own loader adds). */
export interface WasmModule {
  tfjs: Record<string, (...args: number[]) => unknown>;
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => unknown;
  [key: string]: unknown;
}

type EmscriptenFactory = (config: Record<string, unknown>) => Promise<WasmModule>;

const WORKER_FILE = fileURLToPath(new URL('../../worker/wasm-pthread-worker.cjs', import.meta.url));

/**
 * Threads the threaded build can run: tfjs's C side caps its pthreadpool at 8 (the number of pthread
 * workers emscripten pre-spawns).
 */
export const MAX_WASM_THREADS = 8;

/** The default thread count: every core Node reports, capped at {@link MAX_WASM_THREADS}. */
export function defaultWasmThreads(): number {
  return Math.min(availableParallelism(), MAX_WASM_THREADS);
}

/** Instantiates the threaded-SIMD build with a real-file pthread worker; resolves once its workers load. */
export async function loadThreadedWasmModule(): Promise<WasmModule> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
  );
  const factory = require(gluePath) as EmscriptenFactory;
  const binary = await readFile(gluePath.replace(/\.js$/, '.wasm'));
  // Pool workers are unref'd only once loaded; until then nothing else may keep Node's loop alive.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let module: WasmModule;
  let failure: unknown;
  try {
    module = await factory({
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.worker.js') ? WORKER_FILE : prefix + path,
      // The worker reads the glue's path from here (emscripten's default is the glue's __filename).
      mainScriptUrlOrBlob: gluePath,
      instantiateWasm: (
        imports: WasmImports,
        receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
      ) => {
        uncapThreads(imports);
        WebAssembly.instantiate(binary, imports as WebAssembly.Imports).then(
          ({ instance, module }) => receive(instance, module),
          (err: unknown) => {
            failure = err;
          },
        );
        return {};
      },
    });
  } finally {
    clearInterval(keepAlive);
  }
  if (failure !== undefined) throw failure;
  const { cwrap } = module;
  module.tfjs = {
    init: cwrap('init', null, []),
    initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: cwrap('get_threads_count', 'number', []),
    registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: cwrap('dispose_data', null, ['number']),
    dispose: cwrap('dispose', null, []),
  };
  return module;
}

type WasmImports = { env: Record<string, unknown> };

/**
 * tfjs's C side sizes its thread pool as min(requested, 8, logical cores / 2), assuming two hardware
 * threads per core; on a 2-core machine that is always 1. The build imports the core count from JS
 * (emscripten's `_emscripten_num_logical_cores`), so this instance is told 16 and the thread count
 * given to `setThreadsCount` decides.
 */
function uncapThreads(imports: WasmImports): void {
  for (const [key, value] of Object.entries(imports.env)) {
    if (typeof value === 'function' && value.name === '_emscripten_num_logical_cores') {
      imports.env[key] = () => 2 * MAX_WASM_THREADS;
    }
  }
}
