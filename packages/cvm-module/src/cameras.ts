import { checkIntrinsics, checkPoses, type MatrixBatch, type MatrixInput } from '@cvm/geometry';

/** Cameras of the views given to `CrossViewModule`, in input-image pixels and OpenCV axes. */
export interface CvmCameras {
  /** One pinhole intrinsics matrix per view (`[3,3]` or `[B,3,3]`), at the input image's resolution. */
  intrinsics: readonly MatrixInput[];
  /** One camera-to-world pose per view (`[4,4]` or `[B,4,4]`). */
  cameraToWorld: readonly MatrixInput[];
}

/** Cameras read to the CPU, at feature resolution: row-major `[B·9]` intrinsics and `[B·16]` poses per view. */
export interface FeatureCameras {
  intrinsics: Float64Array[];
  cameraToWorld: Float64Array[];
}

function perBatch(m: MatrixBatch, batch: number, name: string): Float64Array {
  const per = m.rows * m.cols;
  if (m.batch !== null && m.batch !== batch) {
    throw new Error(`${name}: batch size ${m.batch} does not match the images' (${batch})`);
  }
  const out = new Float64Array(batch * per);
  for (let b = 0; b < batch; b++)
    out.set(m.data.subarray(m.batch === null ? 0 : b * per, (m.batch === null ? 0 : b * per) + per), b * per);
  return out;
}

/**
 * Validates the cameras of `views` views and scales the intrinsics to feature resolution the way the
 * references do (`K[:2] /= stride`, no half-pixel correction, see the cost-volume reference §1).
 */
export function readCameras(
  cameras: CvmCameras | null | undefined,
  views: number,
  batch: number,
  stride: number,
): FeatureCameras {
  if (cameras == null || typeof cameras !== 'object') {
    throw new Error(
      `cameras: required for ${views} views ({intrinsics: [...], cameraToWorld: [...]}, one per view)`,
    );
  }
  const { intrinsics, cameraToWorld } = cameras;
  if (!Array.isArray(intrinsics))
    throw new Error('cameras.intrinsics: expected an array with one matrix per view');
  if (!Array.isArray(cameraToWorld))
    throw new Error('cameras.cameraToWorld: expected an array with one pose per view');
  if (intrinsics.length !== views) {
    throw new Error(`cameras.intrinsics: ${intrinsics.length} matrices for ${views} views (one per view)`);
  }
  if (cameraToWorld.length !== views) {
    throw new Error(`cameras.cameraToWorld: ${cameraToWorld.length} poses for ${views} views (one per view)`);
  }
  return {
    intrinsics: intrinsics.map((k, v) => {
      const name = `cameras.intrinsics[${v}]`;
      const data = perBatch(checkIntrinsics(k, name), batch, name);
      for (let b = 0; b < batch; b++) for (let i = 0; i < 6; i++) data[b * 9 + i] /= stride;
      return data;
    }),
    cameraToWorld: cameraToWorld.map((p, v) => {
      const name = `cameras.cameraToWorld[${v}]`;
      return perBatch(checkPoses(p, name), batch, name);
    }),
  };
}

/** Identity intrinsics and poses for `views` views (the paper's single-view setting). */
export function identityCameras(views: number, batch: number): FeatureCameras {
  const k = new Float64Array(batch * 9);
  const p = new Float64Array(batch * 16);
  for (let b = 0; b < batch; b++) {
    k[b * 9] = k[b * 9 + 4] = k[b * 9 + 8] = 1;
    p[b * 16] = p[b * 16 + 5] = p[b * 16 + 10] = p[b * 16 + 15] = 1;
  }
  return {
    intrinsics: Array.from({ length: views }, () => k),
    cameraToWorld: Array.from({ length: views }, () => p),
  };
}

/** Inverse of an affine 4×4 (`[A t; 0 1]`), row-major. */
function invertAffine(p: ArrayLike<number>): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = [p[0], p[1], p[2], p[4], p[5], p[6], p[8], p[9], p[10]];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  // biome-ignore format: a 3×3 matrix
  const r = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
  const out = new Float64Array(16);
  for (let row = 0; row < 3; row++) {
    out[row * 4] = r[row * 3];
    out[row * 4 + 1] = r[row * 3 + 1];
    out[row * 4 + 2] = r[row * 3 + 2];
    out[row * 4 + 3] = -(r[row * 3] * p[3] + r[row * 3 + 1] * p[7] + r[row * 3 + 2] * p[11]);
  }
  out[15] = 1;
  return out;
}

/** `T_nbr<-ref = inv(c2w_nbr)·c2w_ref` for every batch item: `[B·16]` row-major. */
export function relativePoses(c2wRef: Float64Array, c2wNbr: Float64Array): Float64Array {
  const out = new Float64Array(c2wRef.length);
  for (let o = 0; o < out.length; o += 16) {
    const inv = invertAffine(c2wNbr.subarray(o, o + 16));
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += inv[i * 4 + k] * c2wRef[o + k * 4 + j];
        out[o + i * 4 + j] = s;
      }
    }
  }
  return out;
}
