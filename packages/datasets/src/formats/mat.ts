import { deflateSync, inflateSync } from 'node:zlib';

/**
 * MATLAB Level 5 MAT-files (`.mat` v5 / v6 / v7: what `scipy.io.loadmat` reads), read and written
 * without dependencies beyond node:zlib, for the small structures the PASCAL-MT files use: numeric and
 * logical arrays, char arrays, structs and cells. Not supported (a clear error): sparse, complex,
 * object arrays and v7.3 (HDF5) files.
 *
 * Format (MATLAB "MAT-File Format" reference): a 128-byte header (text, subsystem offset, version
 * 0x0100, endian indicator 'IM' for little-endian), then data elements `[type u32, nbytes u32, data,
 * padding to 8 bytes]` (or the 8-byte "small element" form when nbytes ≤ 4). A variable is an
 * `miMATRIX` element (array flags, dimensions, name, then the class's data), optionally wrapped in a
 * zlib `miCOMPRESSED` element (v7). MATLAB stores arrays column-major; this module converts so that
 * every `data` / `cells` / `elements` array here is ROW-major (C order, like NumPy after loadmat).
 */

export type MatNumericClass =
  | 'double'
  | 'single'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64';

export type MatNumericData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** A numeric (or logical) array. int64 / uint64 are read as float64 (exact below 2⁵³). */
export interface MatNumeric {
  type: 'numeric';
  class: MatNumericClass;
  dims: number[];
  /** Row-major values. */
  data: MatNumericData;
  logical?: boolean;
}

/** A char array; `text` holds the characters in row-major order (a 1×N array is the string). */
export interface MatChar {
  type: 'char';
  dims: number[];
  text: string;
}

/** A cell array; `cells` in row-major order. */
export interface MatCell {
  type: 'cell';
  dims: number[];
  cells: MatArray[];
}

/** A struct array: `fields` in their stored order, one record per element (row-major order). */
export interface MatStruct {
  type: 'struct';
  dims: number[];
  fields: string[];
  elements: Record<string, MatArray>[];
}

export type MatArray = MatNumeric | MatChar | MatCell | MatStruct;

// Data types (mi*) and array classes (mx*).
const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

const MX_CLASSES: Record<number, MatNumericClass | 'cell' | 'struct' | 'object' | 'char' | 'sparse'> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};

const NUMERIC: Record<MatNumericClass, { mx: number; mi: number; array: new (n: number) => MatNumericData }> =
  {
    double: { mx: 6, mi: MI.DOUBLE, array: Float64Array },
    single: { mx: 7, mi: MI.SINGLE, array: Float32Array },
    int8: { mx: 8, mi: MI.INT8, array: Int8Array },
    uint8: { mx: 9, mi: MI.UINT8, array: Uint8Array },
    int16: { mx: 10, mi: MI.INT16, array: Int16Array },
    uint16: { mx: 11, mi: MI.UINT16, array: Uint16Array },
    int32: { mx: 12, mi: MI.INT32, array: Int32Array },
    uint32: { mx: 13, mi: MI.UINT32, array: Uint32Array },
    int64: { mx: 14, mi: MI.DOUBLE, array: Float64Array },
    uint64: { mx: 15, mi: MI.DOUBLE, array: Float64Array },
  };

/** Index permutation between column-major (MATLAB) and row-major order: out[rowMajor] = in[colMajor]. */
function columnToRowMajor<U, O extends { [i: number]: U }>(
  input: ArrayLike<U>,
  dims: readonly number[],
  output: O,
  toRowMajor: boolean,
): O {
  const n = dims.reduce((a, b) => a * b, 1);
  if (dims.length <= 1 || dims.filter((d) => d > 1).length <= 1) {
    for (let i = 0; i < n; i++) output[i] = input[i];
    return output;
  }
  const nd = dims.length;
  const colStride = new Array(nd);
  const rowStride = new Array(nd);
  colStride[0] = 1;
  for (let k = 1; k < nd; k++) colStride[k] = colStride[k - 1] * dims[k - 1];
  rowStride[nd - 1] = 1;
  for (let k = nd - 2; k >= 0; k--) rowStride[k] = rowStride[k + 1] * dims[k + 1];
  const index = new Array(nd).fill(0);
  for (let r = 0; r < n; r++) {
    let c = 0;
    for (let k = 0; k < nd; k++) c += index[k] * colStride[k];
    if (toRowMajor) output[r] = input[c];
    else output[c] = input[r];
    for (let k = nd - 1; k >= 0; k--) {
      if (++index[k] < dims[k]) break;
      index[k] = 0;
    }
  }
  return output;
}

