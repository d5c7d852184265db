import * as tf from '@tensorflow/tfjs-core';

/**
 * One piece of a forward pass cut for activation checkpointing: the tensors it receives → the tensors
 * it passes on (an input may be returned as it is, to pass it further). It runs twice, once in the
 * forward pass and once more in the backward pass, so it must be a deterministic function of its inputs,
 * of variables and of constants: a tensor computed by an earlier segment must reach it through its
 * inputs, never through a closure. It must not dispose its inputs.
 */
export type Segment = (inputs: readonly tf.Tensor[]) => tf.Tensor[];

let recomputing = 0;

/**
 * True while `checkpointedGradients` runs a segment again in its backward pass. Layers that update
 * state in a training forward (BatchNorm's running statistics) skip the update then, so that a
 * checkpointed step updates them once, as a plain one does.
 */
export function isRecomputing(): boolean {
  return recomputing > 0;
}

/** What `checkpointedGradients` returns; every tensor is owned by the caller. */
export interface CheckpointedGradients {
  /** The scalar the last segment returned first. */
  value: tf.Scalar;
  /** `d value / d xs[i]`, in `xs` order; `null` where `value` does not depend on `xs[i]`. */
  grads: (tf.Tensor | null)[];
  /** The last segment's other outputs (e.g. loss parts to log), not differentiated. */
  aux: tf.Tensor[];
}

/**
 * Gradients of a forward pass cut into segments, keeping only the tensors passed between segments
 * instead of every activation the backward pass needs (activation checkpointing, as
 * `torch.utils.checkpoint.checkpoint_sequential`), for about one more forward pass of compute.
 *
 * 1. Forward: the segments run in order, without a gradient tape; only their outputs are kept.
 * 2. Backward: from the last segment to the first, each is run again under its own top-level
 *    `tf.engine().gradients` call (never nested in another one), seeded with the gradient of its outputs,
 *    which gives the gradient of its inputs (the seed of the segment before) and of `xs` (summed over
 *    segments). A segment's outputs are disposed as soon as its gradient is done, so the peak is the
 *    segment boundaries plus one segment's saved activations.
 *
 * The result equals `tf.grads` / `tf.variableGrads` of the whole pass up to float summation order.
 * Call it outside any other gradient computation.
 *
 * @param segments run in order: segment 0 receives `inputs`, segment `i` the outputs of segment `i−1`;
 *   the last returns `[value, ...aux]` with `value` a scalar
 * @param inputs the first segment's inputs (not disposed)
 * @param xs what to differentiate with respect to: variables, and any of `inputs`
 * @example
 * const w = tf.variable(tf.randomNormal([8, 8]));
 * const layer: Segment = ([x]) => [tf.tanh(tf.matMul(x, w))];
 * const loss: Segment = ([x]) => [tf.mean(tf.square(x))];
 * const { value, grads } = checkpointedGradients([layer, layer, loss], [tf.ones([4, 8])], [w]);
 * // grads[0]: [8, 8], equal to tf.variableGrads of the same function
 */
export function checkpointedGradients(
  segments: readonly Segment[],
  inputs: readonly tf.Tensor[],
  xs: readonly tf.Tensor[],
): CheckpointedGradients {
  if (!Array.isArray(segments) || segments.length === 0) {
    throw new Error('checkpointedGradients: segments must be a non-empty array of functions');
  }
  segments.forEach((s, i) => {
    if (typeof s !== 'function') throw new Error(`checkpointedGradients: segments[${i}] is not a function`);
  });
  const states = forwardWithoutTape(segments, inputs);
  const last = states[states.length - 1];
  const value = last[0];
  if (!(value instanceof tf.Tensor) || value.rank !== 0) {
    for (let i = 1; i < states.length; i++)
      disposeCreated(states[i - 1], states[i], new Set(inputs.map((t) => t.id)));
    throw new Error(
      `checkpointedGradients: the last segment must return [scalar, ...aux], got [${value instanceof tf.Tensor ? `shape [${value.shape}]` : typeof value}, ...]`,
    );
  }
  // Gradients accumulated by tensor id: the seeds of segment boundaries, then of `xs`.
  const dys = new Map<number, tf.Tensor>([[value.id, tf.onesLike(value)]]);
  const targets = [...new Map(xs.map((x) => [x.id, x])).values()];
  // Never disposed here: the caller's inputs and xs, and what is returned (aux may be passed through).
  const kept = new Set([...inputs, ...xs, ...last].map((t) => t.id));
  try {
    for (let i = segments.length - 1; i >= 0; i--) {
      backwardSegment(segments[i], states[i], states[i + 1], dys, targets, i);
      // The outputs this segment created are needed by nobody now (later segments are done).
      // (value and aux, the last segment's, go to the caller).
      if (i < segments.length - 1) disposeCreated(states[i], states[i + 1], kept);
    }
  } catch (e) {
    tf.dispose([...dys.values()]);
    for (let i = 1; i < states.length; i++) disposeCreated(states[i - 1], states[i], kept);
    throw e;
  }
  const grads = xs.map((x) => dys.get(x.id) ?? null);
  const returned = new Set(grads.filter((g): g is tf.Tensor => g != null).map((g) => g.id));
  tf.dispose([...dys.values()].filter((g) => !returned.has(g.id)));
  return { value: value as tf.Scalar, grads, aux: last.slice(1) };
}

