/**
 * What the Node and browser loaders of tfjs-backend-wasm's threaded-SIMD build share: the module
 * shape BackendWasm expects, and the import that lets the requested thread count decide.
 */

/** The emscripten module with the `tfjs` wrappers BackendWasm expects (as tfjs's own loader adds). */
export interface WasmModule {
  tfjs: Record<string, (...args: number[]) => unknown>;
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => unknown;
  [key: string]: unknown;
}

/** The emscripten factory of a wasm-out glue file. */
export type EmscriptenFactory = (config: Record<string, unknown>) => Promise<WasmModule>;

/** The imports emscripten hands `instantiateWasm`. */
export type WasmImports = { env: Record<string, unknown> };

/**
 * Threads the threaded build can run: tfjs's C side caps its pthreadpool at 8 (the number of pthread
 * workers emscripten pre-spawns).
 */
export const MAX_WASM_THREADS = 8;

/**
 * tfjs's C side sizes its thread pool as min(requested, 8, logical cores / 2), assuming two hardware
 * threads per core; on a 2-core machine that is always 1, and on 8 cores at most 4. The build imports
 * the core count from JS (emscripten's `_emscripten_num_logical_cores`), so this instance is told 16
 * and the thread count given to `setThreadsCount` decides. Throws when the import is not found (the
 * pool would silently run one thread on 2 cores).
 */
export function uncapThreads(imports: WasmImports): void {
  const found = Object.entries(imports.env).filter(([, value]) => isLogicalCoresImport(value));
  if (found.length !== 1) {
    throw new Error(
      `tfjs-backend-wasm's threaded build: expected one core-count import (_emscripten_num_logical_cores), found ${found.length}`,
    );
  }
  imports.env[found[0][0]] = () => 2 * MAX_WASM_THREADS;
}

/**
 * Emscripten's `_emscripten_num_logical_cores`, by name in the published glue; a minifying bundler
 * (Vite's production build) renames the function, so it is also known by its body, the glue's only
 * function that reads `hardwareConcurrency`.
 */
function isLogicalCoresImport(value: unknown): boolean {
  if (typeof value !== 'function') return false;
  return (
    value.name === '_emscripten_num_logical_cores' ||
    /\bhardwareConcurrency\b/.test(Function.prototype.toString.call(value))
  );
}

/** Adds the C entry points BackendWasm calls through `module.tfjs` (as tfjs's loader does). */
export function addTfjsWrappers(module: WasmModule): WasmModule {
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

/**
 * Runs the threaded build's emscripten `factory` with `config`, instantiating its wasm from the bytes
 * `binary()` resolves to, with {@link uncapThreads}; resolves to the module with its `tfjs` wrappers
 * once the pthread workers have loaded. Rejects when the bytes cannot be had or instantiated
 * (emscripten's own promise would then never settle).
 */
export async function instantiateThreaded(
  factory: EmscriptenFactory,
  config: Record<string, unknown>,
  binary: () => Promise<BufferSource>,
): Promise<WasmModule> {
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const module = await Promise.race([
    factory({
      ...config,
      instantiateWasm: (
        imports: WasmImports,
        receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
      ) => {
        uncapThreads(imports);
        binary()
          .then((bytes) => WebAssembly.instantiate(bytes, imports as WebAssembly.Imports))
          .then(({ instance, module }) => receive(instance, module), fail);
        return {};
      },
    }),
    failed,
  ]);
  return addTfjsWrappers(module);
}
