/**
 * The demo end to end, in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser is downloaded) against the BUILT app served by `vite preview` with its COOP/COEP headers:
 * the page loads and reports WebGPU (SwiftShader here), renders a scene, and its predictions equal the
 * same model's in Node (cpu backend); switching the CvM off changes the depth; a dropped PNG gets
 * predictions; GPU memory does not grow; without WebGPU the page falls back to wasm. It writes
 * `docs/screenshot.png`. Without chromium the test is skipped with a message, and fails under CI=true.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  encodePng,
  formatColmapCameras,
  formatColmapImages,
  SyntheticWorld,
  viewToColmap,
} from '@cvm/datasets';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFrame } from '../src/frame.js';
import { type CheckpointConfig, loadModel } from '../src/model.js';
import type { FrameMessage } from '../src/protocol.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  if (process.env.CI === 'true')
    throw new Error(`demo e2e: no chromium at ${CHROMIUM} (CI=true: install Debian's chromium)`);
  console.warn(
    `demo e2e: SKIPPED, no chromium at ${CHROMIUM} (set CHROMIUM_PATH, or install Debian's chromium)`,
  );
}

// Flags that give WebGPU on SwiftShader in headless Chromium here (no GPU): --enable-unsafe-webgpu
// alone; Chromium picks its bundled SwiftShader Vulkan adapter. The sandbox needs user namespaces.
const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'];
const WEBGPU_ARGS = [...BASE_ARGS, '--enable-unsafe-webgpu'];
const SCENE = 3;

/** Newest modification time under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    t = Math.max(t, name.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The page's last frame once it has `count` frames (or an error). */
async function frameNumber(page: Page, count: number): Promise<FrameMessage> {
  await page.waitForFunction(
    (n) => {
      const d = (window as unknown as { cvmDemo: { frames: number; error: string | null } }).cvmDemo;
      return d && (d.frames >= n || d.error !== null);
    },
    count,
    { timeout: 240_000, polling: 250 },
  );
  const { last, error } = await page.evaluate(() => {
    const d = (window as unknown as { cvmDemo: { last: unknown; error: string | null } }).cvmDemo;
    return { last: d.last, error: d.error };
  });
  if (error) throw new Error(`the page reported: ${error}`);
  return deserialize(last) as FrameMessage;
}

