/**
 * The page: controls, drawing, and the hand-off to the model worker. Nothing here touches tfjs.
 */
import { colmapViewCamera, colorizeTask, depthColor, parseColmapText } from '@cvm/datasets';
import type { TaskName } from '@cvm/mtl-heads';
import type { CvmModeChoice, FrameMessage, ModelInfo, Reply, Request, UserView } from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const TASK_TITLES: Record<TaskName, string> = {
  semseg: 'segmentation (NYUD-40)',
  depth: 'depth',
  normals: 'surface normals',
  edge: 'boundaries',
  human_parts: 'human parts',
  sal: 'saliency',
};
const SCORE_NAMES: Record<TaskName, string> = {
  semseg: 'mIoU % ↑',
  depth: 'RMSE m ↓',
  normals: 'mErr ° ↓',
  edge: 'odsF % ↑',
  human_parts: 'mIoU % ↑',
  sal: 'maxF % ↑',
};

/** What the end-to-end test reads. */
interface DemoState {
  ready: (ModelInfo & { backend: string; why: string }) | null;
  frames: number;
  last: FrameMessage | null;
  error: string | null;
}
const state: DemoState = { ready: null, frames: 0, last: null, error: null };
(window as unknown as { cvmDemo: DemoState }).cvmDemo = state;

const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (r: Request) => worker.postMessage(r);
let nextId = 1;
let pending = false;
let dirty = false;
let userViews: UserView[] | null = null;

function controls(): { scene: number; views: number; baselineScale: number; cvmMode: CvmModeChoice } {
  return {
    scene: Math.max(0, Math.floor(Number(($('scene') as HTMLInputElement).value) || 0)),
    views: Number(($('views') as HTMLSelectElement).value),
    baselineScale: Number(($('baseline') as HTMLInputElement).value),
    cvmMode: ($('cvm-mode') as HTMLSelectElement).value as CvmModeChoice,
  };
}

/** Asks for a frame; while one is computing, only the latest request is kept. */
function request(): void {
  if (!state.ready) return;
  if (pending) {
    dirty = true;
    return;
  }
  pending = true;
  dirty = false;
  const c = controls();
  $('status').textContent = 'computing…';
  if (userViews) send({ type: 'images', id: nextId++, views: userViews, cvmMode: c.cvmMode });
  else send({ type: 'scene', id: nextId++, ...c });
}

function canvasOf(rgb: Uint8Array, height: number, width: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    img.data[4 * i] = rgb[3 * i];
    img.data[4 * i + 1] = rgb[3 * i + 1];
    img.data[4 * i + 2] = rgb[3 * i + 2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function tile(title: string, canvas: HTMLCanvasElement, frame: FrameMessage): HTMLElement {
  const el = document.createElement('div');
  el.className = 'tile';
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * frame.width);
    const y = Math.floor(((e.clientY - r.top) / r.height) * frame.height);
    clicked = { x, y };
    drawDepthPlanes(frame);
  });
  el.append(canvas, Object.assign(document.createElement('span'), { textContent: title }));
  return el;
}

function depthScale(depthMax: number): HTMLElement {
  const el = document.createElement('div');
  el.className = 'scale';
  const bar = document.createElement('canvas');
  bar.width = 120;
  bar.height = 1;
  const ctx = bar.getContext('2d') as CanvasRenderingContext2D;
  for (let x = 0; x < 120; x++) {
    const [r, g, b] = depthColor(1 - x / 119);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, 0, 1, 1);
  }
  el.append('0 m', bar, `${depthMax.toFixed(1)} m`);
  return el;
}

let clicked: { x: number; y: number } | null = null;

