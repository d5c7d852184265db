import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Conv2d,
  gelu,
  Linear,
  loadStateDict,
  Module,
  normalizeImage,
  ModuleList,
  readSafetensors,
  type SafetensorsContents,
} from '@cvm/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { MultiScaleEncoder } from '../src/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The PyTorch fixture, handing out fresh tensors by name (ids as int32 when asked). */
export class Fixture {
  readonly contents: SafetensorsContents;
  constructor(file: string) {
    this.contents = readSafetensors(readFileSync(join(FIXTURES, file)));
  }
  names(prefix = ''): string[] {
    return Object.keys(this.contents.tensors).filter((n) => n.startsWith(prefix));
  }
  has(name: string): boolean {
    return name in this.contents.tensors;
  }
  values(name: string): Float32Array {
    const t = this.contents.tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}'`);
    return t.values as Float32Array;
  }
  shape(name: string): number[] {
    return this.contents.tensors[name].shape;
  }
  tensor(name: string, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
    const t = this.contents.tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}'`);
    return tf.tensor(dtype === 'int32' ? Int32Array.from(t.values) : t.values, t.shape, dtype);
  }
  /** Nested-array matrix (cameras). */
  matrix(name: string): number[][] {
    const t = this.contents.tensors[name];
    const [r, c] = t.shape;
    return Array.from({ length: r }, (_, i) => Array.from(t.values.slice(i * c, i * c + c)));
  }
  /** Loads `${prefix}.<entry>` (PyTorch layout) into `module`, strictly by name, except `skip`. */
  load(module: Module, prefix: string, skip: readonly string[] = []): void {
    const names = this.names(`${prefix}.`).filter((n) => !skip.includes(n.slice(prefix.length + 1)));
    if (names.length + skip.length !== this.names(`${prefix}.`).length)
      throw new Error(`load: not every skipped name is in ${prefix}`);
    const tensors = Object.fromEntries(
      names.map((n) => [
        n.slice(prefix.length + 1),
        this.tensor(n, n.endsWith('num_batches_tracked') ? 'int32' : 'float32'),
      ]),
    );
    try {
      loadStateDict(module, tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }
}

/**
 * The test encoder (also `TinyEncoder` in make_heads_fixtures.py): ImageNet normalisation, a
 * patch-embedding conv `patch_embed` (p×p, stride p), then four residual `x + GELU(Linear(x))`
 * stages `blocks.k`, each stage's tokens one output map.
 */
export class TinyEncoder extends Module implements MultiScaleEncoder {
  readonly patchEmbed: Conv2d;
  readonly blocks: ModuleList<Linear>;
  constructor(
    readonly embedDim: number,
    patch = 16,
  ) {
    super();
    this.patchEmbed = this.registerModule('patch_embed', new Conv2d(3, embedDim, patch, { stride: patch }));
    this.blocks = this.registerModule(
      'blocks',
      new ModuleList([0, 1, 2, 3].map(() => new Linear(embedDim, embedDim))),
    );
  }
  forwardIntermediates(images: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      let t: tf.Tensor = this.patchEmbed.forward(normalizeImage(images));
      const maps: tf.Tensor4D[] = [];
      for (const blk of this.blocks) {
        t = tf.add(t, gelu(blk.forward(t)));
        maps.push(t as tf.Tensor4D);
      }
      return maps;
    });
  }
}

/** The CvM of make_heads_fixtures.py's model step (the sizes of cvm-module's own fixture, whose reference it imports). */
export const FIXTURE_CVM = {
  encoderDims: [8, 12, 16] as [number, number, number],
  featureChannels: 16,
  numLayers: 3,
  attnSplits: 2,
  adapterHidden: 24,
  upsamplerHidden: 16,
  depthRange: { near: 0.5, far: 10, count: 8 },
};

/** Max |a| over an array (scale for tolerances). */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
