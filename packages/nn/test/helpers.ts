import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type SafetensorsContents } from '../src/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixtureBytes(file: string): Uint8Array {
  return readFileSync(join(FIXTURES, file));
}

/** A fixture file decoded once, handing out fresh tensors by name. */
export class Fixture {
  readonly contents: SafetensorsContents;
  constructor(file: string) {
    this.contents = readSafetensors(fixtureBytes(file));
  }
  has(name: string): boolean {
    return name in this.contents.tensors;
  }
  values(name: string): Float32Array | Int32Array | Uint8Array {
    const t = this.contents.tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}'`);
    return t.values;
  }
  shape(name: string): number[] {
    return this.contents.tensors[name].shape;
  }
  tensor(name: string): tf.Tensor {
    const t = this.contents.tensors[name];
    if (!t) throw new Error(`fixture has no tensor '${name}'`);
    return tf.tensor(t.values, t.shape, t.values instanceof Float32Array ? 'float32' : 'int32');
  }
}
