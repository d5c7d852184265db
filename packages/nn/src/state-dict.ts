import * as tf from '@tensorflow/tfjs-core';
import type { Module, TensorLayout } from './module.js';
import { loadSafetensors, type SafetensorsWriteOptions, saveSafetensors } from './safetensors.js';

// The one place where PyTorch layouts turn into tfjs layouts and back.
const TO_TFJS: Record<Exclude<TensorLayout, 'plain'>, { rank: number; perm: number[] }> = {
  conv2d: { rank: 4, perm: [2, 3, 1, 0] }, // [out,in,kh,kw] -> [kh,kw,in,out]
  linear: { rank: 2, perm: [1, 0] }, // [out,in] -> [in,out]
};
const TO_TORCH: Record<Exclude<TensorLayout, 'plain'>, number[]> = {
  conv2d: [3, 2, 0, 1], // [kh,kw,in,out] -> [out,in,kh,kw]
  linear: [1, 0],
};

function permuteShape(shape: readonly number[], perm: readonly number[]): number[] {
  return perm.map((p) => shape[p]);
}

/** The PyTorch shape of a tensor stored in tfjs layout `shape`. */
export function torchShape(shape: readonly number[], layout: TensorLayout): number[] {
  return layout === 'plain' ? [...shape] : permuteShape(shape, TO_TORCH[layout]);
}

function checkRank(fn: string, name: string, t: tf.Tensor, layout: TensorLayout): void {
  if (layout !== 'plain' && t.rank !== TO_TFJS[layout].rank) {
    throw new Error(
      `${fn}: '${name}' has shape [${t.shape}], but a ${layout} weight must be ${TO_TFJS[layout].rank}-D`,
    );
  }
}

/**
 * Converts one PyTorch tensor to the tfjs layout of a parameter: conv `[out,in,kh,kw]` →
 * `[kh,kw,in,out]`, Linear `[out,in]` → `[in,out]`, `'plain'` unchanged. Returns a new tensor
 * (the caller owns it); `name` only labels errors.
 * @example
 * fromTorchLayout('conv1.weight', tf.zeros([64, 3, 7, 7]), 'conv2d').shape; // [7, 7, 3, 64]
 */
export function fromTorchLayout(name: string, tensor: tf.Tensor, layout: TensorLayout): tf.Tensor {
  checkRank('fromTorchLayout', name, tensor, layout);
  return layout === 'plain' ? tf.clone(tensor) : tf.transpose(tensor, TO_TFJS[layout].perm);
}

/**
 * Inverse of `fromTorchLayout`: tfjs layout → PyTorch layout, as a new tensor.
 * @example
 * toTorchLayout('proj.weight', tf.zeros([128, 256]), 'linear').shape; // [256, 128]
 */
export function toTorchLayout(name: string, tensor: tf.Tensor, layout: TensorLayout): tf.Tensor {
  checkRank('toTorchLayout', name, tensor, layout);
  return layout === 'plain' ? tf.clone(tensor) : tf.transpose(tensor, TO_TORCH[layout]);
}

/**
 * The module's parameters and buffers by PyTorch name **in PyTorch layout** (new tensors, owned by
 * the caller): what `safetensors.torch.save_file(model.state_dict())` would hold.
 * @example
 * const sd = torchStateDict(model);
 * const bytes = await saveSafetensors(sd);
 * tf.dispose(Object.values(sd));
 */
export function torchStateDict(module: Module): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const e of module.namedEntries()) out[e.name] = toTorchLayout(e.name, e.variable, e.layout);
  return out;
}

/** What `loadStateDict` found. */
export interface LoadReport {
  /** Module entries with no tensor of that name. */
  missing: string[];
  /** Tensors whose name is no module entry. */
  unexpected: string[];
  /** Names present on both sides with incompatible shapes (shapes in the source layout). */
  mismatched: { name: string; expected: number[]; got: number[] }[];
  /** Entries assigned. */
  loaded: string[];
}

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Throw (before assigning anything) on any missing, unexpected or mismatched key. Default true. */
  strict?: boolean;
  /**
   * Layout of the incoming tensors: `'torch'` (default; any checkpoint saved from PyTorch, and what
   * `torchStateDict` / `moduleToSafetensors` write) or `'tfjs'` (what `module.stateDict()` returns).
   */
  layout?: 'torch' | 'tfjs';
}

