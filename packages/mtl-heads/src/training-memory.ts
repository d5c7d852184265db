import type { Module } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';

/** wasm32's address space: tfjs-backend-wasm's heap (every tensor of the wasm backend) cannot grow past it. */
export const WASM32_HEAP_BYTES = 4 * 2 ** 30;

/** What a training step holds before any activation (`trainingStateBytes`). */
export interface TrainingState {
  /** Every parameter and buffer of the model, 4 bytes a value. */
  weightBytes: number;
  /** Trainable parameter count. */
  trainable: number;
  /** Weights, plus the trainable parameters' gradients and AdamW's two moments (12 bytes each). */
  bytes: number;
}

/**
 * The memory a training step needs before any activation: the weights, a gradient per trainable
 * parameter and AdamW's `exp_avg` and `exp_avg_sq` (16 bytes a trainable float32 parameter in all).
 * @example trainingStateBytes(model).bytes / 2 ** 30; // GiB
 */
export function trainingStateBytes(model: Module): TrainingState {
  const size = (v: tf.Variable) => v.size;
  const weights = [...model.namedParameters(), ...model.namedBuffers()].reduce((n, [, v]) => n + size(v), 0);
  const trainable = model.trainableParameters().reduce((n, v) => n + size(v), 0);
  return { weightBytes: 4 * weights, trainable, bytes: 4 * weights + 12 * trainable };
}

/**
 * Throws, before the optimizer allocates anything, when a training step of `model` cannot fit the
 * backend: on `'wasm'`, when its state (`trainingStateBytes`) alone exceeds wasm32's 4 GiB heap. The
 * message names the sizes, the limit and the ways out. Other backends have no fixed limit to check.
 * @param backend default the current tfjs backend
 */
export function checkTrainingStateFits(model: Module, backend: string = tf.getBackend()): void {
  if (backend !== 'wasm') return;
  const { bytes, weightBytes, trainable } = trainingStateBytes(model);
  if (bytes <= WASM32_HEAP_BYTES) return;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  throw new Error(
    `Trainer: a training step of this model needs ${gib(bytes)} before any activation ` +
      `(${gib(weightBytes)} of weights + ${(trainable / 1e6).toFixed(1)} M trainable parameters × 12 B ` +
      `for gradients and AdamW's m and v), more than the 4 GiB wasm32 heap of the wasm backend can ever hold. ` +
      "Run it on a backend without that limit: 'cpu-xnnpack' (@cvm/backend: tensors in JS memory, bounded by " +
      "the machine's RAM, with XNNPACK's matrix products and convolutions), tfjs-node, or WebGPU on a device " +
      'with the memory; or train fewer parameters (freeze the encoder, LoRA).',
  );
}
