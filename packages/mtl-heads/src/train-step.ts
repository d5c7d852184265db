import type { CvmCameras } from '@cvm/cvm-module';
import {
  AdamW,
  type AdamWOptions,
  checkpointedGradients,
  clipGradNorm,
  polynomialLR,
  type Segment,
} from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { multiTaskLoss } from './multi-task-loss.js';
import type { MultiTaskModel } from './multi-task-model.js';
import type { TaskName } from './tasks.js';
import { checkTrainingStateFits } from './training-memory.js';

/** The optimisation schedule; defaults are the protocol's (SAK stage 2, paper §A6.1). */
export interface TrainerOptions extends Omit<AdamWOptions, 'lr'> {
  /** Base learning rate. Default 2e-5. */
  lr?: number;
  /** Iterations `T` of the polynomial schedule. Default 40,000. */
  totalIterations?: number;
  /** Power of the schedule. Default 0.9. */
  power?: number;
  /** Global gradient-norm clip. Default 10. */
  maxGradNorm?: number;
  /**
   * Activation checkpointing: keep only the tensors between the model's segments (encoder, CvM encoder
   * stages and transformer blocks, heads; `MultiTaskModel.forwardSegments`) and recompute each segment
   * in the backward pass (`checkpointedGradients` of `@cvm/nn`). Same gradients, far less memory, about
   * one more forward pass of time. Default false.
   */
  checkpointActivations?: boolean;
}

/** One step's inputs: views, cameras and the reference view's labels (see `MultiTaskModel.forward`). */
export interface TrainBatch {
  images: readonly tf.Tensor[];
  cameras?: CvmCameras | null;
  labels: Partial<Record<TaskName, tf.Tensor>>;
}

/** What `Trainer.step` reports (plain numbers: nothing to dispose). */
export interface StepReport {
  iteration: number;
  lr: number;
  total: number;
  /** Weighted per-task losses (SAK's log). */
  losses: Partial<Record<TaskName, number>>;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/**
 * The protocol's training loop body: forward, weighted multi-task loss, backward over every trainable
 * parameter, `clip_grad_norm_` at 10, AdamW (lr 2e-5, weight decay 1e-6 on every parameter) with the
 * per-iteration polynomial schedule. Puts the model in training mode; leaks no tensors. On the wasm
 * backend a model whose training state cannot fit wasm32's 4 GiB heap is refused at construction
 * (`checkTrainingStateFits`), before anything is allocated.
 * Weight decay on everything and one parameter group are SAK's choices. SAK's stage-2 distillation
 * term (against its frozen teachers) is not part of this loss.
 * @example
 * const trainer = new Trainer(model, { totalIterations: 40000 });
 * const report = await trainer.step({ images: [ref, nbr], cameras, labels });
 */
export class Trainer {
  readonly optimizer: AdamW;
  readonly baseLr: number;
  readonly totalIterations: number;
  readonly power: number;
  readonly maxGradNorm: number;
  readonly checkpointActivations: boolean;
  /** Updates done so far (the schedule's `i`). */
  iteration = 0;

  constructor(
    readonly model: MultiTaskModel,
    {
      lr = 2e-5,
      totalIterations = 40_000,
      power = 0.9,
      maxGradNorm = 10,
      weightDecay = 1e-6,
      checkpointActivations = false,
      ...adam
    }: TrainerOptions = {},
  ) {
    if (!(maxGradNorm > 0)) throw new Error(`Trainer: maxGradNorm must be > 0, got ${maxGradNorm}`);
    if (!Number.isInteger(totalIterations) || totalIterations < 1) {
      throw new Error(`Trainer: totalIterations must be a positive integer, got ${totalIterations}`);
    }
    checkTrainingStateFits(model);
    const params = model.namedParameters().filter(([, v]) => v.trainable);
    this.optimizer = new AdamW(params, { ...adam, lr, weightDecay });
    this.baseLr = lr;
    this.totalIterations = totalIterations;
    this.power = power;
    this.maxGradNorm = maxGradNorm;
    this.checkpointActivations = checkpointActivations;
  }

  /** One update; resolves once the losses are read back. */
  async step(batch: TrainBatch): Promise<StepReport> {
    const { model } = this;
    model.train();
    const lr = polynomialLR(this.baseLr, this.iteration, this.totalIterations, this.power);
    this.optimizer.lr = lr;
    const vars = model
      .namedParameters()
      .filter(([, v]) => v.trainable)
      .map(([, v]) => v);
    const { value, grads, parts } = this.checkpointActivations
      ? checkpointedLossGradients(model, batch, vars)
      : lossGradients(model, batch, vars);
    const clipped = clipGradNorm(this.optimizer.gradsByName(grads), this.maxGradNorm);
    // The raw gradients are not needed past clipping: free them before the update (a model's size).
    tf.dispose(Object.values(grads));
    this.optimizer.step(clipped.grads);
    this.iteration += 1;
    const [total, gradNorm, ...taskValues] = await Promise.all(
      [value, clipped.totalNorm, ...Object.values(parts)].map(
        async (t) => (await (t as tf.Tensor).data())[0],
      ),
    );
    const losses = Object.fromEntries(Object.keys(parts).map((k, i) => [k, taskValues[i]]));
    tf.dispose([value, clipped.totalNorm, ...Object.values(clipped.grads), ...Object.values(parts)]);
    return { iteration: this.iteration, lr, total, losses, gradNorm };
  }

  /** Disposes the optimizer's state (not the model). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/** The loss, its per-task parts and the gradients of `vars` (by variable name) of one batch. */
interface LossGradients {
  value: tf.Scalar;
  grads: tf.NamedTensorMap;
  parts: Partial<Record<TaskName, tf.Scalar>>;
}

function lossGradients(model: MultiTaskModel, batch: TrainBatch, vars: tf.Variable[]): LossGradients {
  let parts: Partial<Record<TaskName, tf.Scalar>> = {};
  const { value, grads } = tf.variableGrads(() => {
    const outputs = model.forward(batch.images, batch.cameras);
    const loss = multiTaskLoss(model.tasks, outputs, batch.labels);
    parts = Object.fromEntries(Object.entries(loss.weighted).map(([k, v]) => [k, tf.keep(v as tf.Scalar)]));
    return loss.total;
  }, vars);
  return { value, grads, parts };
}

/** `lossGradients` with activation checkpointing over the model's segments. */
function checkpointedLossGradients(
  model: MultiTaskModel,
  batch: TrainBatch,
  vars: tf.Variable[],
): LossGradients {
  const { inputs, segments, tasks } = model.forwardSegments(batch.images, batch.cameras);
  let names: TaskName[] = [];
  const loss: Segment = (outs) => {
    const outputs = Object.fromEntries(tasks.map((t, i) => [t, outs[i]]));
    const { total, weighted } = multiTaskLoss(model.tasks, outputs, batch.labels);
    names = Object.keys(weighted) as TaskName[];
    return [total, ...names.map((n) => weighted[n] as tf.Scalar)];
  };
  const r = checkpointedGradients([...segments, loss], inputs, vars);
  const grads: tf.NamedTensorMap = {};
  vars.forEach((v, i) => {
    const g = r.grads[i];
    if (g) grads[v.name] = g;
  });
  const parts = Object.fromEntries(names.map((n, i) => [n, r.aux[i] as tf.Scalar]));
  return { value: r.value, grads, parts };
}