/**
 * Lifts `segment` to a state whose first `count` tensors it passes through untouched (for tensors a
 * later segment needs, such as encoder features waiting for a head).
 * @example passThrough(1, ([x]) => [tf.relu(x)])([a, b]); // [a, relu(b)]
 */
export function passThrough(count: number, segment: Segment): Segment {
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`passThrough: count must be an integer >= 0, got ${count}`);
  }
  return (state) => [...state.slice(0, count), ...segment(state.slice(count))];
}

/** Runs the segments without a tape, keeping every segment's outputs (`states[i]` = inputs of segment i). */
function forwardWithoutTape(segments: readonly Segment[], inputs: readonly tf.Tensor[]): tf.Tensor[][] {
  const states: tf.Tensor[][] = [[...inputs]];
  try {
    for (const [i, segment] of segments.entries()) {
      const out = tf.tidy(() => {
        const o = segment(states[i]);
        if (!Array.isArray(o) || !o.every((t) => t instanceof tf.Tensor)) {
          throw new Error(`checkpointedGradients: segments[${i}] must return an array of tensors`);
        }
        return o;
      });
      states.push(out);
    }
  } catch (e) {
    const kept = new Set(inputs.map((t) => t.id));
    for (let i = 1; i < states.length; i++) disposeCreated(states[i - 1], states[i], kept);
    throw e;
  }
  return states;
}

/** Disposes the tensors of `outs` a segment made (not among `ins`, nor `kept`). */
function disposeCreated(
  ins: readonly tf.Tensor[],
  outs: readonly tf.Tensor[],
  kept: ReadonlySet<number>,
): void {
  const inIds = new Set(ins.map((t) => t.id));
  tf.dispose(outs.filter((t) => !inIds.has(t.id) && !kept.has(t.id)));
}

/** Adds `g` into `dys[id]` (taking ownership of `g`). */
function accumulate(dys: Map<number, tf.Tensor>, id: number, g: tf.Tensor): void {
  const prev = dys.get(id);
  if (!prev) {
    dys.set(id, g);
    return;
  }
  dys.set(id, tf.add(prev, g));
  prev.dispose();
  g.dispose();
}

/**
 * Recomputes one segment under a top-level gradient call seeded with the gradients of the outputs it
 * created, and adds the gradients of its inputs and of `xs` into `dys`.
 */
function backwardSegment(
  segment: Segment,
  ins: readonly tf.Tensor[],
  outs: readonly tf.Tensor[],
  dys: Map<number, tf.Tensor>,
  targets: readonly tf.Tensor[],
  index: number,
): void {
  // Outputs passed through (inputs, or `xs` returned as they are) keep their gradient under the same
  // id: it flows on to earlier segments.
  const inIds = new Set([...ins, ...targets].map((t) => t.id));
  const seeded: number[] = [];
  const seeds: tf.Tensor[] = [];
  const seen = new Set<number>();
  outs.forEach((t, k) => {
    if (inIds.has(t.id) || seen.has(t.id)) return;
    seen.add(t.id);
    const dy = dys.get(t.id);
    if (!dy) return;
    dys.delete(t.id);
    seeded.push(k);
    seeds.push(dy);
  });
  if (seeded.length === 0) return; // nothing downstream depends on this segment
  // Its inputs, and the `xs` it may use directly (variables): each once.
  const wrt = [...new Map([...ins, ...targets].map((t) => [t.id, t])).values()];
  const dy = seeds.length === 1 ? seeds[0] : tf.tidy(() => tf.concat(seeds.map((s) => tf.reshape(s, [-1]))));
  try {
    const { value, grads } = tf.engine().gradients(
      () =>
        tf.tidy(() => {
          recomputing++;
          let o: tf.Tensor[];
          try {
            o = segment(ins);
          } finally {
            recomputing--;
          }
          if (o.length !== outs.length) {
            throw new Error(
              `checkpointedGradients: segments[${index}] returned ${o.length} tensors when run again, ${outs.length} the first time`,
            );
          }
          const picked = seeded.map((k) => o[k]);
          return picked.length === 1 ? picked[0] : tf.concat(picked.map((t) => tf.reshape(t, [-1])));
        }),
      wrt,
      dy,
      true,
    );
    value.dispose();
    // A gradient function may hand the same tensor (even the seed) to several inputs: own each once.
    const taken = new Set([...seeds, dy].map((t) => t.id));
    const owned = grads.map((g) => {
      if (!g) return null;
      const own = taken.has(g.id) ? tf.clone(g) : g;
      taken.add(own.id);
      return own;
    });
    owned.forEach((g, j) => {
      if (g) accumulate(dys, wrt[j].id, g);
    });
  } finally {
    tf.dispose(seeds);
    if (seeds.length > 1) dy.dispose();
  }
}