function drawDepthPlanes(frame: FrameMessage): void {
  const canvas = $('dp-plot') as HTMLCanvasElement;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const cv = frame.costVolume;
  const inv = state.ready?.inverseDepths ?? [];
  if (!cv || !clicked || inv.length !== cv.candidates) {
    $('dp-pixel').textContent = cv ? 'click a map to choose a pixel' : 'this model / mode has no cost volume';
    return;
  }
  const cx = Math.min(cv.width - 1, Math.round(clicked.x / 8));
  const cy = Math.min(cv.height - 1, Math.round(clicked.y / 8));
  const L = cv.candidates;
  const scores = Array.from(cv.data.subarray((cy * cv.width + cx) * L, (cy * cv.width + cx + 1) * L));
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  const W = canvas.width;
  const H = canvas.height;
  const pad = 24;
  const px = (l: number) => pad + (l / (L - 1)) * (W - 2 * pad);
  const py = (s: number) => H - pad - ((s - lo) / (hi - lo || 1)) * (H - 2 * pad);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad, pad, W - 2 * pad, H - 2 * pad);
  ctx.strokeStyle = '#06c';
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (const [l, s] of scores.entries()) {
    if (l === 0) ctx.moveTo(px(l), py(s));
    else ctx.lineTo(px(l), py(s));
  }
  ctx.stroke();
  ctx.fillStyle = '#333';
  ctx.font = '10px sans-serif';
  for (const l of [0, Math.floor((L - 1) / 2), L - 1])
    ctx.fillText(`${(1 / inv[l]).toFixed(2)} m`, px(l) - 14, H - 8);
  const best = scores.indexOf(hi);
  const gt = frame.labels?.depth?.[clicked.y * frame.width + clicked.x];
  const pred = frame.predictions.depth?.[clicked.y * frame.width + clicked.x];
  if (gt && gt > 0) {
    // The candidate nearest the true depth in inverse depth (the candidates are uniform in 1/d).
    const l = inv.reduce((b, v, i) => (Math.abs(v - 1 / gt) < Math.abs(inv[b] - 1 / gt) ? i : b), 0);
    ctx.strokeStyle = '#c30';
    ctx.beginPath();
    ctx.moveTo(px(l), pad);
    ctx.lineTo(px(l), H - pad);
    ctx.stroke();
  }
  $('dp-pixel').textContent =
    `pixel (${clicked.x}, ${clicked.y}): best plane ${(1 / inv[best]).toFixed(2)} m` +
    (pred !== undefined ? `, predicted depth ${pred.toFixed(2)} m` : '') +
    (gt ? `, true depth ${gt.toFixed(2)} m (red line)` : '');
}

function toBytes(rgb: Float32Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = Math.round(255 * Math.min(Math.max(rgb[i], 0), 1));
  return out;
}

function show(frame: FrameMessage): void {
  const { height: H, width: W } = frame;
  const pixels = H * W;
  const inputs = $('inputs');
  inputs.replaceChildren(
    ...frame.rgb.map((v, i) =>
      tile(i === 0 ? 'reference view' : `neighbour ${i}`, canvasOf(toBytes(v), H, W), frame),
    ),
  );
  let depthMax = 1;
  const depthSource = frame.labels?.depth ?? frame.predictions.depth;
  if (depthSource) for (const d of depthSource) if (d > depthMax && d !== 255) depthMax = d;
  const tasks = $('tasks');
  tasks.replaceChildren(
    ...(state.ready?.tasks ?? []).map((t) => {
      const box = document.createElement('div');
      box.className = 'task';
      box.dataset.task = t;
      box.append(Object.assign(document.createElement('h3'), { textContent: TASK_TITLES[t] }));
      const pred = frame.predictions[t];
      if (pred)
        box.append(tile('prediction', canvasOf(colorizeTask(t, pred, pixels, { depthMax }), H, W), frame));
      const gt = frame.labels?.[t];
      if (gt)
        box.append(tile('ground truth', canvasOf(colorizeTask(t, gt, pixels, { depthMax }), H, W), frame));
      if (t === 'depth') box.append(depthScale(depthMax));
      return box;
    }),
  );
  const rows = (state.ready?.tasks ?? [])
    .map((t) => {
      const s = frame.scores?.[t];
      return `<tr><th>${TASK_TITLES[t]}</th><td>${SCORE_NAMES[t]}</td><td data-score="${t}">${s === undefined ? '–' : s.toFixed(t === 'depth' ? 3 : 1)}</td></tr>`;
    })
    .join('');
  $('metrics').innerHTML =
    `<table><caption>this frame${frame.scores ? '' : ' (no ground truth)'}</caption>${rows}</table>` +
    `<p>forward <b id="forward-ms">${frame.forwardMs.toFixed(0)} ms</b> on ${state.ready?.backend} · scene render ${frame.renderMs.toFixed(0)} ms · live tensors <span id="num-tensors">${frame.numTensors}</span>${frame.gpuBytes ? ` · GPU buffers ${(frame.gpuBytes.allocated / 2 ** 20).toFixed(1)} MiB` : ''}</p>`;
  drawDepthPlanes(frame);
}

