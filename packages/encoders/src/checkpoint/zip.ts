// A reader for the zip container of `torch.save` (PyTorch ≥ 1.6): stored (uncompressed) entries,
// found through the central directory, with ZIP64 sizes and offsets. Every offset is bounds-checked so
// truncated or corrupted files give a clear error instead of garbage.

/** One file of the archive: its name and its bytes (a view into the archive). */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

function fail(message: string): never {
  throw new Error(`zip: ${message}`);
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Whether `bytes` starts like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

function u64(view: DataView, at: number): number {
  const v = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(v)) fail('a 64-bit size or offset is too large');
  return v;
}

/**
 * Lists the entries of a zip archive held in memory (stored entries only, which is what `torch.save`
 * writes). Throws `zip: ...` errors for truncated or corrupted archives and for compressed entries.
 * @returns entries in central-directory order
 */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  if (n < 22) fail(`file is ${n} bytes, too short for a zip archive (truncated?)`);
  // The end-of-central-directory record sits in the last 22 + 65535 bytes (after an optional comment).
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD && i + 22 + view.getUint16(i + 20, true) === n) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (truncated or not a zip file)');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== EOCD64_LOCATOR)
      fail('ZIP64 locator missing (corrupt file?)');
    const at = u64(view, loc + 8);
    if (at + 56 > n || view.getUint32(at, true) !== EOCD64) fail('ZIP64 end record missing (corrupt file?)');
    count = u64(view, at + 32);
    cdSize = u64(view, at + 40);
    cdOffset = u64(view, at + 48);
  }
  if (cdOffset + cdSize > n)
    fail(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the ${n}-byte file`);
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  const decoder = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (p + 46 > n || view.getUint32(p, true) !== CENTRAL) fail(`central directory entry ${k} is corrupt`);
    const method = view.getUint16(p + 10, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > n) fail(`central directory entry ${k} runs past the file`);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: the 0xffffffff fields, in order size, compressed, local offset.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const take = () => {
          if (q + 8 > e + 4 + len) fail(`ZIP64 field of '${name}' is too short`);
          const v = u64(view, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressed === 0xffffffff) compressed = take();
        if (local === 0xffffffff) local = take();
      }
      e += 4 + len;
    }
    if (method !== 0)
      fail(
        `entry '${name}' uses compression method ${method}; only stored entries (torch.save) are supported`,
      );
    if (compressed !== size)
      fail(`entry '${name}' is stored with mismatched sizes ${compressed} / ${size} (corrupt file?)`);
    if (local + 30 > n || view.getUint32(local, true) !== LOCAL)
      fail(`local header of '${name}' is missing (corrupt file?)`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + size > n) fail(`entry '${name}' runs past the end of the file (truncated?)`);
    entries.push({ name, data: bytes.subarray(start, start + size) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
