import * as tf from '@tensorflow/tfjs-core';

/** The label value every loss ignores (the protocol's `ignore_index`). */
export const IGNORE_INDEX = 255;

function checkDense(fn: string, logits: tf.Tensor, labels: tf.Tensor, channels: number | null): void {
  if (logits.rank !== 4) throw new Error(`${fn}: logits must be [B,H,W,C], got [${logits.shape}]`);
  const [b, h, w, c] = logits.shape;
  if (channels !== null && c !== channels) {
    throw new Error(`${fn}: logits must have ${channels} channel(s), got [${logits.shape}]`);
  }
  const ok =
    (labels.rank === 3 && labels.shape[0] === b && labels.shape[1] === h && labels.shape[2] === w) ||
    (labels.rank === 4 &&
      labels.shape[0] === b &&
      labels.shape[1] === h &&
      labels.shape[2] === w &&
      labels.shape[3] === 1);
  if (!ok)
    throw new Error(
      `${fn}: labels must be [${b},${h},${w}] to match logits [${logits.shape}], got [${labels.shape}]`,
    );
}

/** `[B,H,W]` float mask of labels ≠ 255 and the `max(count, 1)` the protocol divides by. */
function validIndexMask(labels: tf.Tensor): { mask: tf.Tensor; count: tf.Tensor } {
  const flat = labels.rank === 4 ? tf.squeeze(labels, [3]) : labels;
  const mask = tf.cast(tf.notEqual(flat, IGNORE_INDEX), 'float32');
  return { mask, count: tf.maximum(tf.sum(mask), 1) };
}

/** Per-pixel `−log softmax(logits)[label]` (0 where the label is ignored) and the valid mask. */
function negativeLogLikelihood(
  logits: tf.Tensor,
  labels: tf.Tensor,
): { nll: tf.Tensor; mask: tf.Tensor; count: tf.Tensor; ids: tf.Tensor } {
  const c = logits.shape[3] as number;
  const { mask, count } = validIndexMask(labels);
  const flat = labels.rank === 4 ? tf.squeeze(labels, [3]) : labels;
  const ids = tf.cast(tf.mul(tf.cast(flat, 'float32'), mask), 'int32'); // ignored → class 0, masked below
  const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(ids, c)), -1);
  return { nll: tf.neg(picked), mask, count, ids };
}

/**
 * Softmax cross-entropy with ignore 255, summed over valid pixels and divided by their number
 * (at least 1): SAK's `CELoss` for semseg and human_parts.
 * @param logits `[B,H,W,C]` @param labels `[B,H,W]` (or `[B,H,W,1]`) class ids, 255 = ignore
 * @returns scalar
 * @example
 * crossEntropyLoss(tf.zeros([1, 2, 2, 3]), tf.tensor3d([[[0, 1], [2, 255]]], undefined, 'int32')); // ln 3
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  checkDense('crossEntropyLoss', logits, labels, null);
  return tf.tidy(() => {
    const { nll, mask, count } = negativeLogLikelihood(logits, labels);
    return tf.div(tf.sum(tf.mul(nll, mask)), count) as tf.Scalar;
  });
}

/**
 * Class-balanced 2-class cross-entropy (SAK's `CELoss(balanced=True)` for saliency): with `p` the
 * fraction of negatives among the valid pixels of the whole batch, class weights `(1 − p, p)`; the
 * weighted sum is divided by the number of valid pixels (not by the sum of the weights), so a batch
 * whose valid pixels are all one class gives exactly 0.
 * @param logits `[B,H,W,2]` (foreground = channel 1) @param labels `[B,H,W]` 0/1, 255 = ignore
 * @returns scalar
 */
export function balancedCrossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  checkDense('balancedCrossEntropyLoss', logits, labels, 2);
  return tf.tidy(() => {
    const { nll, mask, count, ids } = negativeLogLikelihood(logits, labels);
    const positives = tf.cast(ids, 'float32');
    const negatives = tf.sum(tf.mul(tf.sub(1, positives), mask));
    const p = tf.div(negatives, count); // weight of the positive class
    const weight = tf.add(tf.mul(positives, p), tf.mul(tf.sub(1, positives), tf.sub(1, p)));
    return tf.div(tf.sum(tf.mul(tf.mul(nll, weight), mask)), count) as tf.Scalar;
  });
}

