import type { DecodedTensor } from '@cvm/nn';
import type { EncoderFamily } from '../encoder.js';

/** Which naming scheme a checkpoint used. */
export type NamingScheme =
  | 'dinov3-original'
  | 'dinov3-hf'
  | 'dinov3-timm'
  | 'radio-hf'
  | 'radio-original'
  | 'timm'
  | 'sak-stage1'
  | 'sak-stage2'
  | 'native';

/** A checkpoint renamed to an encoder's own parameter names. */
export interface RenamedCheckpoint {
  scheme: NamingScheme;
  tensors: Map<string, DecodedTensor>;
  /** Source keys deliberately not loaded (training-only or other heads), e.g. `mask_token`, `ts_aligners.*`. */
  ignored: string[];
}

type Tensors = Record<string, DecodedTensor>;

function zeros(n: number): DecodedTensor {
  return { dtype: 'F32', shape: [n], values: new Float32Array(n) };
}

function concatRows(parts: DecodedTensor[]): DecodedTensor {
  const total = parts.reduce((a, p) => a + p.values.length, 0);
  const values = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    values.set(p.values as Float32Array, at);
    at += p.values.length;
  }
  const rows = parts.reduce((a, p) => a + p.shape[0], 0);
  return { dtype: parts[0].dtype, shape: [rows, ...parts[0].shape.slice(1)], values };
}

/** Strips the first matching prefix from every key (keys without one are kept as they are). */
function stripPrefix(tensors: Tensors, prefixes: string[]): Tensors {
  const out: Tensors = {};
  for (const [k, v] of Object.entries(tensors)) {
    const p = prefixes.find((q) => k.startsWith(q));
    out[p ? k.slice(p.length) : k] = v;
  }
  return out;
}

function split(
  tensors: Tensors,
  drop: (k: string) => boolean,
): { keep: Map<string, DecodedTensor>; ignored: string[] } {
  const keep = new Map<string, DecodedTensor>();
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(tensors)) {
    if (drop(k)) ignored.push(k);
    else keep.set(k, v);
  }
  return { keep, ignored };
}

/** DINOv3, in the original (`.pth`), Hugging Face transformers or timm (`eva.py`) names. */
function dinov3(source: Tensors): RenamedCheckpoint {
  const t = stripPrefix(source, ['model.']);
  const keys = Object.keys(t);
  if (keys.some((k) => k.startsWith('embeddings.') || k.startsWith('layer.'))) return dinov3FromHf(t);
  if (keys.some((k) => k === 'reg_token' || k.endsWith('.gamma_1') || k.endsWith('.q_bias')))
    return dinov3FromTimm(t);
  // Original names. The stored `bias_mask` is what our masked key bias hard-codes; `periods` is loaded
  // as stored (the released values reproduce the original outputs).
  const { keep, ignored } = split(
    t,
    (k) => k === 'mask_token' || k.endsWith('.bias_mask') || k.startsWith('local_cls_norm.'),
  );
  return { scheme: 'dinov3-original', tensors: keep, ignored };
}

function dinov3FromHf(t: Tensors): RenamedCheckpoint {
  const out = new Map<string, DecodedTensor>();
  const ignored: string[] = [];
  const gated = Object.keys(t).some((k) => k.includes('.mlp.gate_proj.'));
  const mlp: Record<string, string> = gated
    ? { gate_proj: 'w1', up_proj: 'w2', down_proj: 'w3' }
    : { up_proj: 'fc1', down_proj: 'fc2' };
  const qkv = new Map<string, Partial<Record<string, DecodedTensor>>>();
  for (const [k, v] of Object.entries(t)) {
    let m: RegExpMatchArray | null;
    if (k === 'embeddings.cls_token') out.set('cls_token', v);
    else if (k === 'embeddings.register_tokens') out.set('storage_tokens', v);
    else if (k === 'embeddings.mask_token') ignored.push(k);
    else if ((m = k.match(/^embeddings\.patch_embeddings\.(weight|bias)$/)))
      out.set(`patch_embed.proj.${m[1]}`, v);
    else if ((m = k.match(/^layer\.(\d+)\.attention\.([qkv])_proj\.(weight|bias)$/))) {
      const entry = qkv.get(m[1]) ?? {};
      entry[`${m[2]}.${m[3]}`] = v;
      qkv.set(m[1], entry);
    } else if ((m = k.match(/^layer\.(\d+)\.attention\.o_proj\.(weight|bias)$/)))
      out.set(`blocks.${m[1]}.attn.proj.${m[2]}`, v);
    else if ((m = k.match(/^layer\.(\d+)\.layer_scale([12])\.lambda1$/)))
      out.set(`blocks.${m[1]}.ls${m[2]}.gamma`, v);
    else if ((m = k.match(/^layer\.(\d+)\.(norm[12])\.(weight|bias)$/)))
      out.set(`blocks.${m[1]}.${m[2]}.${m[3]}`, v);
    else if ((m = k.match(/^layer\.(\d+)\.mlp\.(\w+)\.(weight|bias)$/)) && m[2] in mlp) {
      out.set(`blocks.${m[1]}.mlp.${mlp[m[2]]}.${m[3]}`, v);
    } else out.set(k, v); // norm.*, and anything unknown is reported as unexpected
  }
  for (const [i, e] of qkv) {
    const [q, k, v] = [e['q.weight'], e['k.weight'], e['v.weight']];
    if (q && k && v) out.set(`blocks.${i}.attn.qkv.weight`, concatRows([q, k, v]));
    if (e['q.bias'] || e['v.bias']) {
      const d = (q ?? v)?.shape[0] ?? 0;
      out.set(
        `blocks.${i}.attn.qkv.bias`,
        concatRows([e['q.bias'] ?? zeros(d), e['k.bias'] ?? zeros(d), e['v.bias'] ?? zeros(d)]),
      );
    }
  }
  return { scheme: 'dinov3-hf', tensors: out, ignored };
}