class Reader {
  private view: DataView;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string): never {
    throw new Error(`${this.name}: ${message}`);
  }

  /** The next data element's type, payload and the position after it (padding included). */
  element(): { type: number; data: Uint8Array } {
    if (this.pos + 8 > this.bytes.length)
      this.fail(`truncated MAT-file (data element tag at byte ${this.pos})`);
    const first = this.view.getUint32(this.pos, true);
    if (first >>> 16 !== 0) {
      // Small data element: type in the low 16 bits, size in the high 16 bits, data in the next 4 bytes.
      const size = first >>> 16;
      if (size > 4) this.fail(`corrupt small data element at byte ${this.pos}`);
      const data = this.bytes.subarray(this.pos + 4, this.pos + 4 + size);
      this.pos += 8;
      return { type: first & 0xffff, data };
    }
    const size = this.view.getUint32(this.pos + 4, true);
    const start = this.pos + 8;
    if (start + size > this.bytes.length)
      this.fail(`truncated MAT-file (element at byte ${this.pos} needs ${size} bytes)`);
    const data = this.bytes.subarray(start, start + size);
    // Compressed elements are not padded; all others are padded to 8 bytes.
    this.pos = first === MI.COMPRESSED ? start + size : start + Math.ceil(size / 8) * 8;
    return { type: first, data };
  }
}

function typedView(type: number, data: Uint8Array, where: Reader): ArrayLike<number> {
  const copy = new Uint8Array(data); // an aligned copy (Buffer.slice would be a view of its pool)
  const b = copy.buffer;
  switch (type) {
    case MI.INT8:
      return new Int8Array(b);
    case MI.UINT8:
    case MI.UTF8:
      return copy;
    case MI.INT16:
      return new Int16Array(b, 0, copy.length >> 1);
    case MI.UINT16:
    case MI.UTF16:
      return new Uint16Array(b, 0, copy.length >> 1);
    case MI.INT32:
      return new Int32Array(b, 0, copy.length >> 2);
    case MI.UINT32:
    case MI.UTF32:
      return new Uint32Array(b, 0, copy.length >> 2);
    case MI.SINGLE:
      return new Float32Array(b, 0, copy.length >> 2);
    case MI.DOUBLE:
      return new Float64Array(b, 0, copy.length >> 3);
    case MI.INT64:
      return Array.from(new BigInt64Array(b, 0, copy.length >> 3), Number);
    case MI.UINT64:
      return Array.from(new BigUint64Array(b, 0, copy.length >> 3), Number);
    default:
      return where.fail(`unsupported data type ${type}`);
  }
}