worker.onmessage = (event: MessageEvent<Reply>) => {
  const reply = event.data;
  if (reply.type === 'error') {
    state.error = reply.message;
    pending = false;
    $('status').textContent = `error: ${reply.message}`;
    return;
  }
  if (reply.type === 'ready') {
    state.ready = { ...reply.model, backend: reply.backend, why: reply.why };
    const backendEl = $('backend');
    backendEl.dataset.backend = reply.backend;
    backendEl.textContent = `backend: ${reply.why}`;
    $('status').textContent =
      `model loaded in ${(reply.loadMs / 1000).toFixed(1)} s: ${reply.model.parameters.toLocaleString()} parameters, ${reply.model.tasks.join(', ')}, CvM ${reply.model.cvm}, ${reply.model.height}×${reply.model.width}`;
    request();
    return;
  }
  pending = false;
  state.frames++;
  state.last = reply;
  show(reply);
  $('status').textContent = `frame ${state.frames}: ${reply.mode}, CvM ${reply.cvmMode}`;
  if (dirty) request();
};
worker.onerror = (e) => {
  state.error = e.message;
  $('status').textContent = `worker error: ${e.message}`;
};

for (const id of ['scene', 'baseline', 'views', 'cvm-mode'])
  $(id).addEventListener('input', () => {
    ($('baseline-value') as HTMLOutputElement).textContent = Number(
      ($('baseline') as HTMLInputElement).value,
    ).toFixed(2);
    if (id !== 'cvm-mode') leaveUserImages();
    request();
  });

function leaveUserImages(): void {
  userViews = null;
  $('back-to-scene').hidden = true;
}
$('back-to-scene').addEventListener('click', () => {
  leaveUserImages();
  request();
});

async function decodeImage(file: File): Promise<UserView> {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const rgb = new Uint8Array(bitmap.width * bitmap.height * 3);
  for (let i = 0; i < bitmap.width * bitmap.height; i++) rgb.set(data.subarray(4 * i, 4 * i + 3), 3 * i);
  return { width: bitmap.width, height: bitmap.height, rgb };
}

/** Images, and when `cameras.txt` + `images.txt` come with them, their COLMAP cameras (by file name). */
async function useFiles(files: File[]): Promise<void> {
  const images = files.filter((f) => /\.(png|jpe?g)$/i.test(f.name));
  const camerasFile = files.find((f) => f.name === 'cameras.txt');
  const imagesFile = files.find((f) => f.name === 'images.txt');
  if (images.length === 0) {
    $('status').textContent = 'no PNG or JPEG image among the files';
    return;
  }
  try {
    const views = await Promise.all(images.map(decodeImage));
    if (camerasFile && imagesFile && images.length >= 2) {
      const model = parseColmapText(await camerasFile.text(), await imagesFile.text());
      images.forEach((f, i) => {
        const camera = colmapViewCamera(model, f.name, 'images.txt');
        const K = camera.intrinsics;
        // Intrinsics at the image's own size (COLMAP's camera may describe another resolution);
        // pixel centres at integers, so x' = (x + 0.5)·s − 0.5.
        const sx = views[i].width / camera.width;
        const sy = views[i].height / camera.height;
        views[i].intrinsics = Float64Array.of(
          K[0] * sx,
          0,
          (K[2] + 0.5) * sx - 0.5,
          0,
          K[4] * sy,
          (K[5] + 0.5) * sy - 0.5,
          0,
          0,
          1,
        );
        views[i].cameraToWorld = camera.cameraToWorld;
      });
      userViews = views.slice(0, 3);
    } else {
      if (images.length > 1)
        $('status').textContent = 'several images without COLMAP cameras: the first alone (single view)';
      userViews = [views[0]];
    }
    $('back-to-scene').hidden = false;
    request();
  } catch (e) {
    $('status').textContent = `could not use these files: ${(e as Error).message}`;
  }
}

const drop = $('drop');
$('files').addEventListener('change', (e) => useFiles([...((e.target as HTMLInputElement).files ?? [])]));
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  useFiles([...(e.dataTransfer?.files ?? [])]);
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  if (!drop.contains(e.target as Node)) {
    e.preventDefault();
    useFiles([...(e.dataTransfer?.files ?? [])]);
  }
});

// A link may set the controls: ?scene=3&views=2&baseline=1.5&cvm=off (and ?backend=wasm).
for (const [param, id] of [
  ['scene', 'scene'],
  ['views', 'views'],
  ['baseline', 'baseline'],
  ['cvm', 'cvm-mode'],
] as const) {
  const value = params.get(param);
  if (value !== null) ($(id) as HTMLInputElement | HTMLSelectElement).value = value;
}
($('baseline-value') as HTMLOutputElement).textContent = Number(
  ($('baseline') as HTMLInputElement).value,
).toFixed(2);
const backend = params.get('backend');
send({ type: 'init', backend: (backend ?? 'auto') as Extract<Request, { type: 'init' }>['backend'] });
