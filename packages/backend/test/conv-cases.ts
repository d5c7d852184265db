/** Convolutions the conv-gradient kernel tests run: strides 1–4, same/valid/explicit padding, batch 1–2. */
export interface ConvCase {
  /** Input shape [B,H,W,Ci]. */
  x: number[];
  /** Filter height and width. */
  k: [number, number];
  /** Output channels. */
  co: number;
  s: [number, number];
  pad: 'same' | 'valid' | number;
}

export const CONV_CASES: readonly ConvCase[] = [
  { x: [1, 7, 9, 3], k: [3, 3], co: 4, s: [1, 1], pad: 'same' },
  { x: [2, 8, 10, 3], k: [3, 3], co: 5, s: [2, 2], pad: 'same' },
  { x: [2, 9, 11, 2], k: [3, 2], co: 3, s: [2, 1], pad: 'valid' },
  { x: [1, 13, 12, 4], k: [7, 7], co: 6, s: [2, 2], pad: 3 },
  { x: [2, 10, 9, 3], k: [1, 1], co: 4, s: [2, 2], pad: 'valid' },
  { x: [1, 12, 12, 2], k: [4, 4], co: 3, s: [4, 4], pad: 'valid' },
  { x: [2, 11, 7, 3], k: [5, 3], co: 2, s: [3, 2], pad: 'same' },
  { x: [1, 6, 6, 5], k: [2, 2], co: 4, s: [1, 1], pad: 1 },
  // 16+ channels at stride 1: the wasm filter gradient's per-tap route.
  { x: [2, 9, 11, 16], k: [3, 3], co: 24, s: [1, 1], pad: 'same' },
  { x: [1, 8, 10, 20], k: [3, 3], co: 16, s: [1, 1], pad: 'valid' },
  { x: [1, 9, 7, 16], k: [5, 5], co: 16, s: [1, 1], pad: 2 },
  { x: [2, 6, 5, 16], k: [1, 1], co: 17, s: [1, 1], pad: 'valid' },
];
