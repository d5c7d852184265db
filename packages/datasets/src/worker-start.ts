import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `<name>.js` next to `base` (an `import.meta.url`), or, when running from the
 * TypeScript sources (tests, tsx), `<name>.ts` through tsx: `--import tsx` does not reach worker threads,
 * so the worker registers tsx's ESM hooks itself before importing the entry. tsx is a devDependency.
 */
export function startModuleWorker(base: string, name: string, workerData: unknown): Worker {
  const js = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const require = createRequire(base);
  const tsxPackage = require.resolve('tsx/package.json');
  const api = JSON.parse(readFileSync(tsxPackage, 'utf8')).exports['./esm/api'].import.default as string;
  const apiUrl = pathToFileURL(join(dirname(tsxPackage), api)).href;
  const entry = new URL(`./${name}.ts`, base).href;
  const code = `import(${JSON.stringify(apiUrl)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { console.error(e); process.exit(1); });`;
  return new Worker(code, { eval: true, workerData });
}
