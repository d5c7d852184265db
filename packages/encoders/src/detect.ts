import type { DecodedTensor } from '@cvm/nn';
import type { EncoderFamily } from './encoder.js';
import { PRESETS } from './presets.js';
import type { EncoderOverrides } from './registry.js';

/** What a checkpoint looks like: its family, the closest preset and the options that make it fit. */
export interface DetectedEncoder {
  family: EncoderFamily;
  /** The preset whose width and depth match, or the family's closest preset otherwise. */
  preset: string;
  /** True when the preset matches without overrides of width or depth. */
  exactPreset: boolean;
  /** Options to pass to `createEncoder(preset, overrides)` for this checkpoint. */
  overrides: EncoderOverrides;
  /** Scalar count of the checkpoint's tensors (all of them, including ignored ones). */
  numElements: number;
  /** The stored dtypes and how many tensors use each. */
  dtypes: Record<string, number>;
}

function blockCount(keys: string[], pattern: RegExp): number {
  let n = 0;
  for (const k of keys) {
    const m = k.match(pattern);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

function find(tensors: Record<string, DecodedTensor>, suffix: string): DecodedTensor | undefined {
  const key = Object.keys(tensors).find((k) => k === suffix || k.endsWith(`.${suffix}`));
  return key ? tensors[key] : undefined;
}

/**
 * Infers which encoder a checkpoint holds from its tensor names and shapes (any supported naming
 * scheme). The number of heads is not stored; it is taken from the matching preset, else `D / 64`.
 * @param grid for SAK / timm checkpoints whose position grid is not square: `[gh, gw]`
 * @example
 * const d = detectEncoder(readCheckpoint(bytes).tensors); // { family: 'dinov3', preset: 'dinov3_vitb16', ... }
 * const enc = createEncoder(d.preset, d.overrides);
 */
export function detectEncoder(
  tensors: Record<string, DecodedTensor>,
  grid?: readonly [number, number],
): DetectedEncoder {
  const keys = Object.keys(tensors);
  const has = (re: RegExp) => keys.some((k) => re.test(k));
  const dtypes: Record<string, number> = {};
  let numElements = 0;
  for (const t of Object.values(tensors)) {
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    numElements += t.values.length;
  }
  const family: EncoderFamily = has(/(^|\.)tsap\./)
    ? 'sak'
    : has(/patch_generator\./)
      ? 'radio'
      : has(
            /storage_tokens|rope_embed\.periods|embeddings\.register_tokens|embeddings\.patch_embeddings|reg_token|\.gamma_1$|layer_scale1/,
          )
        ? 'dinov3'
        : has(/^(module\.)?blocks\.\d+\.attn\.qkv/) && has(/pos_embed/)
          ? 'timm'
          : (() => {
              throw new Error(
                `detectEncoder: not a DINOv3, RADIO or SAK checkpoint (keys: ${keys.slice(0, 8).join(', ')}, ...)`,
              );
            })();
  if (family === 'timm')
    throw new Error('detectEncoder: a plain timm ViT has no preset here; build it with VisionTransformer');
  const depth = Math.max(
    blockCount(keys, /(?:^|\.)blocks\.(\d+)\./),
    blockCount(keys, /(?:^|\.)layer\.(\d+)\./),
  );
  const norm1 = find(tensors, 'norm1.weight');
  if (!norm1 || depth === 0) throw new Error('detectEncoder: no transformer blocks found');
  const embedDim = norm1.shape[0];
  const overrides: EncoderOverrides = {};
  if (family === 'dinov3') {
    const patch = find(tensors, 'patch_embed.proj.weight') ?? find(tensors, 'patch_embeddings.weight');
    if (patch) overrides.patchSize = patch.shape[3];
    overrides.layerScale = has(/\.(ls1\.gamma|gamma_1|layer_scale1\.lambda1)$/) ? 1e-5 : null;
    const regs =
      find(tensors, 'storage_tokens') ?? find(tensors, 'register_tokens') ?? find(tensors, 'reg_token');
    if (regs) overrides.numRegisters = regs.shape[1];
    if (has(/mlp\.(w1|gate_proj|fc1_g)\./)) {
      overrides.ffn = 'swiglu';
      const w1 = Object.entries(tensors).find(([k]) => /mlp\.(w1|gate_proj|fc1_g)\.weight$/.test(k))?.[1];
      if (w1) overrides.mlpRatio = (w1.shape[0] * 3) / 2 / embedDim;
    }
  } else if (family === 'radio') {
    // RADIO's `vit_large_patch16_v2_224` variant has LayerScale; the v2.5 models do not.
    if (has(/\.ls1\.gamma$/)) overrides.layerScale = 1e-5;
    const pos = find(tensors, 'patch_generator.pos_embed');
    const tokens = find(tensors, 'patch_generator.cls_token.token');
    if (pos) overrides.position = { type: 'cpe', maxGrid: Math.round(Math.sqrt(pos.shape[1])) };
    if (tokens) {
      const registers = Math.min(4, tokens.shape[0]);
      overrides.numRegisters = registers;
      overrides.numClassTokens = tokens.shape[0] - registers;
    }
  } else {
    overrides.teachers = [
      ...new Set(
        keys
          .map((k) => k.match(/(?:^|\.)tsap\.(\w+)\.0\.down\.weight$/)?.[1])
          .filter((t): t is string => !!t),
      ),
    ];
    const outLayers = [
      ...new Set(
        keys
          .map((k) => k.match(/(?:^|\.)out_norms\.(\d+)_\w+\.weight$/)?.[1])
          .filter(Boolean)
          .map(Number),
      ),
    ].sort((a, b) => a - b);
    overrides.outLayers = outLayers;
    overrides.tasks = [
      ...new Set(
        keys
          .map((k) => k.match(/(?:^|\.)mor\.(\d+)_(\w+)\.router\.module\.0\.weight$/))
          .filter((m): m is RegExpMatchArray => !!m && Number(m[1]) === outLayers[0])
          .map((m) => m[2]),
      ),
    ];
    const pos = find(tensors, 'vit.pos_embed');
    if (pos) {
      const n = pos.shape[1] - 1;
      const side = Math.round(Math.sqrt(n));
      const g = grid ?? (side * side === n ? [side, side] : undefined);
      if (g && g[0] * g[1] !== n)
        throw new Error(`detectEncoder: grid ${g[0]}x${g[1]} does not hold the ${n} position entries`);
      if (g) overrides.position = { type: 'learned', grid: [g[0], g[1]] };
      else if (n !== 28 * 36)
        throw new Error(`detectEncoder: ${n} position entries; pass the grid (e.g. --grid 28x36)`);
    }
  }
  const candidates = Object.entries(PRESETS).filter(
    ([, c]) =>
      c.family === family &&
      (overrides.patchSize === undefined || (c.family !== 'sak' && c.patchSize === overrides.patchSize)),
  );
  const dims = ([, c]: (typeof candidates)[number]) => (c.family === 'sak' ? c.vit : c);
  const exact = candidates.find((c) => dims(c).embedDim === embedDim && dims(c).depth === depth);
  const [preset, config] =
    exact ??
    candidates.reduce((a, b) =>
      Math.abs(dims(b).embedDim - embedDim) < Math.abs(dims(a).embedDim - embedDim) ? b : a,
    );
  if (!exact) {
    const heads = Math.max(1, Math.round(embedDim / 64));
    Object.assign(overrides, { embedDim, depth, numHeads: embedDim % heads === 0 ? heads : 1 });
    const base = dims([preset, config]);
    if (family !== 'sak')
      overrides.outLayers = base.outLayers.map((l) =>
        Math.min(depth - 1, Math.round(((l + 1) * depth) / base.depth) - 1),
      );
  }
  return { family, preset, exactPreset: !!exact, overrides, numElements, dtypes };
}
