/**
 * Which tfjs backend a run trains on: the one `--backend` names, or with `auto` the fastest available
 * (`@cvm/backend`'s `selectBackend`), moved to 'cpu-xnnpack' when the model's training state cannot
 * fit the wasm backend's 4 GiB heap (the paper presets' ViT-L).
 */
import { type BackendName, selectBackend } from '@cvm/backend';
import { WASM32_HEAP_BYTES } from '@cvm/mtl-heads';
import * as tf from '@tensorflow/tfjs-core';

/** Activates the configured backend (or the fastest available) and says which and why. */
export async function activateBackend(name: string): Promise<string> {
  // `auto` is @cvm/backend's default order: tfjs-node, WebGPU on a real GPU (a software adapter such as
  // SwiftShader is skipped: slower than wasm), threaded wasm, cpu.
  const choice = await selectBackend(name === 'auto' ? undefined : [name as BackendName]);
  console.log(
    `backend: ${choice.name} (${name === 'auto' ? `auto: ${choice.why}` : 'asked for with --backend'})`,
  );
  return choice.name;
}

/**
 * With `--backend auto` on wasm, moves to 'cpu-xnnpack' (tensors in JS memory, XNNPACK for the heavy
 * kernels) when a model's training state (`trainingStateBytes(model).bytes`) exceeds wasm32's heap;
 * the model's weights follow on first use. A backend named explicitly is kept (the Trainer then
 * refuses what cannot fit, saying why). Returns the backend the run trains on.
 */
export async function fitBackendToModel(requested: string, stateBytes: number): Promise<string> {
  if (requested !== 'auto' || tf.getBackend() !== 'wasm' || stateBytes <= WASM32_HEAP_BYTES)
    return tf.getBackend();
  const choice = await selectBackend(['cpu-xnnpack']);
  console.log(
    `backend: ${choice.name} (auto: the training state, ${(stateBytes / 2 ** 30).toFixed(2)} GiB, exceeds wasm's 4 GiB heap; ${choice.why})`,
  );
  return choice.name;
}
