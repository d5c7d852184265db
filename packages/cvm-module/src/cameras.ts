import {
  checkIntrinsics,
  checkPoses,
  invertPoseData,
  type MatrixBatch,
  type MatrixInput,
  multiply4x4,
  scaleIntrinsics,
} from '@cvm/geometry';

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
 * Plain `K[:2] /= stride` (geometry's `'strided'` scaling): exact for the spatial encoder, whose
 * feature i is centred on input pixel `stride·i` (7×7/2 pad 3 stem, then two stride-2 stages).
 */
function toFeatureResolution(k: Float64Array, stride: number): Float64Array {
  const scaled = scaleIntrinsics(k, stride, { scaling: 'strided' });
  // A tensor just made from host values: read back without a device sync on every backend.
  const data = Float64Array.from(scaled.dataSync());
  scaled.dispose();
  return data;
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
      return toFeatureResolution(perBatch(checkIntrinsics(k, name), batch, name), stride);
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

/** `T_nbr<-ref = inv(c2w_nbr)·c2w_ref` for every batch item: `[B·16]` row-major. */
export function relativePoses(c2wRef: Float64Array, c2wNbr: Float64Array): Float64Array {
  const out = new Float64Array(c2wRef.length);
  for (let o = 0; o < out.length; o += 16) {
    out.set(multiply4x4(invertPoseData(c2wNbr.subarray(o, o + 16)), c2wRef.subarray(o, o + 16)), o);
  }
  return out;
}
