import * as tf from '@tensorflow/tfjs-core';
import { COST_VOLUME, COST_VOLUME_GRAD } from '../kernel-names.js';
import { type CostVolumeSizes, costVolumeCpu, costVolumeGradCpu } from './cpu-impl.js';

/**
 * cpu kernels of the plane-sweep cost volume (contracts in `kernel-names.ts`), registered on import.
 * Only the structural part of `MathBackendCPU` that they use is typed here, so nothing is imported at
 * runtime from `@tensorflow/tfjs-backend-cpu`.
 */
interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function valuesOf(backend: CpuBackendLike, t: tf.TensorInfo, name: string): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (t.dtype !== 'float32' || !(values instanceof Float32Array)) {
    throw new Error(`${COST_VOLUME} (cpu): ${name} must be float32, got ${t.dtype}`);
  }
  return values;
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t == null) throw new Error(`${COST_VOLUME} (cpu): missing input '${name}'`);
  return t;
}

function sizesOf(inputs: tf.NamedTensorInfoMap): CostVolumeSizes {
  const [reference, neighbour, projection, inverseDepths] = ['reference', 'neighbour', 'projection', 'inverseDepths'].map(
    (name) => input(inputs, name),
  );
  const [batch, height, width, channels] = reference.shape;
  const ok =
    reference.shape.length === 4 &&
    tf.util.arraysEqual(neighbour.shape, reference.shape) &&
    tf.util.arraysEqual(projection.shape, [batch, 12]) &&
    inverseDepths.shape.length === 2 &&
    inverseDepths.shape[0] === batch;
  if (!ok) {
    throw new Error(
      `${COST_VOLUME} (cpu): expected reference/neighbour [B,H,W,C], projection [B,12], inverseDepths [B,L]; got ` +
        `[${reference.shape}], [${neighbour.shape}], [${projection.shape}], [${inverseDepths.shape}]`,
    );
  }
  return { batch, height, width, channels, depths: inverseDepths.shape[1] };
}

tf.registerKernel({
  kernelName: COST_VOLUME,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend }) => {
    const cpu = backend as CpuBackendLike;
    const sizes = sizesOf(inputs);
    const out = costVolumeCpu(
      valuesOf(cpu, input(inputs, 'reference'), 'reference'),
      valuesOf(cpu, input(inputs, 'neighbour'), 'neighbour'),
      valuesOf(cpu, input(inputs, 'projection'), 'projection'),
      valuesOf(cpu, input(inputs, 'inverseDepths'), 'inverseDepths'),
      sizes,
    );
    const { batch, height, width, depths } = sizes;
    return cpu.makeTensorInfo([batch, height, width, depths], 'float32', out);
  },
});

tf.registerKernel({
  kernelName: COST_VOLUME_GRAD,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend }) => {
    const cpu = backend as CpuBackendLike;
    const sizes = sizesOf(inputs);
    const { batch, height, width, depths } = sizes;
    if (!tf.util.arraysEqual(input(inputs, 'dy').shape, [batch, height, width, depths])) {
      throw new Error(`${COST_VOLUME_GRAD} (cpu): dy must be [${[batch, height, width, depths]}], got [${input(inputs, 'dy').shape}]`);
    }
    const { dReference, dNeighbour } = costVolumeGradCpu(
      valuesOf(cpu, input(inputs, 'dy'), 'dy'),
      valuesOf(cpu, input(inputs, 'reference'), 'reference'),
      valuesOf(cpu, input(inputs, 'neighbour'), 'neighbour'),
      valuesOf(cpu, input(inputs, 'projection'), 'projection'),
      valuesOf(cpu, input(inputs, 'inverseDepths'), 'inverseDepths'),
      sizes,
    );
    const shape = input(inputs, 'reference').shape;
    return [
      cpu.makeTensorInfo(shape, 'float32', dReference),
      cpu.makeTensorInfo(shape, 'float32', dNeighbour),
    ];
  },
});
