import { type LoadReport, loadStateDict, torchShape } from '@cvm/nn';
import type * as tf from '@tensorflow/tfjs-core';
import type { CrossViewModule } from './cross-view-module.js';

/** What `loadUniMatchWeights` did. */
export interface UniMatchLoadReport {
  /** Names loaded into `backbone.*` and `transformer.*`. */
  loaded: string[];
  /**
   * Checkpoint keys not used: UniMatch parts CvM does not have (`upsampler.*`, `feature_flow_attn.*`,
   * `refine*`), and the last block's `cross_attn_ffn.norm2.*` when the module removed that norm.
   */
  ignored: string[];
  /** CvM parameters left at their initialisation (adapter, upsampler). */
  notInCheckpoint: string[];
}

/**
 * Loads a UniMatch / GMDepth checkpoint (converted to safetensors, PyTorch layout) into the spatial
 * encoder and the multi-view transformer of a `CrossViewModule`, strictly: every `backbone.*` and
 * `transformer.*` parameter of the module must be in the checkpoint with the right shape.
 *
 * Names map one to one (`backbone.conv1.weight`, `backbone.layer2.0.downsample.0.bias`,
 * `transformer.layers.5.cross_attn_ffn.mlp.2.weight`, ...): UniMatch's InstanceNorms have no
 * parameters and its transformer is the 2-view case of ours. A leading `module.` (DataParallel) is
 * stripped. The removed final norm and UniMatch's flow/depth heads are ignored and reported.
 *
 * @param module the target (its `featureChannels`, `encoderDims`, `numLayers` must match the checkpoint)
 * @param tensors the checkpoint's `model` state dict (e.g. from `loadSafetensorsFile`); not disposed
 * @example
 * // python: safetensors.torch.save_file(torch.load('gmdepth-scale1-resumeflowthings-scannet.pth')['model'], 'gmdepth.safetensors')
 * const report = loadUniMatchWeights(cvm, await loadSafetensorsFile('gmdepth.safetensors'));
 * report.ignored; // ['transformer.layers.5.cross_attn_ffn.norm2.weight', ..., 'upsampler.0.weight', ...]
 */
export function loadUniMatchWeights(
  module: CrossViewModule,
  tensors: Record<string, tf.Tensor> | Map<string, tf.Tensor>,
): UniMatchLoadReport {
  const source = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const parts = { backbone: new Map<string, tf.Tensor>(), transformer: new Map<string, tf.Tensor>() };
  const ignored: string[] = [];
  const known = new Set(module.namedEntries().map((e) => e.name));
  for (const [rawName, t] of source) {
    const name = rawName.startsWith('module.') ? rawName.slice('module.'.length) : rawName;
    const prefix = name.slice(0, name.indexOf('.'));
    if ((prefix === 'backbone' || prefix === 'transformer') && known.has(name)) {
      parts[prefix].set(name.slice(prefix.length + 1), t);
    } else if (prefix === 'backbone' || prefix === 'transformer') {
      // A UniMatch key CvM has no slot for: only the removed output norm is expected here.
      if (!/^transformer\.layers\.\d+\.cross_attn_ffn\.norm2\.(weight|bias)$/.test(name)) {
        throw new Error(
          `loadUniMatchWeights: '${rawName}' has no counterpart in the module (different numLayers, or not a UniMatch checkpoint?)`,
        );
      }
      ignored.push(rawName);
    } else {
      ignored.push(rawName);
    }
  }
  // Check both parts before assigning anything, so a bad checkpoint leaves the module untouched.
  const problems: string[] = [];
  for (const e of module.namedEntries()) {
    const prefix = e.name.slice(0, e.name.indexOf('.'));
    if (prefix !== 'backbone' && prefix !== 'transformer') continue;
    const t = parts[prefix].get(e.name.slice(prefix.length + 1));
    const expected = torchShape(e.variable.shape, e.layout);
    if (!t) problems.push(`missing ${e.name}`);
    else if (t.shape.join() !== expected.join()) {
      problems.push(`${e.name}: expected [${expected}] (PyTorch layout), got [${t.shape}]`);
    }
  }
  if (problems.length) {
    const shown = problems.slice(0, 20).join('\n  ');
    throw new Error(
      `loadUniMatchWeights: nothing was loaded (${problems.length} problems):\n  ${shown}${problems.length > 20 ? '\n  ...' : ''}`,
    );
  }
  const reports: LoadReport[] = [
    loadStateDict(module.backbone, parts.backbone, { strict: true }),
    loadStateDict(module.transformer, parts.transformer, { strict: true }),
  ];
  const loaded = [
    ...reports[0].loaded.map((n) => `backbone.${n}`),
    ...reports[1].loaded.map((n) => `transformer.${n}`),
  ];
  const loadedSet = new Set(loaded);
  return {
    loaded,
    ignored,
    notInCheckpoint: module
      .namedParameters()
      .map(([n]) => n)
      .filter((n) => !loadedSet.has(n)),
  };
}
