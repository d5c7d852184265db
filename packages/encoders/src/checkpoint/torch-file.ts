import { type DecodedTensor, decodeRawValues } from '@cvm/nn';
import { type PickleValue, PyObject, PyTuple, TorchTensor, torchPersistentLoad, unpickle } from './pickle.js';
import { readZip } from './zip.js';

/** A `torch.save` file: the unpickled object tree and a way to materialise its tensors. */
export interface TorchFile {
  /** The top-level object (dicts are `Map`s, tensors `TorchTensor` references). */
  root: PickleValue;
  /** Copies a tensor's elements out of its storage (floats as float32, integers as int32). */
  materialize(t: TorchTensor): DecodedTensor;
}

const ITEM: Record<string, { bytes: number; dtype: DecodedTensor['dtype'] }> = {
  FloatStorage: { bytes: 4, dtype: 'F32' },
  HalfStorage: { bytes: 2, dtype: 'F16' },
  BFloat16Storage: { bytes: 2, dtype: 'BF16' },
  DoubleStorage: { bytes: 8, dtype: 'F64' },
  LongStorage: { bytes: 8, dtype: 'I64' },
  IntStorage: { bytes: 4, dtype: 'I32' },
  ShortStorage: { bytes: 2, dtype: 'I16' },
  CharStorage: { bytes: 1, dtype: 'I8' },
  ByteStorage: { bytes: 1, dtype: 'U8' },
  BoolStorage: { bytes: 1, dtype: 'BOOL' },
};

function fail(message: string): never {
  throw new Error(`torch file: ${message}`);
}

/**
 * Opens a `torch.save` zip file (PyTorch ≥ 1.6) with the restricted unpickler: reads `<root>/data.pkl`
 * and resolves storages from `<root>/data/<key>` lazily. Legacy (pre-1.6, non-zip) files are refused.
 */
export function readTorchFile(bytes: Uint8Array): TorchFile {
  const entries = readZip(bytes);
  const pkl = entries.find((e) => e.name.endsWith('data.pkl') && e.name.split('/').length === 2);
  if (!pkl) fail("no '<archive>/data.pkl' entry: not a torch.save file");
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const order = byName.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order).trim() !== 'little')
    fail('big-endian files are not supported');
  const root = unpickle(pkl.data, torchPersistentLoad);
  const cache = new Map<string, Float32Array | Int32Array | Uint8Array>();
  const materialize = (t: TorchTensor): DecodedTensor => {
    const s = t.storage;
    const item = ITEM[s.storageType];
    let values = cache.get(s.key);
    if (!values) {
      const raw = byName.get(`${prefix}data/${s.key}`);
      if (!raw) fail(`storage '${s.key}' is missing from the archive (truncated?)`);
      if (raw.byteLength % item.bytes !== 0)
        fail(`storage '${s.key}' has ${raw.byteLength} bytes, not a multiple of ${item.bytes}`);
      try {
        values = decodeRawValues(item.dtype, raw, `storage ${s.key}`);
      } catch (e) {
        return fail((e as Error).message.replace(/^safetensors: /, ''));
      }
      cache.set(s.key, values);
    }
    const { shape, stride, offset } = t;
    if (shape.length !== stride.length) fail(`tensor in storage '${s.key}': size and stride lengths differ`);
    if (shape.some((d) => d < 0) || offset < 0) fail(`tensor in storage '${s.key}': negative size or offset`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > values.length)
      fail(`tensor [${shape}] has more elements than storage '${s.key}' (${values.length})`);
    if (n > 0) {
      const last = offset + shape.reduce((acc, d, i) => acc + (d - 1) * stride[i], 0);
      const first = offset + shape.reduce((acc, d, i) => acc + Math.min(0, (d - 1) * stride[i]), 0);
      if (first < 0 || last >= values.length) {
        fail(
          `tensor [${shape}] at offset ${offset} runs past storage '${s.key}' of ${values.length} elements (corrupt file?)`,
        );
      }
    }
    const out: Float32Array | Int32Array | Uint8Array =
      values instanceof Float32Array
        ? new Float32Array(n)
        : values instanceof Int32Array
          ? new Int32Array(n)
          : new Uint8Array(n);
    // Strided gather in row-major order of `shape`.
    const idx = new Array(shape.length).fill(0);
    let src = offset;
    for (let k = 0; k < n; k++) {
      out[k] = values[src];
      for (let a = shape.length - 1; a >= 0; a--) {
        idx[a]++;
        src += stride[a];
        if (idx[a] < shape[a]) break;
        src -= stride[a] * shape[a];
        idx[a] = 0;
      }
    }
    return { dtype: item.dtype, shape: [...shape], values: out };
  };
  return { root, materialize };
}

/** A readable description of a pickled value (for errors and `inspect`). */
export function describePickle(v: PickleValue): string {
  if (v instanceof Map) return `dict(${v.size})`;
  if (v instanceof TorchTensor) return `tensor[${v.shape}]`;
  if (v instanceof PyObject) return v.className;
  if (v instanceof PyTuple) return `tuple(${v.items.length})`;
  if (Array.isArray(v)) return `list(${v.length})`;
  return typeof v;
}
