import * as tf from '@tensorflow/tfjs-core';

/** Hyper-parameters of `AdamW`, with `torch.optim.AdamW`'s defaults. */
export interface AdamWOptions {
  /** Learning rate (change it per step with `optimizer.lr = ...`). Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, applied to every parameter as `p ← p·(1 − lr·wd)`. Default 1e-2. */
  weightDecay?: number;
}

interface ParamState {
  variable: tf.Variable;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
  step: number;
}

/**
 * `torch.optim.AdamW` (amsgrad off, one parameter group) over named parameters, step for step:
 * `p ← p·(1 − lr·wd)`; `m ← β₁m + (1−β₁)g`; `v ← β₂v + (1−β₂)g²`;
 * `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`. Unlike tfjs's Adam it has decoupled weight decay and
 * PyTorch's placement of ε. A parameter without a gradient in a step is left untouched (as PyTorch
 * skips `grad is None`). Its state saves and loads by parameter name (`stateDict` / `loadStateDict`):
 * `<name>.exp_avg`, `<name>.exp_avg_sq`, `<name>.step`.
 * @example
 * const opt = new AdamW(model.namedParameters(), { lr: 2e-5, weightDecay: 1e-6 });
 * const { value, grads } = tf.variableGrads(() => loss(model)); // grads keyed by tfjs variable name
 * opt.step(opt.gradsByName(grads));
 */
export class AdamW {
  lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly params = new Map<string, ParamState>();

  constructor(named: Iterable<readonly [string, tf.Variable]>, options: AdamWOptions = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2 } = options;
    if (!(lr >= 0)) throw new Error(`AdamW: lr must be >= 0, got ${lr}`);
    if (!betas.every((b) => b >= 0 && b < 1)) throw new Error(`AdamW: betas must be in [0, 1), got ${betas}`);
    if (!(eps >= 0)) throw new Error(`AdamW: eps must be >= 0, got ${eps}`);
    if (!(weightDecay >= 0)) throw new Error(`AdamW: weightDecay must be >= 0, got ${weightDecay}`);
    this.lr = lr;
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
    for (const [name, variable] of named) {
      if (this.params.has(name)) throw new Error(`AdamW: parameter '${name}' given twice`);
      // tidy: the zeros a variable is made from stay live tensors unless disposed.
      this.params.set(name, {
        variable,
        expAvg: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        expAvgSq: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        step: 0,
      });
    }
    if (this.params.size === 0) throw new Error('AdamW: no parameters given');
  }

  /** The parameter names, in the order given. */
  get names(): string[] {
    return [...this.params.keys()];
  }

  /**
   * Re-keys gradients of `tf.variableGrads` (keyed by the tfjs variable name) by parameter name; those
   * of variables this optimizer does not own are dropped.
   */
  gradsByName(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, s] of this.params) {
      const g = grads[s.variable.name];
      if (g) out[name] = g;
    }
    return out;
  }

  /**
   * One update with the current `lr`. `grads` by parameter name (a missing one is skipped); an unknown
   * name or a shape mismatch throws before anything is updated. The gradients are not disposed.
   */
  step(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>): void {
    const given = grads instanceof Map ? grads : new Map(Object.entries(grads));
    for (const [name, g] of given) {
      const s = this.params.get(name);
      if (!s) throw new Error(`AdamW.step: gradient for unknown parameter '${name}'`);
      if (g.shape.length !== s.variable.rank || g.shape.some((d, i) => d !== s.variable.shape[i])) {
        throw new Error(
          `AdamW.step: gradient of '${name}' is [${g.shape}], the parameter is [${s.variable.shape}]`,
        );
      }
    }
    const [b1, b2] = this.betas;
    for (const [name, g] of given) {
      const s = this.params.get(name) as ParamState;
      s.step += 1;
      const stepSize = this.lr / (1 - b1 ** s.step);
      const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
      tf.tidy(() => {
        const decayed = tf.mul(s.variable, 1 - this.lr * this.weightDecay);
        const m = tf.add(tf.mul(s.expAvg, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(s.expAvgSq, b2), tf.mul(tf.square(g), 1 - b2));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        s.expAvg.assign(m);
        s.expAvgSq.assign(v);
        s.variable.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      });
    }
  }

  /**
   * The state by parameter name: `<name>.exp_avg`, `<name>.exp_avg_sq` (new tensors, owned by the
   * caller) and `<name>.step` (int32 scalar), for parameters that have been stepped, as PyTorch keeps them.
   */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, s] of this.params) {
      if (s.step === 0) continue;
      out[`${name}.exp_avg`] = tf.clone(s.expAvg);
      out[`${name}.exp_avg_sq`] = tf.clone(s.expAvgSq);
      out[`${name}.step`] = tf.scalar(s.step, 'int32');
    }
    return out;
  }

  /**
   * Restores a `stateDict()` (e.g. read back from safetensors). Every key must name a parameter of this
   * optimizer with the right shape, else it rejects before assigning anything. Inputs are not disposed.
   */
  async loadStateDict(state: Record<string, tf.Tensor>): Promise<void> {
    const plan: { s: ParamState; field: 'exp_avg' | 'exp_avg_sq' | 'step'; t: tf.Tensor }[] = [];
    for (const [key, t] of Object.entries(state)) {
      const match = /^(.*)\.(exp_avg|exp_avg_sq|step)$/.exec(key);
      const s = match ? this.params.get(match[1]) : undefined;
      if (!match || !s) throw new Error(`AdamW.loadStateDict: '${key}' names no parameter of this optimizer`);
      const field = match[2] as 'exp_avg' | 'exp_avg_sq' | 'step';
      const want = field === 'step' ? [] : s.variable.shape;
      if (t.rank !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new Error(`AdamW.loadStateDict: '${key}' is [${t.shape}], expected [${want}]`);
      }
      plan.push({ s, field, t });
    }
    for (const { s, field, t } of plan) {
      if (field === 'step') s.step = (await t.data())[0];
      else tf.tidy(() => (field === 'exp_avg' ? s.expAvg : s.expAvgSq).assign(tf.cast(t, 'float32')));
    }
  }

  /** Disposes the moment buffers (not the parameters). */
  dispose(): void {
    for (const s of this.params.values()) tf.dispose([s.expAvg, s.expAvgSq]);
  }
}