function parseMatrix(data: Uint8Array, r: Reader, path: string): { name: string; value: MatArray } {
  const sub = new Reader(data, r.name);
  if (data.length === 0)
    return { name: '', value: { type: 'numeric', class: 'double', dims: [0, 0], data: new Float64Array(0) } };
  const flags = sub.element();
  if (flags.type !== MI.UINT32 || flags.data.length < 8) sub.fail(`${path}: bad array flags`);
  const flagWord = new DataView(flags.data.buffer, flags.data.byteOffset, 8).getUint32(0, true);
  const cls = MX_CLASSES[flagWord & 0xff];
  const complex = (flagWord & 0x800) !== 0;
  const logical = (flagWord & 0x200) !== 0;
  const dimsEl = sub.element();
  const dims = Array.from(typedView(dimsEl.type, dimsEl.data, sub));
  const nameEl = sub.element();
  const name = new TextDecoder().decode(nameEl.data);
  const where = name ? `${path}${path ? '.' : ''}${name}` : path;
  const count = dims.reduce((a, b) => a * b, 1);
  if (cls === undefined || cls === 'object' || cls === 'sparse')
    sub.fail(`${where || 'variable'}: unsupported MATLAB class ${cls ?? flagWord & 0xff}`);
  if (complex) sub.fail(`${where}: complex arrays are not supported`);
  if (cls === 'char') {
    const el = count === 0 ? { type: MI.UINT16, data: new Uint8Array(0) } : sub.element();
    const codes = el.type === MI.UTF8 ? null : typedView(el.type, el.data, sub);
    const colMajor = codes ? String.fromCharCode(...Array.from(codes)) : new TextDecoder().decode(el.data);
    const chars = columnToRowMajor(Array.from(colMajor), dims, new Array(colMajor.length), true);
    return { name, value: { type: 'char', dims, text: chars.join('') } };
  }
  if (cls === 'cell') {
    const col: MatArray[] = [];
    for (let i = 0; i < count; i++) {
      const el = sub.element();
      if (el.type !== MI.MATRIX) sub.fail(`${where}: cell ${i} is not a matrix element`);
      col.push(parseMatrix(el.data, sub, `${where}{${i}}`).value);
    }
    return {
      name,
      value: { type: 'cell', dims, cells: columnToRowMajor(col, dims, new Array(count), true) },
    };
  }
  if (cls === 'struct') {
    const lenEl = sub.element();
    const fieldLength = typedView(lenEl.type, lenEl.data, sub)[0];
    const namesEl = sub.element();
    const fields: string[] = [];
    for (let off = 0; off + fieldLength <= namesEl.data.length; off += fieldLength) {
      const raw = namesEl.data.subarray(off, off + fieldLength);
      const end = raw.indexOf(0);
      fields.push(new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)));
    }
    const col: Record<string, MatArray>[] = [];
    for (let i = 0; i < count; i++) {
      const element: Record<string, MatArray> = {};
      for (const field of fields) {
        const el = sub.element();
        if (el.type !== MI.MATRIX) sub.fail(`${where}.${field}: not a matrix element`);
        element[field] = parseMatrix(el.data, sub, `${where}.${field}`).value;
      }
      col.push(element);
    }
    return {
      name,
      value: { type: 'struct', dims, fields, elements: columnToRowMajor(col, dims, new Array(count), true) },
    };
  }
  const numericClass = cls as MatNumericClass;
  const spec = NUMERIC[numericClass];
  const out = new spec.array(count);
  if (count > 0) {
    const el = sub.element();
    const values = typedView(el.type, el.data, sub);
    if (values.length !== count)
      sub.fail(`${where}: expected ${count} values for dims [${dims.join(', ')}], found ${values.length}`);
    columnToRowMajor(values, dims, out as { [i: number]: number }, true);
  }
  const value: MatNumeric = { type: 'numeric', class: numericClass, dims, data: out };
  if (logical) value.logical = true;
  return { name, value };
}

/**
 * Reads every variable of a MAT v5 file.
 *
 * @param name names the file in errors (a truncated or corrupt file throws naming it).
 * @returns variables by name; arrays in row-major order (see the module comment).
 * @example
 * const { LabelMap } = readMat(readFileSync('pascal-context/trainval/2008_000002.mat'), '2008_000002.mat');
 * // LabelMap: { type: 'numeric', class: 'uint16', dims: [H, W], data: Uint16Array [H·W] }
 */
