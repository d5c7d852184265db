/**
 * The computation the browser test runs in Chromium and in Node: a strided convolution and a
 * transposed matMul on deterministic inputs (no RNG, so both sides build the same values).
 */
import * as tf from '@tensorflow/tfjs-core';

function values(n: number, phase: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + phase));
}

/** Outputs of conv2d ([2,9,11,6] by [3,3,6,8], stride 2, same) and matMul (aᵀ·b, [40,30]ᵀ·[40,20]). */
export async function smallCase(): Promise<{ conv: number[]; matMul: number[] }> {
  const [conv, matMul] = tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 9 * 11 * 6, 0), [2, 9, 11, 6]);
    const w = tf.tensor4d(values(3 * 3 * 6 * 8, 1), [3, 3, 6, 8]);
    const a = tf.tensor2d(values(40 * 30, 2), [40, 30]);
    const b = tf.tensor2d(values(40 * 20, 3), [40, 20]);
    return [tf.conv2d(x, w, 2, 'same'), tf.matMul(a, b, true, false)];
  });
  const out = {
    conv: Array.from(await conv!.data()) as number[],
    matMul: Array.from(await matMul!.data()) as number[],
  };
  tf.dispose([conv!, matMul!]);
  return out;
}
