/**
 * Gradient of the `CvmGridSample` kernel (registered on import): runs the backend's
 * `CvmGridSampleGrad` kernel, which yields dx and dgrid in one pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GRID_SAMPLE, GRID_SAMPLE_GRAD } from './kernel-names.js';

tf.registerGradient({
  kernelName: GRID_SAMPLE,
  inputsToSave: ['x', 'grid'],
  gradFunc: (dy, saved, attrs) => {
    const [x, grid] = saved;
    // Eagerly, here: tfjs runs each input's closure in its own tidy, so a two-output kernel computed
    // lazily inside the first closure would be disposed before the second reads it.
    const [dx, dgrid] = tf
      .engine()
      .runKernel(GRID_SAMPLE_GRAD, { dy: dy as tf.Tensor, x, grid }, attrs) as tf.Tensor[];
    return { x: () => dx, grid: () => dgrid };
  },
});
