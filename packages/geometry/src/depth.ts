import * as tf from '@tensorflow/tfjs-core';
import { checkIntrinsics, invertIntrinsicsData } from './camera.js';
import { type MatrixInput, commonBatch, matrixAt } from './matrix-input.js';
import { noGrad } from './no-grad.js';

function checkDepth(depth: tf.Tensor, name = 'depth'): [number, number, number] {
  if (!(depth instanceof tf.Tensor)) throw new Error(`${name}: expected a tf.Tensor [B,H,W,1]`);
  const shape = depth.shape as number[];
  if (depth.rank !== 4 || depth.shape[3] !== 1) {
    throw new Error(`${name}: expected [B,H,W,1], got [${depth.shape.join(',')}]`);
  }
  if (depth.dtype !== 'float32') throw new Error(`${name}: expected float32, got ${depth.dtype}`);
  return [shape[0], shape[1], shape[2]];
}

/** Per batch item, the rows of K⁻¹ as a [B,1,1,9] tensor (broadcasts over pixels). */
function inverseIntrinsicsTensor(intrinsics: MatrixInput, batch: number): tf.Tensor4D {
  const k = checkIntrinsics(intrinsics);
  commonBatch([['intrinsics', k.batch]], batch);
  const data = new Float32Array(batch * 9);
  for (let b = 0; b < batch; b++) data.set(invertIntrinsicsData(matrixAt(k, b)), b * 9);
  return tf.tensor4d(data, [batch, 1, 1, 9]);
}

/**
 * Back-projects a depth map into camera-frame 3D points: `X = z · K⁻¹ [x, y, 1]ᵀ` (OpenCV axes,
 * pixel (x, y) at integer centres). Differentiable w.r.t. depth.
 * @param depth `[B,H,W,1]` z-depth (0 = invalid gives the point 0)
 * @param intrinsics `[3,3]` or `[B,3,3]` at the depth map's resolution
 * @returns `[B,H,W,3]`
 * @example depthToPoints(depth, [[500, 0, 320], [0, 500, 240], [0, 0, 1]])
 */
export function depthToPoints(depth: tf.Tensor, intrinsics: MatrixInput): tf.Tensor4D {
  const [batch, height, width] = checkDepth(depth);
  const kInv = inverseIntrinsicsTensor(intrinsics, batch);
  const out = tf.tidy(() => {
    const xs = tf.reshape(tf.range(0, width, 1, 'float32'), [1, 1, width, 1]);
    const ys = tf.reshape(tf.range(0, height, 1, 'float32'), [1, height, 1, 1]);
    const k = tf.split(kInv, 9, 3);
    const rays = [0, 1, 2].map((r) =>
      tf.add(tf.add(tf.mul(k[3 * r], xs), tf.mul(k[3 * r + 1], ys)), k[3 * r + 2]),
    );
    return tf.mul(tf.concat(rays, 3), depth) as tf.Tensor4D;
  });
  kInv.dispose();
  return out;
}

/**
 * Surface normals from a depth map: the cross product of the image-space derivatives of the
 * back-projected points (central differences, one-sided at the border), normalised. Normals face the
 * camera (a fronto-parallel plane gives (0, 0, −1)). Pixels whose 3×3 neighbourhood has an invalid
 * depth (≤ 0 or non-finite) get the zero vector. Differentiable w.r.t. depth.
 * @param depth `[B,H,W,1]` z-depth, H and W ≥ 2
 * @param intrinsics `[3,3]` or `[B,3,3]`
 * @returns `[B,H,W,3]` unit normals in the camera frame (0 where invalid)
 * @example depthToNormals(depth, K)
 */
export function depthToNormals(depth: tf.Tensor, intrinsics: MatrixInput): tf.Tensor4D {
  const [, height, width] = checkDepth(depth);
  if (height < 2 || width < 2) throw new Error(`depth: need H, W >= 2 for normals, got ${height}x${width}`);
  // Invalid depths (<= 0, NaN, inf) become 0 first, so no NaN reaches the points or the gradient.
  const usable = noGrad(() => tf.cast(tf.logicalAnd(tf.greater(depth, 0), tf.isFinite(depth)), 'float32'));
  const cleanDepth = tf.tidy(() => tf.where(tf.cast(usable, 'bool'), depth, tf.zerosLike(depth)));
  const points = depthToPoints(cleanDepth, intrinsics);
  const out = tf.tidy(() => {
    // Replicate-pad by one pixel, then (next - previous)/2; at the border this is a one-sided half step,
    // which only scales the derivative and so leaves the normalised cross product unchanged.
    const padded = tf.concat(
      [
        tf.slice(points, [0, 0, 0, 0], [-1, 1, -1, -1]),
        points,
        tf.slice(points, [0, height - 1, 0, 0], [-1, 1, -1, -1]),
      ],
      1,
    );
    const pad2 = tf.concat(
      [
        tf.slice(padded, [0, 0, 0, 0], [-1, -1, 1, -1]),
        padded,
        tf.slice(padded, [0, 0, width - 1, 0], [-1, -1, 1, -1]),
      ],
      2,
    );
    const du = tf.sub(
      tf.slice(pad2, [0, 1, 2, 0], [-1, height, width, -1]),
      tf.slice(pad2, [0, 1, 0, 0], [-1, height, width, -1]),
    );
    const dv = tf.sub(
      tf.slice(pad2, [0, 2, 1, 0], [-1, height, width, -1]),
      tf.slice(pad2, [0, 0, 1, 0], [-1, height, width, -1]),
    );
    const [ax, ay, az] = tf.split(dv, 3, 3);
    const [bx, by, bz] = tf.split(du, 3, 3);
    // n = dv × du: for a plane facing the camera, du ≈ +x and dv ≈ +y, so n ≈ −z (towards the camera).
    const n = tf.concat(
      [
        tf.sub(tf.mul(ay, bz), tf.mul(az, by)),
        tf.sub(tf.mul(az, bx), tf.mul(ax, bz)),
        tf.sub(tf.mul(ax, by), tf.mul(ay, bx)),
      ],
      3,
    );
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(n), 3, true), 1e-20));
    // Valid only if all of the 3x3 neighbourhood has positive finite depth.
    const validNear = noGrad(() =>
      tf.cast(tf.equal(tf.maxPool(tf.sub(1, usable) as tf.Tensor4D, 3, 1, 'same'), 0), 'float32'),
    );
    const safe = tf.mul(tf.div(n, norm), validNear);
    return safe as tf.Tensor4D;
  });
  tf.dispose([points, usable, cleanDepth]);
  return out;
}
