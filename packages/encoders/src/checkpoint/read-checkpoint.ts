import { type DecodedTensor, readSafetensors } from '@cvm/nn';
import { type PickleValue, PyObject, TorchTensor } from './pickle.js';
import { describePickle, readTorchFile } from './torch-file.js';
import { isZip } from './zip.js';

/** A checkpoint decoded to host arrays, whatever its container. */
export interface CheckpointContents {
  format: 'safetensors' | 'torch';
  /** Tensors by their names in the file (inside the state dict for torch files). */
  tensors: Record<string, DecodedTensor>;
  /** Where the state dict was found in a torch file (`''` = top level, `'state_dict_ema'`, `'model'`, ...). */
  stateDictPath: string;
  /** Inert records found next to the state dict (e.g. RADIO's `args: argparse.Namespace`), by key. */
  records: Record<string, PyObject>;
}

/** Keys under which training scripts put the model's state dict, in order of preference. */
const STATE_DICT_KEYS = ['state_dict_ema', 'state_dict', 'model', 'module', 'model_state_dict', 'model_ema'];

function hasTensors(m: Map<PickleValue, PickleValue>): boolean {
  for (const v of m.values()) if (v instanceof TorchTensor) return true;
  return false;
}

function findStateDict(root: PickleValue, path = ''): { dict: Map<PickleValue, PickleValue>; path: string } {
  if (!(root instanceof Map))
    throw new Error(`torch file: top-level object is a ${describePickle(root)}, not a dict`);
  for (const key of STATE_DICT_KEYS) {
    const v = root.get(key);
    if (v instanceof Map) return findStateDict(v, path ? `${path}.${key}` : key);
  }
  if (hasTensors(root)) return { dict: root, path };
  const keys = [...root.keys()].map(String).slice(0, 10).join(', ');
  throw new Error(
    `torch file: no state dict found (looked for tensors and ${STATE_DICT_KEYS.join(', ')}; keys: ${keys})`,
  );
}

function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new Error('readCheckpoint: expected an ArrayBuffer or a typed array');
}

/**
 * Decodes a checkpoint held in memory: safetensors, or a `torch.save` zip (`.pth`, `.pth.tar`, `.pt`)
 * read with the restricted unpickler. For torch files the state dict is found at the top level or under
 * `state_dict_ema`, `state_dict`, `model`, `module` (nested allowed). F16/BF16/F64 become float32.
 * @example
 * const { format, tensors } = readCheckpoint(bytes);
 */
export function readCheckpoint(data: ArrayBuffer | ArrayBufferView): CheckpointContents {
  const bytes = asBytes(data);
  if (isZip(bytes)) {
    const file = readTorchFile(bytes);
    const { dict, path } = findStateDict(file.root);
    const tensors: Record<string, DecodedTensor> = {};
    for (const [k, v] of dict)
      if (typeof k === 'string' && v instanceof TorchTensor) tensors[k] = file.materialize(v);
    const records: Record<string, PyObject> = {};
    if (file.root instanceof Map) {
      for (const [k, v] of file.root) if (typeof k === 'string' && v instanceof PyObject) records[k] = v;
    }
    return { format: 'torch', tensors, stateDictPath: path, records };
  }
  if (bytes.length >= 3 && bytes[0] === 0x80 && bytes[1] <= 5 && bytes[2] === 0x8a) {
    throw new Error(
      'checkpoint: a legacy (pre-1.6, non-zip) torch.save file; re-save it with a recent PyTorch',
    );
  }
  return { format: 'safetensors', tensors: readSafetensors(bytes).tensors, stateDictPath: '', records: {} };
}
