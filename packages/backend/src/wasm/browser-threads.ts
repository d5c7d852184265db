/**
 * tfjs-backend-wasm's threaded-SIMD build in a browser page, loaded as tfjs's own loader does (the
 * glue as a Blob for the workers, emscripten's worker script from a `blob:` URL) except that the
 * requested thread count decides: tfjs's C side would otherwise cap it at hardwareConcurrency / 2
 * (`uncapThreads`). Only for cross-origin isolated pages (SharedArrayBuffer); nothing global is
 * patched.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type EmscriptenFactory, instantiateThreaded } from './threaded-module.js';

/**
 * Instantiates the threaded-SIMD build; its `.wasm` is fetched from `wasmPaths` (a URL prefix ending
 * in '/') when given, else from beside the script, as tfjs's loader does.
 */
export async function createThreadedBrowserBackend(wasmPaths: string | undefined): Promise<BackendWasm> {
  const [{ BackendWasm }, glue, worker] = await Promise.all([
    import('@tensorflow/tfjs-backend-wasm'),
    import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'),
    // @ts-expect-error: the worker script module ships without type declarations.
    import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js'),
  ]);
  const factory = ((glue as { default?: unknown }).default ?? glue) as EmscriptenFactory;
  type WorkerModule = { wasmWorkerContents?: string; default?: { wasmWorkerContents?: string } };
  const workerContents =
    (worker as WorkerModule).wasmWorkerContents ?? (worker as WorkerModule).default?.wasmWorkerContents;
  if (typeof workerContents !== 'string') throw new Error("tfjs-backend-wasm's worker script was not found");
  let wasmUrl = '';
  const module = await instantiateThreaded(
    factory,
    {
      locateFile: (path: string, prefix: string) => {
        if (path.endsWith('.worker.js')) {
          // As tfjs does: the string's `\n` escapes became newlines in the template literal.
          const script = workerContents.replace(/\n/g, '\\n');
          return URL.createObjectURL(new Blob([script], { type: 'application/javascript' }));
        }
        const url = (wasmPaths ?? prefix) + path;
        if (path.endsWith('.wasm')) wasmUrl = url;
        return url;
      },
      mainScriptUrlOrBlob: new Blob([`var WasmBackendModuleThreadedSimd = ${factory.toString()}`], {
        type: 'text/javascript',
      }),
    },
    async () => {
      const response = await fetch(wasmUrl, { credentials: 'same-origin' });
      if (!response.ok)
        throw new Error(`failed to load the wasm binary at '${wasmUrl}': HTTP ${response.status}`);
      return response.arrayBuffer();
    },
  );
  return new BackendWasm(module as never);
}
