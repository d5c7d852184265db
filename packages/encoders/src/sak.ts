import { gelu, LayerNorm, Linear, Module, ModuleDict, ModuleList } from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import { Encoder, type IntermediatesOptions } from './encoder.js';
import type { SAKConfig } from './presets.js';
import { VisionTransformer } from './vit.js';

/** SAK's bottleneck adapter `x + s·up(GELU(down(x)))`: children `down`, `up`, scalar `scale` `[1]`. */
export class Adapter extends Module {
  readonly down: Linear;
  readonly up: Linear;
  readonly scale: tf.Variable;
  constructor(dim: number, downRatio: number) {
    super();
    const hidden = Math.floor(dim / downRatio);
    this.down = this.registerModule('down', new Linear(dim, hidden));
    this.up = this.registerModule('up', new Linear(hidden, dim));
    this.scale = this.registerParameter('scale', tf.ones([1]));
  }
  /** @param x `[..., D]` */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(x, tf.mul(this.up.forward(gelu(this.down.forward(x))), this.scale)));
  }
}

/** The MLP of SAK's `GlobalRouter`: `module.0` Linear D→D/2, `module.1` LayerNorm (eps 1e-5), GELU, `module.3` Linear. */
class RouterMlp extends Module {
  constructor(dim: number, out: number) {
    super();
    this.registerModule('0', new Linear(dim, Math.floor(dim / 2)));
    this.registerModule('1', new LayerNorm(Math.floor(dim / 2)));
    this.registerModule('3', new Linear(Math.floor(dim / 2), out));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const [l0, n1, l3] = this.namedChildren().map(([, m]) => m) as [Linear, LayerNorm, Linear];
    return tf.tidy(() => l3.forward(gelu(n1.forward(l0.forward(x)))));
  }
}

/** SAK's `GlobalRouter` (child `module`): per-token logits averaged over tokens, one gate per image. */
class GlobalRouter extends Module {
  readonly module: RouterMlp;
  constructor(dim: number, out: number) {
    super();
    this.module = this.registerModule('module', new RouterMlp(dim, out));
  }
  /** @param x `[B, L, D]` @returns `[B, out]` */
  forward(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => tf.mean(this.module.forward(x), 1) as tf.Tensor2D);
  }
}

/** SAK's Mixture-of-Representations for one (layer, task): child `router`. */
export class MoR extends Module {
  readonly router: GlobalRouter;
  constructor(
    dim: number,
    readonly numExperts: number,
    readonly noisyGating: boolean,
  ) {
    super();
    this.router = this.registerModule(
      'router',
      new GlobalRouter(dim, noisyGating ? 2 * numExperts : numExperts),
    );
  }
  /**
   * Eval-mode mixture `p₀·vit + Σₜ pₜ·studentₜ` with `p = softmax(clean logits)`.
   * @param vit `[B, L, D]` un-normalised ViT patch tokens
   * @param students `[B, L, D]` per teacher, in config order
   * @returns `[B, L, D]`
   */
  forward(vit: tf.Tensor, students: tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let logits = this.router.forward(vit);
      if (this.noisyGating) logits = tf.slice(logits, [0, 0], [-1, this.numExperts]);
      const p = tf.softmax(logits); // [B, T+1]
      const experts = [vit, ...students];
      let out: tf.Tensor | null = null;
      experts.forEach((e, k) => {
        const w = tf.reshape(tf.slice(p, [0, k], [-1, 1]), [-1, 1, 1]);
        const term = tf.mul(e, w);
        out = out ? tf.add(out, term) : term;
      });
      return out!;
    });
  }
}

/**
 * SAK (Lu, Cao, Wang, ICLR 2025): a timm ViT stem (`vit`, no final norm), Teacher-Specific Adapter
 * Paths (`tsap.<teacher>.<k>`, `depth + 1` adapters each), per-(layer, teacher) output norms
 * (`out_norms.<i>_<teacher>`, eps 1e-5) and per-(layer, task) MoR routers (`mor.<i>_<task>`).
 * `forwardIntermediates(images, {task})` returns that task's four MoR maps; `forwardTaskIntermediates`
 * returns every task's from one pass.
 */
export class SAKEncoder extends Encoder {
  readonly family = 'sak' as const;
  readonly embedDim: number;
  readonly patchSize: number;
  readonly depth: number;
  readonly outLayers: readonly number[];
  readonly normIntermediates = false;
  readonly tasks: readonly string[];
  readonly teachers: readonly string[];
  readonly vit: VisionTransformer;
  readonly tsap: ModuleDict<ModuleList<Adapter>>;
  readonly out_norms: ModuleDict<LayerNorm>;
  readonly mor: ModuleDict<MoR> | null;

