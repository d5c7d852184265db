import { type LoadReport, loadStateDict, torchStateDict } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { DecodeHead } from './decode-head.js';
import type { MultiTaskModel } from './multi-task-model.js';

const FUSE_WEIGHT = 'linear_fuse.0.weight';

/**
 * Loads a SAK stage-2 head (`heads.<task>.*` of SAK's checkpoint with the prefix stripped, PyTorch layout)
 * into `head`, strictly by name. When the head fuses CvM channels, SAK's `linear_fuse.0.weight`
 * `[D, D, k, k]` fills the encoder part of `[D, D + C_cvm, k, k]` and the CvM part is set to zero, so
 * the loaded head computes exactly SAK's function until training moves the CvM weights; the CvM
 * channels' BatchNorm (`cvm_norm.*`, not in SAK) keeps its current values unless the tensors name it.
 * The input tensors are not disposed.
 * @example
 * loadSakHead(model.head('semseg'), { 'linears.0.weight': w0, ... }); // or loadSakHeads(model, checkpoint)
 */
export function loadSakHead(head: DecodeHead, tensors: Record<string, tf.Tensor>): LoadReport {
  const fuse = tensors[FUSE_WEIGHT];
  if (!fuse || head.cvmChannels === 0) return loadStateDict(head, tensors);
  const [out, inChannels] = fuse.shape;
  if (fuse.rank !== 4 || out !== head.inChannels || inChannels !== head.inChannels) {
    throw new Error(
      `loadSakHead: ${FUSE_WEIGHT} must be SAK's [${head.inChannels},${head.inChannels},k,k], got [${fuse.shape}]`,
    );
  }
  const own = torchStateDict(head);
  const cvmNorm = Object.fromEntries(
    Object.entries(own).filter(([k]) => k.startsWith('cvm_norm.') && !(k in tensors)),
  );
  const padded = tf.pad(fuse, [
    [0, 0],
    [0, head.cvmChannels],
    [0, 0],
    [0, 0],
  ]);
  try {
    return loadStateDict(head, { ...tensors, ...cvmNorm, [FUSE_WEIGHT]: padded });
  } finally {
    padded.dispose();
    tf.dispose(Object.values(own));
  }
}

/**
 * Loads every head of `model` from a SAK stage-2 checkpoint (its full state dict: the `heads.<task>.*`
 * entries are used, everything else, e.g. `backbone.*`, is left to the encoder's loader), with
 * `loadSakHead`'s CvM zero-extension. Strict per head. The input tensors are not disposed.
 * @returns the load report of each task's head
 * @example
 * const checkpoint = loadSafetensors(bytes); // SAK's stage-2 weights, converted to safetensors
 * loadSakHeads(model, checkpoint);
 */
export function loadSakHeads(
  model: MultiTaskModel,
  checkpoint: Record<string, tf.Tensor>,
): Record<string, LoadReport> {
  const reports: Record<string, LoadReport> = {};
  for (const t of model.tasks) {
    const prefix = `heads.${t.name}.`;
    const own = Object.fromEntries(
      Object.entries(checkpoint)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length), v]),
    );
    if (Object.keys(own).length === 0)
      throw new Error(`loadSakHeads: the checkpoint has no '${prefix}*' entries`);
    reports[t.name] = loadSakHead(model.head(t.name), own);
  }
  return reports;
}
