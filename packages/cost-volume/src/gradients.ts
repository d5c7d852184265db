import * as tf from '@tensorflow/tfjs-core';
import { COST_VOLUME, COST_VOLUME_GRAD } from './kernel-names.js';

/**
 * Gradient of `CvmCostVolume`, for every backend that has the `CvmCostVolumeGrad` kernel. The two-output
 * backward kernel runs eagerly here (tfjs runs each input's closure in its own tidy). Cameras and depths
 * get zeros: the references compute the warp under no_grad.
 */
tf.registerGradient({
  kernelName: COST_VOLUME,
  inputsToSave: ['reference', 'neighbour', 'projection', 'inverseDepths'],
  gradFunc: (dy, saved) => {
    const [reference, neighbour, projection, inverseDepths] = saved;
    const [dReference, dNeighbour] = tf
      .engine()
      .runKernel(COST_VOLUME_GRAD, { dy: dy as tf.Tensor, reference, neighbour, projection, inverseDepths }) as tf.Tensor[];
    return {
      reference: () => dReference,
      neighbour: () => dNeighbour,
      projection: () => tf.zerosLike(projection),
      inverseDepths: () => tf.zerosLike(inverseDepths),
    };
  },
});
