/// <reference lib="webworker" />
/**
 * The model worker: brings up a tfjs backend (WebGPU, else wasm, else WebGL, else cpu), loads the
 * shipped checkpoint, renders synthetic scenes, runs the model and computes per-frame metrics, so the
 * page's main thread only draws.
 */
import { type BackendName, selectBackend } from '@cvm/backend';
import { type MultiViewSample, resizeSample, type SampleView, SyntheticWorld } from '@cvm/datasets';
import type { MultiTaskModel } from '@cvm/mtl-heads';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { type FrameOptions, runFrame } from './frame.js';
import { type CheckpointConfig, loadModel } from './model.js';
import type { FrameMessage, ModelInfo, Reply, Request, UserView } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const MODEL_URL = new URL(`${import.meta.env.BASE_URL}model/`, scope.location.href);

let model: MultiTaskModel | null = null;
let config: CheckpointConfig | null = null;
let world: SyntheticWorld | null = null;

function post(reply: Reply, transfer: Transferable[] = []): void {
  scope.postMessage(reply, transfer);
}

async function fetchBytes(url: URL): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function init(backend: BackendName | 'auto'): Promise<void> {
  const start = performance.now();
  const order: BackendName[] = backend === 'auto' ? ['webgpu', 'wasm', 'webgl', 'cpu'] : [backend];
  // A page asks for WebGPU whatever the adapter; on a software adapter it is the one tested here.
  const choice = await selectBackend(order, {
    softwareWebGPU: true,
    // The binaries under wasm/ (vite.config.ts), for the threaded build and the stock ones alike.
    wasmPaths: new URL(`${import.meta.env.BASE_URL}wasm/`, scope.location.href).href,
  });
  config = JSON.parse(new TextDecoder().decode(await fetchBytes(new URL('config.json', MODEL_URL))));
  if (!config) throw new Error('config.json is empty');
  model = loadModel(config, await fetchBytes(new URL('model.safetensors', MODEL_URL)));
  const [height, width] = config.size;
  // The val split of the world the model was trained on (scenes it never saw), as many as asked.
  world = new SyntheticWorld({
    seed: config.worldSeed,
    height,
    width,
    views: config.views,
    trainScenes: 0,
    valScenes: 100_000,
  });
  const info: ModelInfo = {
    tasks: model.tasks.map((t) => t.name),
    height,
    width,
    cvm: model.variant,
    parameters: model.numParameters(),
    inverseDepths: model.cvm ? Array.from(model.cvm.candidates) : [],
    views: config.views,
    valScenes: config.valScenes,
  };
  // One warm-up forward compiles the shaders / kernels, so the first frame's time is the steady one.
  await runFrame(model, world.sample('val', 0, {}));
  post({
    type: 'ready',
    backend: tf.getBackend(),
    why: choice.why,
    model: info,
    loadMs: performance.now() - start,
  });
}

const IDENTITY_K = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
const IDENTITY_POSE = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);

/** The person's images at the model's size: one alone is the single-view setting (identity cameras). */
function userSample(views: UserView[], height: number, width: number): MultiViewSample {
  const first = views[0];
  const sampleViews: SampleView[] = views.map((v) => {
    if (v.width !== first.width || v.height !== first.height)
      throw new Error(
        `all images must have the same size (${first.width}×${first.height}, got ${v.width}×${v.height})`,
      );
    const rgb = new Float32Array(v.rgb.length);
    for (let i = 0; i < rgb.length; i++) rgb[i] = v.rgb[i] / 255;
    return { rgb, intrinsics: v.intrinsics ?? IDENTITY_K, cameraToWorld: v.cameraToWorld ?? IDENTITY_POSE };
  });
  return resizeSample(
    { id: 'user', height: first.height, width: first.width, views: sampleViews },
    height,
    width,
  );
}

async function frame(request: Exclude<Request, { type: 'init' }>): Promise<void> {
  if (!model || !config || !world) throw new Error('the model is not loaded yet');
  const [height, width] = config.size;
  const start = performance.now();
  let sample: MultiViewSample;
  let mode: 'scene' | 'single-view' | 'multi-view';
  if (request.type === 'scene') {
    const w = new SyntheticWorld({ ...world.options, views: request.views });
    sample = w.sample('val', request.scene, { baselineScale: request.baselineScale });
    mode = 'scene';
  } else {
    if (request.views.length === 0) throw new Error('no image given');
    sample = userSample(request.views, height, width);
    mode = request.views.length === 1 ? 'single-view' : 'multi-view';
  }
  const renderMs = performance.now() - start;
  const ablation = request.cvmMode === 'full' || !model.cvm ? null : request.cvmMode;
  const options: FrameOptions = { cvmAblation: ablation };
  const result = await runFrame(model, sample, options);
  const labels = sample.views[0].labels ?? null;
  const rgb = sample.views.map((v) => v.rgb);
  post({
    type: 'frame',
    id: request.id,
    height,
    width,
    rgb,
    predictions: result.predictions,
    labels: labels as Record<string, Float32Array | Int32Array | Uint8Array> | null,
    scores: result.scores,
    costVolume: result.costVolume,
    forwardMs: result.forwardMs,
    renderMs,
    numTensors: tf.memory().numTensors,
    gpuBytes: gpuBytes(),
    cvmMode: request.cvmMode,
    mode,
  });
}

/** WebGPU's buffer manager's bytes in use and allocated (its pool), when WebGPU runs. */
function gpuBytes(): FrameMessage['gpuBytes'] {
  const m = tf.memory() as { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return m.numBytesInGPU === undefined || m.numBytesAllocatedInGPU === undefined
    ? null
    : { used: m.numBytesInGPU, allocated: m.numBytesAllocatedInGPU };
}

// Requests run one at a time, in order.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event: MessageEvent<Request>) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      if (request.type === 'init') await init(request.backend);
      else await frame(request);
    } catch (e) {
      post({
        type: 'error',
        id: 'id' in request ? request.id : undefined,
        message: (e as Error).message ?? String(e),
      });
    }
  });
};
