import { type DecodedTensor, type LoadReport, loadStateDict, toTorchLayout } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { Encoder } from '../encoder.js';
import { isLoRAParameter } from '../fine-tuning.js';
import { type NamingScheme, renameCheckpoint } from './key-maps.js';
import { type CheckpointContents, readCheckpoint } from './read-checkpoint.js';

/** What `loadCheckpoint` did: PyTorch's `load_state_dict` report plus where the weights came from. */
export interface CheckpointReport extends LoadReport {
  format: CheckpointContents['format'];
  scheme: NamingScheme;
  /** Source keys deliberately skipped (training-only tensors, teacher aligners, other heads). */
  ignored: string[];
  /** Where the state dict sat inside a torch file (`''`, `'state_dict_ema'`, `'model'`, ...). */
  stateDictPath: string;
}

/** Options of `loadCheckpoint`. */
export interface LoadCheckpointOptions {
  /** Throw, assigning nothing, on any missing, unexpected or shape-mismatched key. Default true. */
  strict?: boolean;
}

function toTensor(t: DecodedTensor): tf.Tensor {
  const dtype = t.dtype === 'BOOL' ? 'bool' : t.values instanceof Float32Array ? 'float32' : 'int32';
  return tf.tensor(t.values, t.shape, dtype);
}

/**
 * Loads decoded checkpoint contents into an encoder (see `loadCheckpoint`).
 */
export function loadCheckpointContents(
  encoder: Encoder,
  contents: CheckpointContents,
  { strict = true }: LoadCheckpointOptions = {},
): CheckpointReport {
  const renamed = renameCheckpoint(encoder.family, contents.tensors);
  const tensors = new Map<string, tf.Tensor>();
  for (const [k, v] of renamed.tensors) tensors.set(k, toTensor(v));
  for (const [k, v] of Object.entries(encoder.computedBuffers())) {
    if (tensors.has(k)) v.dispose();
    else tensors.set(k, v);
  }
  // LoRA adapters added for fine-tuning are not in the base checkpoint: they keep their values.
  for (const e of encoder.namedEntries()) {
    if (isLoRAParameter(e.name) && !tensors.has(e.name))
      tensors.set(e.name, toTorchLayout(e.name, e.variable, e.layout));
  }
  try {
    const report = loadStateDict(encoder, tensors, { strict });
    return {
      ...report,
      format: contents.format,
      scheme: renamed.scheme,
      ignored: renamed.ignored,
      stateDictPath: contents.stateDictPath,
    };
  } catch (e) {
    throw new Error(`loadCheckpoint (${contents.format}, ${renamed.scheme} names): ${(e as Error).message}`);
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/**
 * Loads a checkpoint into an encoder, like `model.load_state_dict(...)` after timm's
 * `checkpoint_filter_fn`: safetensors or `torch.save` files (`.pth`, `.pth.tar`; read by a restricted
 * unpickler that never executes anything), in any naming scheme of the encoder's family (DINOv3 original /
 * Hugging Face / timm; RADIO `.pth.tar` / Hugging Face export; SAK stage 1 / stage 2), F16/BF16 converted.
 * @param source a file path (Node only), or the file's bytes (anywhere)
 * @returns the load report (missing / unexpected / mismatched / ignored keys)
 * @example
 * const enc = createEncoder('dinov3_vitb16');
 * const report = await loadCheckpoint(enc, 'dinov3_vitb16_pretrain_lvd1689m-73cec8be.pth');
 */
export async function loadCheckpoint(
  encoder: Encoder,
  source: string | ArrayBuffer | ArrayBufferView,
  options: LoadCheckpointOptions = {},
): Promise<CheckpointReport> {
  if (typeof source === 'string') {
    const fs = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ fs)) as typeof import('node:fs/promises');
    const bytes = await readFile(source);
    try {
      return loadCheckpointContents(encoder, readCheckpoint(bytes), options);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
  }
  return loadCheckpointContents(encoder, readCheckpoint(source), options);
}