/** Typed arrays come back from `page.evaluate` as index-keyed objects; back to numbers. */
function deserialize(x: unknown): unknown {
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map(deserialize);
  const o = x as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length > 0 && keys.every((k, i) => k === String(i)))
    return Float64Array.from(keys.map((k) => o[k] as number));
  return Object.fromEntries(keys.map((k) => [k, deserialize(o[k])]));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(!HAVE_CHROMIUM)('demo in headless Chromium', () => {
  let server: PreviewServer;
  let url: string;
  let browser: Browser;
  let config: CheckpointConfig;
  const figures: Record<string, number | string> = {};
  let webgpuDepth: ArrayLike<number> | null = null;

  beforeAll(async () => {
    // Build unless dist/ is newer than every source of the app and the packages (turbo's `build` ran just before).
    const built = join(ROOT, 'dist', 'index.html');
    const packages = join(ROOT, '..', '..', 'packages');
    const sources = Math.max(
      newest(join(ROOT, 'src')),
      newest(join(ROOT, 'public')),
      statSync(join(ROOT, 'index.html')).mtimeMs,
      ...readdirSync(packages)
        .filter((p) => existsSync(join(packages, p, 'src')))
        .map((p) => newest(join(packages, p, 'src'))),
    );
    if (!existsSync(built) || statSync(built).mtimeMs < sources)
      await build({ root: ROOT, logLevel: 'warn' });
    server = await preview({
      root: ROOT,
      logLevel: 'warn',
      preview: { port: 4190, strictPort: false, host: '127.0.0.1' },
    });
    url = server.resolvedUrls?.local[0] ?? '';
    expect(url).toMatch(/^http/);
    config = JSON.parse(await readFile(join(ROOT, 'public', 'model', 'config.json'), 'utf8'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
    console.log('demo figures:', JSON.stringify(figures));
  });

  it('WebGPU: the page reports it, renders a scene, and predicts what the model predicts in Node', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // A link sets the controls: the fixed scene of the comparison.
    await page.goto(`${url}?scene=${SCENE}`);
    const full = await frameNumber(page, 1);
    const ready = await page.evaluate(
      () => (window as unknown as { cvmDemo: { ready: { backend: string; why: string } } }).cvmDemo.ready,
    );
    expect(ready.backend).toBe('webgpu');
    expect(await page.locator('#backend').getAttribute('data-backend')).toBe('webgpu');
    expect(await page.locator('#backend').textContent()).toMatch(/webgpu/i);
    figures.webgpu = ready.why;
    figures.webgpuForwardMs = Math.round(full.forwardMs);
    expect(full.cvmMode).toBe('full');
    expect(full.mode).toBe('scene');
    expect(full.rgb.length).toBe(config.views);
    const [H, W] = config.size;
    expect(await page.locator('#tasks canvas').count()).toBeGreaterThanOrEqual(2 * 4);

    // The same model, the same scene, in Node on the cpu backend.
    await tf.setBackend('cpu');
    const model = loadModel(config, await readFile(join(ROOT, 'public', 'model', 'model.safetensors')));
    const world = new SyntheticWorld({
      seed: config.worldSeed,
      height: H,
      width: W,
      views: config.views,
      trainScenes: 0,
      valScenes: 100_000,
    });
    const ref = await runFrame(model, world.sample('val', SCENE));
    model.dispose();
    const depthDiff = maxAbsDiff(full.predictions.depth!, ref.predictions.depth!);
    const normalsDiff = maxAbsDiff(full.predictions.normals!, ref.predictions.normals!);
    const edgeDiff = maxAbsDiff(full.predictions.edge!, ref.predictions.edge!);
    const seg = full.predictions.semseg!;
    let same = 0;
    for (let i = 0; i < seg.length; i++) if (seg[i] === ref.predictions.semseg![i]) same++;
    Object.assign(figures, { depthDiff, normalsDiff, edgeDiff, semsegAgreement: same / seg.length });
    // float32 everywhere; WebGPU's kernels sum in other orders than the cpu backend's (and SwiftShader
    // may fuse multiply-adds), so outputs differ by float32 rounding grown through the network (the
    // cvm_norm BatchNorms divide raw CvM channels by standard deviations up to 1.3e4): measured
    // 2.0e-4 m (depth), 4.1e-5 (normals), 1.7e-5 (edge probability) with the shipped model. The bounds
    // leave room for other GPUs' rounding while catching real differences (a wrong weight, view or
    // camera moves them by >1e-2; CvM off moves depth by >1 m).
    expect(depthDiff).toBeLessThan(1e-3); // metres, on depths of 1–8 m
    expect(normalsDiff).toBeLessThan(1e-3); // unit-vector components
    expect(edgeDiff).toBeLessThan(1e-3); // probabilities
    expect(same / seg.length).toBeGreaterThan(0.995); // argmax flips only at near-ties
    // The frame's metrics: the same up to that rounding, except odsF, which thresholds the boundary
    // probabilities at 99 levels, so a pixel within 1e-5 of a threshold may cross it (measured 0.07).
    const scores = ref.scores ?? {};
    for (const t of Object.keys(scores) as (keyof typeof scores)[]) {
      const diff = Math.abs((full.scores?.[t] as number) - (scores[t] as number));
      figures[`${t}ScoreDiff`] = diff;
      expect(diff).toBeLessThan(t === 'edge' ? 0.5 : 0.01);
    }
    webgpuDepth = full.predictions.depth!;

    // The depth-plane view at a clicked pixel, and the screenshot of this frame.
    await page
      .locator('#inputs canvas')
      .first()
      .click({ position: { x: 96, y: 64 } });
    await expect.poll(() => page.locator('#dp-pixel').textContent()).toMatch(/best plane/);
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(join(ROOT, 'docs', 'screenshot.png'), await page.screenshot({ fullPage: true }));

    // Another scene: GPU memory does not grow from frame to frame (the buffer pool reuses the first
    // frame's buffers; the warm-up forward already ran before the first frame).
    await page.fill('#scene', String(SCENE + 1));
    const next = await frameNumber(page, 2);
    expect(next.numTensors).toBe(full.numTensors);
    expect(full.gpuBytes).not.toBeNull();
    figures.webgpuBuffersMiB = (next.gpuBytes?.allocated ?? 0) / 2 ** 20;
    expect(next.gpuBytes?.used).toBe(full.gpuBytes?.used);
    expect(next.gpuBytes?.allocated).toBe(full.gpuBytes?.allocated);
    expect(errors).toEqual([]);
    await page.close();
  });

  // SwiftShader runs each WebGPU kernel in ~0.1 s here (a forward takes seconds), so the interactions
  // are checked on the wasm fallback, which runs the same worker code.
  it('without WebGPU: wasm, the same predictions; CvM off changes depth; a dropped PNG; two PNGs + COLMAP; no memory growth', async () => {
    const noGpu = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS, headless: true });
    try {
      const page = await noGpu.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}?scene=${SCENE}&cvm=off`);
      const off = await frameNumber(page, 1);
      const ready = await page.evaluate(
        () => (window as unknown as { cvmDemo: { ready: { backend: string; why: string } } }).cvmDemo.ready,
      );
      expect(ready.backend).toBe('wasm');
      expect(ready.why).toMatch(/webgpu: /); // says why WebGPU was passed over
      expect(await page.locator('#backend').getAttribute('data-backend')).toBe('wasm');
      figures.wasm = ready.why;
      // The page is cross-origin isolated (COOP/COEP from vite preview), so the worker runs the threaded
      // SIMD build with a thread per core (at most 8), not tfjs's default of half the cores.
      const cores = await page.evaluate(() => ({
        isolated: crossOriginIsolated,
        threads: Math.min(navigator.hardwareConcurrency, 8),
      }));
      expect(cores.isolated).toBe(true);
      expect(ready.why).toContain(`SIMD, ${cores.threads} thread(s)`);
      expect(off.cvmMode).toBe('off');
      await page.selectOption('#cvm-mode', 'full');
      const full = await frameNumber(page, 2);
      figures.wasmForwardMs = Math.round(full.forwardMs);
      expect(full.cvmMode).toBe('full');
      if (webgpuDepth) expect(maxAbsDiff(full.predictions.depth!, webgpuDepth)).toBeLessThan(1e-3);
      // Switching the CvM off (the inference-time ablation) changes the depth.
      figures.depthChangeCvmOff = maxAbsDiff(off.predictions.depth!, full.predictions.depth!);
      expect(figures.depthChangeCvmOff).toBeGreaterThan(1e-2);
      expect(full.numTensors).toBe(off.numTensors); // nothing leaks from frame to frame

      // A dropped PNG (a real file, another size than the model's) runs in the single-view mode.
      const [H, W] = config.size;
      const other = new SyntheticWorld({
        seed: 7,
        height: 90,
        width: 120,
        views: 1,
        trainScenes: 1,
        valScenes: 0,
      });
      const rgb = other.sample('train', 0).views[0].rgb;
      const png = encodePng(
        Uint8Array.from(rgb, (v) => Math.round(255 * v)),
        90,
        120,
        3,
      );
      await page.evaluate((bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'my-room.png', { type: 'image/png' }));
        document
          .getElementById('drop')
          ?.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, Array.from(png));
      const dropped = await frameNumber(page, 3);
      expect(dropped.mode).toBe('single-view');
      expect(dropped.labels).toBeNull();
      expect(dropped.rgb.length).toBe(1);
      for (const t of ['semseg', 'depth', 'normals', 'edge'] as const) {
        const p = dropped.predictions[t]!;
        expect(p.length).toBe(H * W * (t === 'normals' ? 3 : 1));
        expect(Array.from(p).every(Number.isFinite)).toBe(true);
      }
      expect(maxAbsDiff(dropped.rgb[0], full.rgb[0])).toBeGreaterThan(0.1);
      expect(dropped.numTensors).toBe(full.numTensors);

      // Two PNGs (at twice the model's size) with their COLMAP text model: the multi-view mode.
      const big = new SyntheticWorld({
        seed: 7,
        height: 2 * H,
        width: 2 * W,
        views: 2,
        trainScenes: 1,
        valScenes: 0,
      });
      const views = big.sample('train', 0).views;
      const files = views.map((v, i) => {
        const c = viewToColmap(v.intrinsics, v.cameraToWorld);
        return {
          name: `frame-${i}.png`,
          png: Array.from(
            encodePng(
              Uint8Array.from(v.rgb, (x) => Math.round(255 * x)),
              2 * H,
              2 * W,
              3,
            ),
          ),
          camera: { id: i + 1, model: 'PINHOLE' as const, width: 2 * W, height: 2 * H, params: c.pinhole },
          image: { id: i + 1, qvec: c.qvec, tvec: c.tvec, cameraId: i + 1, name: `frame-${i}.png` },
        };
      });
      const texts = {
        cameras: formatColmapCameras(files.map((f) => f.camera)),
        images: formatColmapImages(files.map((f) => f.image)),
      };
      await page.evaluate(
        ({ files, texts }) => {
          const dt = new DataTransfer();
          for (const f of files)
            dt.items.add(new File([new Uint8Array(f.png)], f.name, { type: 'image/png' }));
          dt.items.add(new File([texts.cameras], 'cameras.txt', { type: 'text/plain' }));
          dt.items.add(new File([texts.images], 'images.txt', { type: 'text/plain' }));
          document
            .getElementById('drop')
            ?.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        { files: files.map(({ name, png }) => ({ name, png })), texts },
      );
      const multi = await frameNumber(page, 4);
      expect(multi.mode).toBe('multi-view');
      expect(multi.rgb.length).toBe(2);
      expect(multi.costVolume).not.toBeNull();
      expect(Array.from(multi.predictions.depth!).every(Number.isFinite)).toBe(true);
      expect(multi.numTensors).toBe(full.numTensors);
      expect(errors).toEqual([]);
    } finally {
      await noGpu.close();
    }
  });
});