  constructor(readonly config: SAKConfig) {
    super();
    if (config.vit.finalNorm)
      throw new Error('SAKEncoder: the stem has no final norm (vit.finalNorm must be false)');
    if (config.teachers.length === 0) throw new Error('SAKEncoder: needs at least one teacher');
    this.vit = this.registerModule('vit', new VisionTransformer(config.vit));
    const d = this.vit.embedDim;
    this.embedDim = d;
    this.patchSize = this.vit.patchSize;
    this.depth = this.vit.depth;
    this.outLayers = this.vit.outLayers;
    this.tasks = [...config.tasks];
    this.teachers = [...config.teachers];
    this.tsap = this.registerModule(
      'tsap',
      new ModuleDict(
        this.teachers.map((t): [string, ModuleList<Adapter>] => [
          t,
          new ModuleList(Array.from({ length: this.depth + 1 }, () => new Adapter(d, config.downRatio))),
        ]),
      ),
    );
    this.out_norms = this.registerModule(
      'out_norms',
      new ModuleDict(
        this.outLayers.flatMap((i) =>
          this.teachers.map((t): [string, LayerNorm] => [`${i}_${t}`, new LayerNorm(d)]),
        ),
      ),
    );
    this.mor =
      this.tasks.length > 0
        ? this.registerModule(
            'mor',
            new ModuleDict(
              this.outLayers.flatMap((i) =>
                this.tasks.map((task): [string, MoR] => [
                  `${i}_${task}`,
                  new MoR(d, this.teachers.length + 1, config.noisyGating),
                ]),
              ),
            ),
          )
        : null;
  }

  /**
   * Runs stem and adapter paths once and returns, in order, the tensors `pick(i, vit, students, grid)`
   * returns at every output layer `i` (`vit`: the ViT patch tokens, `students`: the normalised student
   * tokens per teacher, all `[B, L, D]`). The picked tensors belong to the caller's scope.
   */
  private run(
    images: tf.Tensor4D,
    pick: (i: number, vit: tf.Tensor, students: tf.Tensor[], grid: [number, number]) => tf.Tensor[],
  ): tf.Tensor[] {
    const p = this.vit.numPrefixTokens;
    const last = Math.max(...this.outLayers);
    return tf.tidy(() => {
      const { tokens, grid } = this.vit.embed(images);
      let residuals = this.teachers.map((t) => this.tsap.get(t).get(0).forward(tokens));
      let x: tf.Tensor = tokens;
      const out: tf.Tensor[] = [];
      for (let i = 0; i <= last; i++) {
        x = this.vit.blocks.get(i).forward(x);
        residuals = this.teachers.map((t, k) =>
          this.tsap
            .get(t)
            .get(i + 1)
            .forward(tf.add(residuals[k], x)),
        );
        if (!this.outLayers.includes(i)) continue;
        const [b, n, d] = x.shape as [number, number, number];
        const patches = (t: tf.Tensor) => tf.slice(t, [0, p, 0], [b, n - p, d]);
        const students = this.teachers.map((t, k) =>
          this.out_norms.get(`${i}_${t}`).forward(patches(residuals[k])),
        );
        out.push(...pick(i, patches(x), students, grid));
      }
      return out;
    });
  }

  private toMap(t: tf.Tensor, grid: [number, number]): tf.Tensor4D {
    return tf.reshape(t, [t.shape[0], grid[0], grid[1], this.embedDim]) as tf.Tensor4D;
  }

  /** The MoR mixture for one task at layer `i`, or the router-less sum without a task. */
  private mix(i: number, task: string | undefined, vit: tf.Tensor, students: tf.Tensor[]): tf.Tensor {
    if (task === undefined || !this.mor) return tf.addN([vit, ...students]);
    return this.mor.get(`${i}_${task}`).forward(vit, students);
  }

  private checkTask(task: string | undefined): void {
    if (task !== undefined && !this.tasks.includes(task)) {
      throw new Error(`SAKEncoder: unknown task '${task}' (tasks: ${this.tasks.join(', ') || 'none'})`);
    }
  }

  private checkOptions(options: Omit<IntermediatesOptions, 'task'>): void {
    if (options.layers && options.layers.join() !== this.outLayers.join()) {
      throw new Error(
        `SAKEncoder: features exist only at its output layers [${this.outLayers}], got [${options.layers}]`,
      );
    }
  }

  forwardIntermediates(images: tf.Tensor4D, options: IntermediatesOptions = {}): tf.Tensor4D[] {
    this.checkOptions(options);
    this.checkTask(options.task);
    return this.run(images, (i, vit, students, grid) => [
      this.toMap(this.mix(i, options.task, vit, students), grid),
    ]) as tf.Tensor4D[];
  }

  override forwardTaskIntermediates(
    images: tf.Tensor4D,
    tasks: readonly string[] = this.tasks,
    options: Omit<IntermediatesOptions, 'task'> = {},
  ): Record<string, tf.Tensor4D[]> {
    this.checkOptions(options);
    if (tasks.length === 0) throw new Error('SAKEncoder: forwardTaskIntermediates needs task names');
    for (const t of tasks) this.checkTask(t);
    const flat = this.run(images, (i, vit, students, grid) =>
      tasks.map((t) => this.toMap(this.mix(i, t, vit, students), grid)),
    ) as tf.Tensor4D[];
    return Object.fromEntries(tasks.map((t, k) => [t, flat.filter((_, j) => j % tasks.length === k)]));
  }

  /**
   * SAK's student features per teacher (the normalised adapter paths; what distillation compares).
   * @returns `{teacher: [B, H/p, W/p, D][]}`, one map per output layer
   */
  forwardStudentFeatures(images: tf.Tensor4D): Record<string, tf.Tensor4D[]> {
    const n = this.teachers.length;
    const flat = this.run(images, (_i, _vit, students, grid) =>
      students.map((s) => this.toMap(s, grid)),
    ) as tf.Tensor4D[];
    return Object.fromEntries(this.teachers.map((t, k) => [t, flat.filter((_, j) => j % n === k)]));
  }
}