export function readMat(bytes: Uint8Array, name = 'MAT-file'): Record<string, MatArray> {
  if (bytes.length < 128)
    throw new Error(`${name}: truncated MAT-file (${bytes.length} bytes, no 128-byte header)`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (!header.startsWith('MATLAB 5.0 MAT-file') && !header.startsWith('MATLAB 7'))
    throw new Error(`${name}: not a MATLAB 5 MAT-file (header '${header.slice(0, 20)}')`);
  if (bytes[126] !== 0x49 || bytes[127] !== 0x4d)
    throw new Error(
      `${name}: ${bytes[126] === 0x4d ? 'big-endian MAT-files are not supported' : 'bad endian indicator'}`,
    );
  if (header.includes('MATLAB 7.3') || (bytes[124] === 0 && bytes[125] === 2))
    throw new Error(`${name}: MAT v7.3 (HDF5) files are not supported`);
  const reader = new Reader(bytes, name);
  reader.pos = 128;
  const out: Record<string, MatArray> = {};
  while (reader.pos < bytes.length) {
    if (bytes.length - reader.pos < 8) reader.fail('truncated MAT-file (trailing bytes)');
    let el = reader.element();
    if (el.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(el.data);
      } catch (error) {
        return reader.fail(`corrupt or truncated compressed variable (${(error as Error).message})`);
      }
      const inner = new Reader(inflated, name);
      el = inner.element();
    }
    if (el.type !== MI.MATRIX) continue; // e.g. padding or unknown elements
    const { name: varName, value } = parseMatrix(el.data, reader, '');
    out[varName] = value;
  }
  return out;
}

/* ---------------------------------------------------------------- writing */

