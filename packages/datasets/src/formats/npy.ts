/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0; C order; little-endian or single-byte dtypes),
 * written and read without dependencies. Spec: a magic string `\x93NUMPY`, the version, a header
 * length, a Python-dict header `{'descr': '<f4', 'fortran_order': False, 'shape': (H, W), }` padded with
 * spaces and a newline to a multiple of 64 bytes, then the raw array.
 */

export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int16Array | Uint16Array;

const DESCR: [string, new (buffer: ArrayBuffer) => NpyArray, number][] = [
  ['<f4', Float32Array, 4],
  ['<f8', Float64Array, 8],
  ['<i4', Int32Array, 4],
  ['<i2', Int16Array, 2],
  ['<u2', Uint16Array, 2],
  ['|u1', Uint8Array, 1],
];

function descrOf(data: NpyArray): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Uint8Array) return '|u1';
  throw new Error('encodeNpy: unsupported array type');
}

const bigEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/**
 * Encodes `data` with `shape` as a version 1.0 `.npy` file.
 *
 * @param data typed array, row-major (C order).
 * @param shape dimensions; their product must equal `data.length`.
 * @example
 * writeFileSync('depth/0001.npy', encodeNpy(depth, [480, 640]));
 */
export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  if (bigEndianHost) throw new Error('encodeNpy: big-endian hosts are not supported');
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length)
    throw new Error(`encodeNpy: shape [${shape.join(', ')}] does not match ${data.length} values`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  if (header.length > 65535) throw new Error('encodeNpy: header too long');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/**
 * Decodes a `.npy` file.
 *
 * @param bytes the file's content.
 * @param name used in error messages (e.g. the file path).
 * @returns the array (a fresh, aligned copy), its shape and dtype descriptor.
 * @example
 * const { data, shape } = decodeNpy(readFileSync('depth/0001.npy'), 'depth/0001.npy');
 */
export function decodeNpy(
  bytes: Uint8Array,
  name = '.npy data',
): { data: NpyArray; shape: number[]; descr: string } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m))
    throw new Error(`${name}: not a .npy file (bad magic)`);
  const major = bytes[6];
  let headerLength: number;
  let offset: number;
  if (major === 1) {
    headerLength = bytes[8] | (bytes[9] << 8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${name}: truncated .npy header`);
    headerLength = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
    offset = 12;
  } else throw new Error(`${name}: unsupported .npy version ${major}`);
  if (bytes.length < offset + headerLength) throw new Error(`${name}: truncated .npy header`);
  const header = new TextDecoder().decode(bytes.subarray(offset, offset + headerLength));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new Error(`${name}: malformed .npy header ${header.trim()}`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-order .npy arrays are not supported`);
  const entry = DESCR.find(([d]) => d === descr || (d.startsWith('|') && `<${d.slice(1)}` === descr));
  if (!entry)
    throw new Error(
      `${name}: unsupported .npy dtype '${descr}' (supported: ${DESCR.map(([d]) => d).join(', ')})`,
    );
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLength;
  const byteLength = count * entry[2];
  if (bytes.length < start + byteLength)
    throw new Error(
      `${name}: truncated .npy data: expected ${byteLength} bytes for shape (${shape.join(', ')}), found ${bytes.length - start}`,
    );
  // A fresh, aligned copy (Buffer.slice would share memory with a pooled buffer).
  const copy = new Uint8Array(byteLength);
  copy.set(bytes.subarray(start, start + byteLength));
  return { data: new entry[1](copy.buffer), shape, descr: entry[0] };
}
