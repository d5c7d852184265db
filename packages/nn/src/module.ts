import * as tf from '@tensorflow/tfjs-core';

/**
 * How a parameter is laid out relative to PyTorch, so checkpoints convert in one place
 * (`fromTorchLayout` / `toTorchLayout`):
 * - `'conv2d'`: stored `[kh,kw,in,out]`, PyTorch `[out,in,kh,kw]`;
 * - `'linear'`: stored `[in,out]`, PyTorch `[out,in]`;
 * - `'plain'`: identical in both (biases, norm weights, embeddings, buffers).
 */
export type TensorLayout = 'conv2d' | 'linear' | 'plain';

/** One registered parameter or buffer, as listed by `Module.namedEntries()`. */
export interface NamedEntry {
  /** Dotted PyTorch-style path, e.g. `layers.3.cross_attn.q_proj.weight`. */
  name: string;
  variable: tf.Variable;
  layout: TensorLayout;
  /** Buffers are state (in `stateDict()`) but not parameters (not in `parameters()`). */
  kind: 'parameter' | 'buffer';
}

// Letters, digits and underscores: identifiers, ModuleList indices and ModuleDict keys such as SAK's `2_dinov2`.
const NAME_PATTERN = /^[A-Za-z0-9_]+$/;

function checkLocalName(owner: string, name: string, taken: (n: string) => boolean): void {
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`${owner}: name '${name}' must be letters, digits and underscores (no dots)`);
  }
  if (taken(name)) throw new Error(`${owner}: name '${name}' is already registered`);
}

/**
 * Base class of every layer and model: owns named parameters (`tf.Variable`) and child modules, and
 * names them by PyTorch-style dotted paths so checkpoints map by name.
 *
 * Subclasses register state in their constructor with `registerParameter` / `registerBuffer` /
 * `registerModule`, and define their own `forward(...)` with whatever signature they need.
 * The order of `namedParameters()` is PyTorch's: a module's own parameters in registration order,
 * then each child's, depth-first in registration order. Parameters shared between modules are listed once.
 * tfjs variable names are left to tfjs (unique ids); the path names live here.
 *
 * @example
 * class Block extends Module {
 *   readonly proj: Linear;
 *   readonly norm: LayerNorm;
 *   constructor() {
 *     super();
 *     this.proj = this.registerModule('proj', new Linear(8, 8));
 *     this.norm = this.registerModule('norm', new LayerNorm(8));
 *   }
 *   forward(x: tf.Tensor): tf.Tensor {
 *     return tf.tidy(() => tf.add(x, this.norm.forward(this.proj.forward(x))));
 *   }
 * }
 * new Block().namedParameters().map(([n]) => n); // ['proj.weight', 'proj.bias', 'norm.weight', 'norm.bias']
 */
export class Module {
  /** Training mode flag (set by `train()` / `eval()` on the whole tree). */
  training = true;
  private readonly ownEntries = new Map<string, Omit<NamedEntry, 'name'>>();
  private readonly childModules = new Map<string, Module>();
  private disposed = false;

  /**
   * Registers `initial` as a parameter called `name` and returns the new variable. The module takes
   * ownership of `initial` (it is disposed here; the variable holds the data).
   */
  protected registerParameter(
    name: string,
    initial: tf.Tensor,
    { layout = 'plain', trainable = true }: { layout?: TensorLayout; trainable?: boolean } = {},
  ): tf.Variable {
    return this.addEntry(name, initial, layout, 'parameter', trainable);
  }

  /** Registers non-trainable state (in `stateDict()`, not in `parameters()`); takes ownership of `initial`. */
  protected registerBuffer(name: string, initial: tf.Tensor): tf.Variable {
    return this.addEntry(name, initial, 'plain', 'buffer', false);
  }