function dinov3FromTimm(t: Tensors): RenamedCheckpoint {
  const out = new Map<string, DecodedTensor>();
  const ignored: string[] = [];
  const bias = new Map<string, { q?: DecodedTensor; v?: DecodedTensor }>();
  for (const [k, v] of Object.entries(t)) {
    let m: RegExpMatchArray | null;
    if (k === 'reg_token') out.set('storage_tokens', v);
    else if (k.endsWith('.periods') || k.endsWith('.bias_mask') || k === 'mask_token') ignored.push(k);
    else if ((m = k.match(/^blocks\.(\d+)\.gamma_([12])$/))) out.set(`blocks.${m[1]}.ls${m[2]}.gamma`, v);
    else if ((m = k.match(/^blocks\.(\d+)\.attn\.([qv])_bias$/))) {
      const e = bias.get(m[1]) ?? {};
      e[m[2] as 'q' | 'v'] = v;
      bias.set(m[1], e);
    } else if (
      (m = k.match(/^blocks\.(\d+)\.mlp\.(fc1_g|fc1_x|fc2)\.(weight|bias)$/)) &&
      (m[2] !== 'fc2' || t[`blocks.${m[1]}.mlp.fc1_g.weight`])
    ) {
      out.set(`blocks.${m[1]}.mlp.${{ fc1_g: 'w1', fc1_x: 'w2', fc2: 'w3' }[m[2]]}.${m[3]}`, v);
    } else out.set(k, v);
  }
  // timm's non-`_qkvb` variants drop the (all-zero) q/v biases: our qkv bias is then zero.
  for (const k of Object.keys(t)) {
    const m = k.match(/^blocks\.(\d+)\.attn\.qkv\.weight$/);
    if (!m) continue;
    const d = t[k].shape[1];
    const e = bias.get(m[1]) ?? {};
    out.set(`blocks.${m[1]}.attn.qkv.bias`, concatRows([e.q ?? zeros(d), zeros(d), e.v ?? zeros(d)]));
  }
  return { scheme: 'dinov3-timm', tensors: out, ignored };
}

/** RADIO: the `.pth.tar` (`base_model.*`, `input_conditioner.*`) or the Hugging Face export (`radio_model.*`). */
function radio(source: Tensors): RenamedCheckpoint {
  const keys = Object.keys(source);
  if (keys.some((k) => k.includes('parametrizations.'))) {
    throw new Error(
      'RADIO checkpoint: weights are stored with spectral reparametrisation (state_dict without EMA); use the state_dict_ema, or the Hugging Face export',
    );
  }
  const hf = keys.some((k) => k.startsWith('radio_model.'));
  const t = stripPrefix(source, ['radio_model.model.', 'radio_model.', 'base_model.']);
  const { keep, ignored } = split(
    t,
    (k) =>
      k === 'summary_idxs' ||
      [
        'adaptors.',
        '_heads.',
        '_feature_projections.',
        '_feature_normalizer.',
        '_intermediate_feature_normalizer.',
      ].some((p) => k.startsWith(p)),
  );
  return { scheme: hf ? 'radio-hf' : 'radio-original', tensors: keep, ignored };
}

/** SAK: stage 1 (`vit.*`, `tsap.*`, `out_norms.*`) or stage 2 (the same under `backbone.`, plus `heads.*`). */
function sak(source: Tensors): RenamedCheckpoint {
  const stage2 = Object.keys(source).some((k) => k.startsWith('backbone.'));
  const t = stripPrefix(source, ['backbone.']);
  // SAK's test script drops the distillation aligners; decoder heads belong to @cvm/mtl-heads.
  const { keep, ignored } = split(t, (k) => k.startsWith('ts_aligners.') || k.startsWith('heads.'));
  return { scheme: stage2 ? 'sak-stage2' : 'sak-stage1', tensors: keep, ignored };
}

/**
 * Renames a checkpoint's tensors to the parameter names of an encoder of `family`, detecting the
 * naming scheme. Names that are already the package's own pass through unchanged.
 */
export function renameCheckpoint(family: EncoderFamily, tensors: Tensors): RenamedCheckpoint {
  switch (family) {
    case 'dinov3':
      return dinov3(tensors);
    case 'radio':
      return radio(tensors);
    case 'sak':
      return sak(tensors);
    case 'timm': {
      const { keep, ignored } = split(stripPrefix(tensors, ['module.']), (k) => k.startsWith('head.'));
      return { scheme: 'timm', tensors: keep, ignored };
    }
  }
}
