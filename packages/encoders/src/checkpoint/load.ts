import { type DecodedTensor, type LoadReport, loadStateDict, toTorchLayout } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { Encoder } from '../encoder.js';
import { isLoRAParameter } from '../fine-tuning.js';
import { VisionTransformer } from '../vit.js';
import { type NamingScheme, renameCheckpoint } from './key-maps.js';
import { type CheckpointContents, readCheckpoint } from './read-checkpoint.js';
import { resamplePositionEmbedding } from './resample-position.js';

/** What `loadCheckpoint` did: PyTorch's `load_state_dict` report plus where the weights came from. */
export interface CheckpointReport extends LoadReport {
  format: CheckpointContents['format'];
  scheme: NamingScheme;
  /** Source keys deliberately skipped (training-only tensors, teacher aligners, other heads). */
  ignored: string[];
  /** Where the state dict sat inside a torch file (`''`, `'state_dict_ema'`, `'model'`, ...). */
  stateDictPath: string;
  /** Learned position embeddings resampled (bicubic) from the checkpoint's square grid to the encoder's. */
  resampled: string[];
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
 * timm-style: a learned position embedding stored for another (square) grid is resampled bicubically
 * to each ViT's own grid in place (SAK's stage 1 at 384² → stage 2 at 448×576). Returns the names.
 */
function adaptPositionGrids(encoder: Encoder, tensors: Map<string, DecodedTensor>): string[] {
  const done: string[] = [];
  for (const [path, m] of encoder.namedModules()) {
    if (!(m instanceof VisionTransformer) || m.config.position.type !== 'learned' || !m.pos_embed) continue;
    const key = path ? `${path}.pos_embed` : 'pos_embed';
    const t = tensors.get(key);
    if (!t || t.shape[1] === m.pos_embed.shape[1]) continue;
    const adapted = resamplePositionEmbedding(t, m.numPrefixTokens, m.config.position.grid);
    if (adapted) {
      tensors.set(key, adapted);
      done.push(key);
    }
  }
  return done;
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
  const resampled = adaptPositionGrids(encoder, renamed.tensors);
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
      resampled,
    };
  } catch (e) {
    const message = (e as Error).message;
    const hint = /pos_embed expected/.test(message)
      ? "\n  (the checkpoint's position grid differs from the encoder's: create it with the checkpoint's grid, e.g. createEncoder('sak_vitb16', { position: { type: 'learned', grid: [32, 32] } }))"
      : '';
    throw new Error(`loadCheckpoint (${contents.format}, ${renamed.scheme} names): ${message}${hint}`);
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
    // @cvm/nn's Node entry reads files of any size (fs.readFile stops at 2 GiB); imported by a name
    // bundlers do not follow, so browser bundles leave it out.
    const nodeEntry = '@cvm/nn/node';
    const { readFileBytes } = (await import(/* @vite-ignore */ nodeEntry)) as typeof import('@cvm/nn/node');
    const bytes = await readFileBytes(source);
    try {
      return loadCheckpointContents(encoder, readCheckpoint(bytes), options);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
  }
  return loadCheckpointContents(encoder, readCheckpoint(source), options);
}
