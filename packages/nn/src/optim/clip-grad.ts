import * as tf from '@tensorflow/tfjs-core';

/** What `clipGradNorm` returns: the (possibly scaled) gradients and the norm before clipping. */
export interface ClippedGradients<G> {
  /** New tensors, same keys / order as the input (owned by the caller). */
  grads: G;
  /** Global L2 norm of all input gradients, before clipping (a scalar tensor, owned by the caller). */
  totalNorm: tf.Scalar;
}

/**
 * `torch.nn.utils.clip_grad_norm_(params, maxNorm)` (norm type 2) on gradients held apart from the
 * parameters, as tfjs returns them: the global norm `n = ‖concat(all grads)‖₂`, and every gradient
 * multiplied by `min(1, maxNorm / (n + 1e-6))`. The inputs are not disposed.
 * @param grads a record (e.g. `tf.variableGrads(...).grads`) or an array of gradients
 * @param maxNorm the largest allowed global norm (> 0)
 * @example
 * const { grads, totalNorm } = clipGradNorm(tf.variableGrads(loss).grads, 10);
 */
export function clipGradNorm<G extends Record<string, tf.Tensor> | tf.Tensor[]>(
  grads: G,
  maxNorm: number,
): ClippedGradients<G> {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipGradNorm: maxNorm must be a positive finite number, got ${maxNorm}`);
  }
  const entries: [string, tf.Tensor][] = Array.isArray(grads)
    ? grads.map((g, i) => [String(i), g])
    : Object.entries(grads);
  return tf.tidy(() => {
    // Each square in its own scope: held to the end of this one, they would double the gradients' memory.
    const squares = entries.map(([, g]) => tf.tidy(() => tf.sum(tf.square(g))));
    const totalNorm = (squares.length ? tf.sqrt(tf.addN(squares)) : tf.scalar(0)) as tf.Scalar;
    const coef = tf.minimum(tf.div(maxNorm, tf.add(totalNorm, 1e-6)), 1);
    const scaled = entries.map(([k, g]) => [k, tf.mul(g, coef)] as const);
    const out = Array.isArray(grads) ? scaled.map(([, g]) => g) : Object.fromEntries(scaled);
    return { grads: out as G, totalNorm };
  });
}
