/**
 * tfjs-backend-wasm's threaded-SIMD build in a browser page, loaded as tfjs's own loader does (the
 * glue as a Blob for the workers, emscripten's worker script from a `blob:` URL) except that the
 * requested thread count decides: tfjs's C side would otherwise cap it at hardwareConcurrency / 2
 * ({@link uncapThreads}). Only for cross-origin isolated pages (SharedArrayBuffer); nothing global is
 * patched.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  addTfjsWrappers,
  type EmscriptenFactory,
  uncapThreads,
  type WasmImports,
} from './threaded-module.js';

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
  const module = await factory({
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
    instantiateWasm: (
      imports: WasmImports,
      receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
    ) => {
      uncapThreads(imports);
      WebAssembly.instantiateStreaming(
        fetch(wasmUrl, { credentials: 'same-origin' }),
        imports as WebAssembly.Imports,
      )
        .then(({ instance, module }) => receive(instance, module))
        .catch((err: unknown) => {
          console.error(`failed to load the wasm binary at '${wasmUrl}':`, err);
        });
      return {};
    },
  });
  return new BackendWasm(addTfjsWrappers(module) as never);
}