function listNames(label: string, names: string[]): string {
  const shown = names.slice(0, 20).join(', ');
  return `${label} (${names.length}): ${shown}${names.length > 20 ? `, ... and ${names.length - 20} more` : ''}`;
}

/**
 * Copies tensors into a module's parameters and buffers by dotted name, converting PyTorch layouts
 * (`layout: 'torch'`, the default) in one place. Strict by default: any missing, unexpected or
 * shape-mismatched key throws an error listing them all, and nothing is assigned. Non-strict loads
 * what matches and returns the report. The input tensors are not disposed.
 * @param module the module to fill
 * @param tensors name → tensor (a record or a Map)
 * @returns the report (all lists empty after a strict load)
 * @example
 * const tensors = loadSafetensors(bytes); // saved by safetensors.torch.save_file(model.state_dict())
 * loadStateDict(model, tensors);
 * tf.dispose(Object.values(tensors));
 */
export function loadStateDict(
  module: Module,
  tensors: Record<string, tf.Tensor> | Map<string, tf.Tensor>,
  { strict = true, layout = 'torch' }: LoadStateDictOptions = {},
): LoadReport {
  const source = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: [] };
  const entries = module.namedEntries();
  const known = new Set(entries.map((e) => e.name));
  const toLoad: { entry: (typeof entries)[number]; tensor: tf.Tensor }[] = [];
  for (const entry of entries) {
    const t = source.get(entry.name);
    if (!t) {
      report.missing.push(entry.name);
      continue;
    }
    const expected =
      layout === 'torch' ? torchShape(entry.variable.shape, entry.layout) : [...entry.variable.shape];
    if (expected.length !== t.rank || expected.some((d, i) => d !== t.shape[i])) {
      report.mismatched.push({ name: entry.name, expected, got: [...t.shape] });
      continue;
    }
    if (t.dtype === 'string' || t.dtype === 'complex64') {
      throw new Error(`loadStateDict: '${entry.name}' has dtype ${t.dtype}, expected a numeric tensor`);
    }
    toLoad.push({ entry, tensor: t });
  }
  for (const name of source.keys()) if (!known.has(name)) report.unexpected.push(name);
  const problems = [
    report.missing.length ? listNames('missing keys', report.missing) : '',
    report.unexpected.length ? listNames('unexpected keys', report.unexpected) : '',
    report.mismatched.length
      ? listNames(
          `shape mismatches (${layout} layout)`,
          report.mismatched.map((m) => `${m.name} expected [${m.expected}] got [${m.got}]`),
        )
      : '',
  ].filter(Boolean);
  if (strict && problems.length) {
    throw new Error(`loadStateDict (strict): nothing was loaded.\n  ${problems.join('\n  ')}`);
  }
  for (const { entry, tensor } of toLoad) {
    tf.tidy(() => {
      const converted = layout === 'torch' ? fromTorchLayout(entry.name, tensor, entry.layout) : tensor;
      entry.variable.assign(
        converted.dtype === entry.variable.dtype ? converted : tf.cast(converted, entry.variable.dtype),
      );
    });
    report.loaded.push(entry.name);
  }
  return report;
}

/**
 * Serialises a module's state dict to safetensors bytes in PyTorch layout and names, so
 * `safetensors.torch.load_file` + `model.load_state_dict` read it in PyTorch.
 * @example
 * const bytes = await moduleToSafetensors(model, { dtype: 'F16', metadata: { format: 'pt' } });
 */
export async function moduleToSafetensors(
  module: Module,
  options: SafetensorsWriteOptions = {},
): Promise<Uint8Array> {
  const sd = torchStateDict(module);
  try {
    return await saveSafetensors(sd, options);
  } finally {
    tf.dispose(Object.values(sd));
  }
}

/**
 * Parses safetensors bytes (PyTorch layout unless `layout: 'tfjs'`) and loads them into `module`
 * with `loadStateDict`; intermediate tensors are disposed.
 * @example
 * loadModuleSafetensors(model, new Uint8Array(await (await fetch('/weights.safetensors')).arrayBuffer()));
 */
export function loadModuleSafetensors(
  module: Module,
  data: ArrayBuffer | ArrayBufferView,
  options: LoadStateDictOptions = {},
): LoadReport {
  const tensors = loadSafetensors(data);
  try {
    return loadStateDict(module, tensors, options);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
