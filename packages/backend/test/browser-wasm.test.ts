/**
 * Threaded wasm in a browser: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core,
 * nothing downloaded) loads a page bundling @cvm/backend from a local server. With COOP/COEP headers the
 * page is cross-origin isolated and must get the threaded SIMD build with 2 threads; without them it
 * must fall back to one thread and say why. Both must compute what Node's wasm backend computes.
 * Under CI=true a missing Chromium fails the test; elsewhere the tests are skipped with a warning.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmBackend, wasmThreadsCount } from '../src/index.js';
import { smallCase } from './browser/small-case.js';

const CHROMIUM = process.env.CVM_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `Chromium not found at ${CHROMIUM} (set CVM_CHROMIUM)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${message}; CI requires it`);
  console.warn(`${message}: skipping the browser tests`);
}

interface PageResult {
  crossOriginIsolated: boolean;
  backend: string;
  why: string;
  threads: number;
  multithreadSupport: boolean;
  conv: number[];
  matMul: number[];
  error?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const wasmDir = dirname(
  createRequire(import.meta.url).resolve(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm',
  ),
);

/** The page's scripts, bundled in memory: entry and chunks by URL path. */
async function bundle(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: { page: join(here, 'browser/page.ts') },
    bundle: true,
    write: false,
    format: 'esm',
    // Node-only modules (the threaded loader for Node, Dawn) stay in chunks the page never loads.
    splitting: true,
    // Minified as a production build (Vite's) is: the threaded loader must not depend on function names.
    minify: true,
    platform: 'browser',
    external: ['node:*'],
    conditions: ['cvm-source'],
    outdir: '/out',
    logLevel: 'error',
  });
  return new Map(result.outputFiles.map((f) => [f.path.replace(/^\/out/, ''), f.contents]));
}

const HTML = '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>';

/** Serves the page under /isolated/ (with COOP/COEP) and /plain/ (without), and the wasm binaries. */
function serve(files: Map<string, Uint8Array>): Server {
  return createServer((req, res) => {
    const [, scope, ...rest] = (req.url ?? '/').split('?')[0]!.split('/');
    const path = `/${rest.join('/')}`;
    if (scope === 'isolated') {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (scope === 'wasm' && /^\/[\w-]+\.wasm$/.test(path)) {
      res.writeHead(200, { 'Content-Type': 'application/wasm' });
      res.end(readFileSync(join(wasmDir, path)));
    } else if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(HTML);
    } else if (files.has(path)) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(files.get(path));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
}

describe.skipIf(!available)('threaded wasm in headless Chromium', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  let node: { conv: number[]; matMul: number[] };

  beforeAll(async () => {
    const files = await bundle();
    server = serve(files);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
    await registerWasmBackend({ threads: 2 });
    await tf.setBackend('wasm');
    expect(await wasmThreadsCount()).toBe(2);
    node = await smallCase();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    tf.removeBackend('wasm'); // ends the pthread workers
  });

  async function open(scope: 'isolated' | 'plain', query = ''): Promise<PageResult> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    try {
      await page.goto(`${origin}/${scope}/${query}`);
      await page.waitForFunction(() => 'result' in globalThis, undefined, { timeout: 30_000 });
      const result = (await page.evaluate(() => (globalThis as { result?: unknown }).result)) as PageResult;
      expect(errors).toEqual([]);
      if (!query) expect(result.error).toBeUndefined();
      return result;
    } finally {
      await page.close();
    }
  }

  it('runs the threaded SIMD build with 2 threads on a cross-origin isolated page', async () => {
    const r = await open('isolated');
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.multithreadSupport).toBe(true);
    expect(r.backend).toBe('wasm');
    expect(r.threads).toBe(2);
    expect(r.why).toMatch(/^wasm: tfjs-backend-wasm \(XNNPACK, SIMD, 2 thread\(s\)\)/);
    expect(r.conv).toEqual(node.conv);
    expect(r.matMul).toEqual(node.matMul);
  });

  it('falls back to one thread without COOP/COEP, and says why', async () => {
    const r = await open('plain');
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.multithreadSupport).toBe(false);
    expect(r.backend).toBe('wasm');
    expect(r.threads).toBe(1);
    expect(r.why).toMatch(/1 thread\(s\).*not cross-origin isolated/);
    expect(r.conv).toEqual(node.conv);
    expect(r.matMul).toEqual(node.matMul);
  });

  it('fails with the reason, instead of hanging, when the wasm binary is not found', async () => {
    const r = await open('isolated', '?wasm=/missing/');
    expect(r.error).toMatch(
      /wasm: initialisation failed: failed to load the wasm binary at '\/missing\/tfjs-backend-wasm-threaded-simd\.wasm': HTTP 404/,
    );
  });
});
