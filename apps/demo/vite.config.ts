import { defaultClientConditions, defineConfig } from 'vite';

// Cross-origin isolation, so tfjs-backend-wasm may use threads (SharedArrayBuffer), in dev and preview.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
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