/**
 * Balanced binary cross-entropy with logits for edges (SAK's `BalancedBCELoss`, `pos_weight` w = 0.95):
 * `BCE(pos_weight = w/(1−w))` averaged over the valid pixels, divided by `1/(1−w)`, i.e.
 * `mean_valid( w·y·softplus(−x) + (1−w)·(1−y)·softplus(x) )`. A batch without valid pixels gives 0
 * (the reference's mean over nothing is NaN).
 * @param logits `[B,H,W,1]` @param labels `[B,H,W]` 0/1, 255 = ignore
 * @returns scalar
 */
export function balancedBinaryCrossEntropyLoss(
  logits: tf.Tensor,
  labels: tf.Tensor,
  posWeight = 0.95,
): tf.Scalar {
  checkDense('balancedBinaryCrossEntropyLoss', logits, labels, 1);
  if (!(posWeight > 0 && posWeight < 1))
    throw new Error(`balancedBinaryCrossEntropyLoss: posWeight must be in (0, 1), got ${posWeight}`);
  return tf.tidy(() => {
    const x = tf.squeeze(logits, [3]);
    const { mask, count } = validIndexMask(labels);
    const flat = labels.rank === 4 ? tf.squeeze(labels, [3]) : labels;
    const y = tf.mul(tf.cast(flat, 'float32'), mask);
    const pos = tf.mul(tf.mul(y, tf.softplus(tf.neg(x))), posWeight);
    const neg = tf.mul(tf.mul(tf.sub(1, y), tf.softplus(x)), 1 - posWeight);
    return tf.div(tf.sum(tf.mul(tf.add(pos, neg), mask)), count) as tf.Scalar;
  });
}

/**
 * L1 on valid depth (SAK's `L1Loss` for depth): `Σ_valid |pred − gt| / max(n_valid, 1)`. Valid pixels
 * have a label ≠ 255 (the protocol's `AddIgnoreRegions` turns missing depth into 255) and > 0 (missing
 * depth in raw samples, where the transforms have not run; on pipeline output this changes nothing).
 * @param pred `[B,H,W,1]` metres @param labels `[B,H,W]` (or `[B,H,W,1]`) metres
 * @returns scalar
 */
export function depthL1Loss(pred: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  checkDense('depthL1Loss', pred, labels, 1);
  return tf.tidy(() => {
    const gt = labels.rank === 4 ? tf.squeeze(labels, [3]) : labels;
    const mask = tf.cast(tf.logicalAnd(tf.notEqual(gt, IGNORE_INDEX), tf.greater(gt, 0)), 'float32');
    const diff = tf.abs(tf.sub(tf.squeeze(pred, [3]), tf.mul(gt, mask)));
    return tf.div(tf.sum(tf.mul(diff, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/**
 * `F.normalize(x, p=2, dim=C)`: `x / max(‖x‖₂, 1e-12)` over the last axis.
 * @param x `[..., C]` @returns `[..., C]`
 */
export function l2Normalize(x: tf.Tensor, eps = 1e-12): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), eps)));
}

/**
 * L1 between the L2-normalised prediction and the GT normals (SAK's `L1Loss(normalize=True)`), summed
 * over channels and valid pixels, divided by the number of valid pixels. A pixel is valid when no GT
 * channel is 255 (and, for raw samples, the GT is not the zero vector). GT is not re-normalised.
 * @param pred `[B,H,W,3]` @param labels `[B,H,W,3]`
 * @returns scalar
 */
export function normalsL1Loss(pred: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (pred.rank !== 4 || pred.shape[3] !== 3)
    throw new Error(`normalsL1Loss: pred must be [B,H,W,3], got [${pred.shape}]`);
  if (labels.rank !== 4 || labels.shape.some((d, i) => d !== pred.shape[i])) {
    throw new Error(`normalsL1Loss: labels must be [${pred.shape}] like pred, got [${labels.shape}]`);
  }
  return tf.tidy(() => {
    const notIgnored = tf.all(tf.notEqual(labels, IGNORE_INDEX), -1);
    const nonZero = tf.any(tf.notEqual(labels, 0), -1);
    const mask = tf.expandDims(tf.cast(tf.logicalAnd(notIgnored, nonZero), 'float32'), -1);
    const diff = tf.abs(tf.sub(l2Normalize(pred), tf.mul(labels, mask)));
    return tf.div(tf.sum(tf.mul(diff, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