  /** Registers `module` as the child called `name` (a path segment) and returns it. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    if (!(module instanceof Module)) throw new Error(`${this.constructor.name}: '${name}' is not a Module`);
    this.childModules.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    checkLocalName(this.constructor.name, name, (n) => this.ownEntries.has(n) || this.childModules.has(n));
  }

  private addEntry(
    name: string,
    initial: tf.Tensor,
    layout: TensorLayout,
    kind: NamedEntry['kind'],
    trainable: boolean,
  ): tf.Variable {
    this.checkName(name);
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.ownEntries.set(name, { variable, layout, kind });
    return variable;
  }

  /** Direct children as `[name, module]` in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.childModules];
  }

  /** This module and all descendants as `[path, module]`, depth-first (the root has path `''`). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, path: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([path, m]);
      for (const [name, child] of m.childModules) visit(child, path ? `${path}.${name}` : name);
    };
    visit(this, prefix);
    return out;
  }

  /** Every parameter and buffer with its path, layout and kind, in `namedParameters()` order. */
  namedEntries(): NamedEntry[] {
    const out: NamedEntry[] = [];
    const seen = new Set<tf.Variable>();
    for (const [path, m] of this.namedModules()) {
      // PyTorch lists a module's parameters first, then its buffers (state_dict order).
      for (const kind of ['parameter', 'buffer'] as const) {
        for (const [name, entry] of m.ownEntries) {
          if (entry.kind !== kind || seen.has(entry.variable)) continue;
          seen.add(entry.variable);
          out.push({ name: path ? `${path}.${name}` : name, ...entry });
        }
      }
    }
    return out;
  }

  /** `[path, variable]` for every parameter (not buffers), in PyTorch's order; stable for optimizers. */
  namedParameters(): [string, tf.Variable][] {
    return this.namedEntries()
      .filter((e) => e.kind === 'parameter')
      .map((e) => [e.name, e.variable]);
  }

  /** `[path, variable]` for every buffer. */
  namedBuffers(): [string, tf.Variable][] {
    return this.namedEntries()
      .filter((e) => e.kind === 'buffer')
      .map((e) => [e.name, e.variable]);
  }

  /** The parameters in `namedParameters()` order (e.g. the `varList` of a tfjs optimizer). */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** The parameters with `trainable` set (what an optimizer should update). */
  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  /** Total number of scalar parameters (buffers excluded). */
  numParameters(): number {
    return this.parameters().reduce((n, v) => n + v.size, 0);
  }

  /**
   * Parameters and buffers by path, in tfjs layout. The tensors are the module's own variables: do not
   * dispose them (use `torchStateDict` for PyTorch-layout copies).
   */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const e of this.namedEntries()) out[e.name] = e.variable;
    return out;
  }

  /** Sets training mode on this module and every descendant; returns `this`. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Disposes every parameter and buffer of the tree. Calling it twice is harmless. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      if (m.disposed) continue;
      m.disposed = true;
      for (const { variable } of m.ownEntries.values()) {
        if (!variable.isDisposed) variable.dispose();
      }
    }
  }
}

/**
 * An indexed list of modules, named `0`, `1`, ... like `torch.nn.ModuleList`
 * (`layers.0.weight`, `layers.1.weight`, ...).
 *
 * @example
 * const layers = new ModuleList([new Linear(4, 4), new Linear(4, 2)]);
 * layers.get(1).forward(tf.zeros([3, 4])); // [3, 2]
 */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Appends `module` under the next index; returns it. */
  push(module: M): M {
    this.items.push(this.registerModule(String(this.items.length), module));
    return module;
  }

  /** The module at `index` (negative counts from the end). */
  get(index: number): M {
    const i = index < 0 ? this.items.length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.items.length) {
      throw new Error(`ModuleList: index ${index} out of range [0, ${this.items.length})`);
    }
    return this.items[i];
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * Modules under string keys, named by key like `torch.nn.ModuleDict` (`out_norms.2_dinov2.weight`).
 * Keys are letters, digits and underscores (no dots).
 *
 * @example
 * const heads = new ModuleDict({ semseg: new Linear(8, 40), depth: new Linear(8, 1) });
 * heads.get('depth').forward(tf.zeros([3, 8])); // [3, 1]
 */
export class ModuleDict<M extends Module = Module> extends Module {
  private readonly items = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? modules : Object.entries(modules);
    for (const [key, m] of entries as Iterable<[string, M]>) this.set(key, m);
  }

  /** Registers `module` under `key` (which must be new); returns it. */
  set(key: string, module: M): M {
    this.items.set(key, this.registerModule(key, module));
    return module;
  }

  /** The module under `key`; throws naming the known keys if there is none. */
  get(key: string): M {
    const m = this.items.get(key);
    if (!m) throw new Error(`ModuleDict: no key '${key}' (keys: ${[...this.items.keys()].join(', ')})`);
    return m;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }
}
