// Run as a child process by wasm-exit.test.ts: activates threaded wasm, runs a matMul on the pool and
// ends without removing the backend. The process must exit by itself, and no global may have been added.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, wasmThreadsCount } from '../../src/index.js';

const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));
const choice = await selectBackend(['wasm'], { threads: 2 });
const a = tf.randomNormal([128, 128], 0, 1, 'float32', 1);
const product = tf.matMul(a, a);
await product.data();
const added = Object.getOwnPropertyNames(globalThis).filter((name) => !globalsBefore.has(name));
console.log(`${choice.name} ${await wasmThreadsCount()} new globals: [${added.join(', ')}]`);
