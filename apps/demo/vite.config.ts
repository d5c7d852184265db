import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

// Cross-origin isolation, so tfjs-backend-wasm may use threads (SharedArrayBuffer), in dev and preview.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * tfjs-backend-wasm's binaries under `wasm/` with their own names: the threaded build locates its
 * `.wasm` by a URL prefix (`selectBackend`'s `wasmPaths`), so hashed asset names would not do.
 */
function wasmBinaries(): Plugin {
  const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const names = [
    'tfjs-backend-wasm.wasm',
    'tfjs-backend-wasm-simd.wasm',
    'tfjs-backend-wasm-threaded-simd.wasm',
  ];
  const read = (name: string) => readFileSync(join(dist, name));
  return {
    name: 'cvm-demo-wasm-binaries',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0].replace(/^\/wasm\//, '');
        if (!name || !req.url?.startsWith('/wasm/') || !names.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(read(name));
      });
    },
    generateBundle() {
      for (const name of names)
        this.emitFile({ type: 'asset', fileName: `wasm/${name}`, source: read(name) });
    },
  };
}

export default defineConfig({
  plugins: [wasmBinaries()],
  // Workspace packages straight from their TypeScript sources (no package build needed).
  resolve: { conditions: ['cvm-source', ...defaultClientConditions] },
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  // Pre-bundled up front, so the dev server does not reload the page when it discovers them (the wasm
  // backend's CommonJS emscripten loaders need the pre-bundling in dev).
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  },
});
