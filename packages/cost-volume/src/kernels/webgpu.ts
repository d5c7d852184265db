import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { COST_VOLUME, COST_VOLUME_GRAD } from '../kernel-names.js';
import { costVolumeProgram } from './webgpu/cost-volume-program.js';
import {
  costVolumeGradNeighbourProgram,
  costVolumeGradReferenceProgram,
  costVolumeRunsProgram,
} from './webgpu/cost-volume-grad-programs.js';
import { zeros } from '@cvm/geometry/webgpu';
import { type CostVolumeSizes, sizeUniforms } from './webgpu/sampling.js';

/**
 * WebGPU kernels of the plane-sweep cost volume, registered for backend `webgpu` on import:
 *
 * - `CvmCostVolume`: `{reference [B,H,W,C], neighbour [B,H,W,C], projection [B,12], inverseDepths [B,L]}`
 *   → `[B,H,W,L]`, out[b,y,x,l] = (1/√C)·Σ_c reference[b,y,x,c]·bilinear(neighbour[b], u, v)[c] with
 *   zero padding, where (u, v) projects pixel (x, y) at depth 1/inverseDepths[b,l] through
 *   `projection[b] = [A (3×3 row-major), t (3)]`: P = d·A·[x,y,1] + t, (u,v) = P_xy / max(P_z, 1e-3).
 * - `CvmCostVolumeGrad`: `{dy [B,H,W,L], reference, neighbour, projection, inverseDepths}`
 *   → `[dReference [B,H,W,C], dNeighbour [B,H,W,C]]`.
 *
 * Forward: one invocation per pixel and block of candidates, reusing the four tap dot products while
 * consecutive candidates sample the same 2×2 taps. Backward: a per-pixel table of merged taps
 * (weights·dy/√C), then a gather for dReference and a float-atomic scatter for dNeighbour (summation
 * order not deterministic, a few ulp). Features are read as vec4 when C % 4 == 0. Importing this module
 * needs no runtime code from `@tensorflow/tfjs-backend-webgpu`; the kernels run once that backend is active.
 *
 * @example
 * import './kernels/webgpu.js'; // side effect: registers the kernels
 * await tf.setBackend('webgpu');
 * const volume = tf.engine().runKernel('CvmCostVolume', { reference, neighbour, projection, inverseDepths }, {});
 */

const BACKEND = 'webgpu';

function sizesOf(reference: tf.TensorInfo, inverseDepths: tf.TensorInfo): CostVolumeSizes {
  const [batch, height, width, channels] = reference.shape;
  return { batch, height, width, channels, depths: inverseDepths.shape[1] };
}

/** Inputs are float32 TensorInfos; checks here are a backstop, the op validates shapes with clear names. */
function checkInputs(
  kernel: string,
  reference: tf.TensorInfo,
  neighbour: tf.TensorInfo,
  projection: tf.TensorInfo,
  inverseDepths: tf.TensorInfo,
) {
  const same = reference.shape.length === 4 && tf.util.arraysEqual(reference.shape, neighbour.shape);
  const [batch] = reference.shape;
  if (
    !same ||
    !tf.util.arraysEqual(projection.shape, [batch, 12]) ||
    inverseDepths.shape.length !== 2 ||
    inverseDepths.shape[0] !== batch
  ) {
    throw new Error(
      `${kernel}: expected reference/neighbour [B,H,W,C], projection [B,12], inverseDepths [B,L]; got ` +
        `${JSON.stringify([reference.shape, neighbour.shape, projection.shape, inverseDepths.shape])}`,
    );
  }
}

interface CostVolumeInputs {
  reference: tf.TensorInfo;
  neighbour: tf.TensorInfo;
  projection: tf.TensorInfo;
  inverseDepths: tf.TensorInfo;
}

interface KernelArgs<I> {
  inputs: I;
  backend: unknown;
}

function costVolumeWebGPU({ inputs, backend }: KernelArgs<CostVolumeInputs>): tf.TensorInfo {
  const { reference, neighbour, projection, inverseDepths } = inputs;
  checkInputs(COST_VOLUME, reference, neighbour, projection, inverseDepths);
  const gpu = backend as WebGPUBackend;
  const sizes = sizesOf(reference, inverseDepths);
  const program = costVolumeProgram(sizes, sizes.channels % 4 === 0);
  const features = [reference, neighbour, projection, inverseDepths];
  return gpu.runWebGPUProgram(program, features, 'float32', sizeUniforms(program, sizes));
}

function costVolumeGradWebGPU({
  inputs,
  backend,
}: KernelArgs<CostVolumeInputs & { dy: tf.TensorInfo }>): tf.TensorInfo[] {
  const { dy, reference, neighbour, projection, inverseDepths } = inputs;
  checkInputs(COST_VOLUME_GRAD, reference, neighbour, projection, inverseDepths);
  const gpu = backend as WebGPUBackend;
  const sizes = sizesOf(reference, inverseDepths);
  const { batch, height, width, channels, depths } = sizes;
  if (!tf.util.arraysEqual(dy.shape, [batch, height, width, depths])) {
    const expected = JSON.stringify([batch, height, width, depths]);
    throw new Error(`${COST_VOLUME_GRAD}: expected dy ${expected}, got ${JSON.stringify(dy.shape)}`);
  }
  const vec4 = channels % 4 === 0;

  const runsProgram = costVolumeRunsProgram(sizes);
  const runs = gpu.runWebGPUProgram(
    runsProgram,
    [dy, projection, inverseDepths],
    'float32',
    sizeUniforms(runsProgram, sizes),
  );

  const gatherProgram = costVolumeGradReferenceProgram(sizes, vec4);
  const dReference = gpu.runWebGPUProgram(
    gatherProgram,
    [runs, neighbour],
    'float32',
    sizeUniforms(gatherProgram, sizes),
  );

  const dNeighbour = zeros(gpu, reference.shape);
  const scatterProgram = costVolumeGradNeighbourProgram(sizes, vec4);
  gpu.runWebGPUProgram(
    scatterProgram,
    [runs, reference],
    'float32',
    sizeUniforms(scatterProgram, sizes),
    dNeighbour,
  );

  gpu.disposeData(runs.dataId);
  return [dReference, dNeighbour];
}

tf.registerKernel({
  kernelName: COST_VOLUME,
  backendName: BACKEND,
  kernelFunc: costVolumeWebGPU as unknown as tf.KernelFunc,
});
tf.registerKernel({
  kernelName: COST_VOLUME_GRAD,
  backendName: BACKEND,
  kernelFunc: costVolumeGradWebGPU as unknown as tf.KernelFunc,
});