class Writer {
  chunks: Uint8Array[] = [];
  length = 0;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** One data element (tag + payload + padding to 8 bytes). */
function element(type: number, payload: Uint8Array): Uint8Array {
  const padded = Math.ceil(payload.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function matrixElement(name: string, value: MatArray, path: string): Uint8Array {
  const w = new Writer();
  const dims = value.dims;
  const count = dims.reduce((a, b) => a * b, 1);
  let mxClass: number;
  let flagsExtra = 0;
  if (value.type === 'numeric') {
    mxClass = NUMERIC[value.class].mx;
    if (value.class === 'int64' || value.class === 'uint64')
      throw new Error(`writeMat: ${path}: int64 / uint64 arrays are not supported for writing`);
    if (value.logical) flagsExtra = 0x200;
  } else mxClass = { char: 4, cell: 1, struct: 2 }[value.type];
  const flags = new Uint32Array([mxClass | flagsExtra, 0]);
  w.push(element(MI.UINT32, bytesOf(flags)));
  w.push(element(MI.INT32, bytesOf(Int32Array.from(dims))));
  w.push(element(MI.INT8, new TextEncoder().encode(name)));
  if (value.type === 'numeric') {
    if (value.data.length !== count)
      throw new Error(
        `writeMat: ${path}: ${value.data.length} values do not match dims [${dims.join(', ')}]`,
      );
    const spec = NUMERIC[value.class];
    const col = columnToRowMajor(value.data, dims, new spec.array(count), false);
    w.push(element(spec.mi, bytesOf(col)));
  } else if (value.type === 'char') {
    const chars = Array.from(value.text);
    if (chars.length !== count)
      throw new Error(`writeMat: ${path}: ${chars.length} characters do not match dims [${dims.join(', ')}]`);
    const col = columnToRowMajor(chars, dims, new Array(count), false);
    w.push(element(MI.UINT16, bytesOf(Uint16Array.from(col, (c) => c.charCodeAt(0)))));
  } else if (value.type === 'cell') {
    if (value.cells.length !== count) throw new Error(`writeMat: ${path}: cell count does not match dims`);
    const col = columnToRowMajor(value.cells, dims, new Array(count), false);
    col.forEach((c, i) => {
      w.push(matrixElement('', c, `${path}{${i}}`));
    });
  } else {
    if (value.elements.length !== count)
      throw new Error(`writeMat: ${path}: element count does not match dims`);
    const fieldLength = Math.max(1, ...value.fields.map((f) => f.length)) + 1;
    if (fieldLength > 64)
      throw new Error(`writeMat: ${path}: field names must be shorter than 64 characters`);
    const names = new Uint8Array(fieldLength * value.fields.length);
    value.fields.forEach((f, i) => {
      names.set(new TextEncoder().encode(f), i * fieldLength);
    });
    w.push(element(MI.INT32, bytesOf(Int32Array.from([fieldLength]))));
    w.push(element(MI.INT8, names));
    const col = columnToRowMajor(value.elements, dims, new Array(count), false);
    col.forEach((e, i) => {
      for (const f of value.fields) {
        if (!(f in e)) throw new Error(`writeMat: ${path}(${i}) lacks field '${f}'`);
        w.push(matrixElement('', e[f], `${path}(${i}).${f}`));
      }
    });
  }
  return element(MI.MATRIX, w.concat());
}

/**
 * Writes variables as a MAT v5 file (what MATLAB's `save -v7` and `scipy.io.savemat` write; readable
 * by both). Arrays are given in row-major order.
 *
 * @param compress wrap each variable in a zlib `miCOMPRESSED` element (MATLAB's default); default true.
 * @example
 * writeFileSync('x.mat', writeMat({ LabelMap: matNumeric(Uint16Array.from(labels), [H, W]) }));
 */
export function writeMat(
  variables: Record<string, MatArray>,
  options: { compress?: boolean } = {},
): Uint8Array {
  const compress = options.compress ?? true;
  const w = new Writer();
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by @cvm/datasets'));
  header.fill(0, 116, 124); // subsystem data offset: none
  header.set([0x00, 0x01, 0x49, 0x4d], 124); // version 0x0100, 'IM' (little-endian)
  w.push(header);
  for (const [name, value] of Object.entries(variables)) {
    if (!/^[A-Za-z]\w*$/.test(name))
      throw new Error(`writeMat: '${name}' is not a valid MATLAB variable name`);
    const matrix = matrixElement(name, value, name);
    if (!compress) {
      w.push(matrix);
      continue;
    }
    const z = deflateSync(matrix);
    const tag = new Uint8Array(8);
    new DataView(tag.buffer).setUint32(0, MI.COMPRESSED, true);
    new DataView(tag.buffer).setUint32(4, z.length, true);
    w.push(tag);
    w.push(z);
  }
  return w.concat();
}

/* ------------------------------------------------------------- builders */

const CLASS_OF = new Map<unknown, MatNumericClass>([
  [Float64Array, 'double'],
  [Float32Array, 'single'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
]);

/**
 * A numeric array (class from the typed array) with row-major `data`. @example matNumeric(Float64Array.of(15), [1, 1])
 */
export function matNumeric(
  data: MatNumericData,
  dims: number[],
  options: { logical?: boolean } = {},
): MatNumeric {
  const cls = CLASS_OF.get(data.constructor);
  if (!cls) throw new Error('matNumeric: unsupported typed array');
  const value: MatNumeric = { type: 'numeric', class: cls, dims, data };
  if (options.logical) value.logical = true;
  return value;
}

/** A 1×N char array. @example matChar('person') */
export function matChar(text: string): MatChar {
  return { type: 'char', dims: [text.length === 0 ? 0 : 1, text.length], text };
}

/** A 1×N struct array with the given fields (in order). @example matStruct(['part_name', 'mask'], [{ part_name: matChar('head'), mask }]) */
export function matStruct(fields: string[], elements: Record<string, MatArray>[]): MatStruct {
  return { type: 'struct', dims: [elements.length === 0 ? 0 : 1, elements.length], fields, elements };
}

/** A field of a struct element by name, or by position (the reference loaders index struct fields by position). */
export function matField(value: MatArray, field: string | number, element = 0, file = 'MAT-file'): MatArray {
  if (value.type !== 'struct') throw new Error(`${file}: expected a struct, found ${value.type}`);
  const name = typeof field === 'number' ? value.fields[field] : field;
  if (name === undefined || !value.fields.includes(name))
    throw new Error(`${file}: struct has no field ${typeof field === 'number' ? `#${field}` : `'${field}'`}`);
  if (element >= value.elements.length) throw new Error(`${file}: struct has no element ${element}`);
  return value.elements[element][name];
}
