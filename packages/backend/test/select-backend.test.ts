import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BackendName,
  hasWebGPUForTests,
  initNodeWebGPU,
  isSoftwareAdapter,
  selectBackend,
} from '../src/index.js';

afterAll(() => {
  // The threaded wasm backend's workers would keep the process alive.
  if (tf.engine().registry.wasm) tf.removeBackend('wasm');
});

describe('selectBackend', () => {
  it('falls back past tfjs-node when it is not installed, and says why', async () => {
    const choice = await selectBackend(['tensorflow', 'cpu']);
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.skipped).toHaveLength(1);
    expect(choice.skipped[0]!.name).toBe('tensorflow');
    // The import error itself, not just "not available".
    expect(choice.skipped[0]!.reason).toMatch(/import\('@tensorflow\/tfjs-node-gpu'\) failed: .*tfjs-node/);
    expect(choice.why).toMatch(/tensorflow: import/);
  });

  it('rejects unknown names, listing the known ones', async () => {
    await expect(selectBackend(['cuda' as BackendName])).rejects.toThrow(
      "selectBackend: unknown backend 'cuda'; known backends: tensorflow, webgpu, webgl, wasm, cpu-xnnpack, cpu",
    );
  });

  it('explains why nothing could be activated', async () => {
    await expect(selectBackend(['tensorflow', 'webgl'])).rejects.toThrow(
      /No tfjs backend could be activated \(tensorflow: import\(.*failed: .*; webgl: WebGL needs a browser\)/,
    );
  });

  it('reports the error a backend factory throws', async () => {
    tf.registerBackend('webgl', () => {
      throw new Error('no WebGL context here');
    });
    try {
      await expect(selectBackend(['webgl'])).rejects.toThrow(
        /webgl: initialisation failed: no WebGL context here/,
      );
    } finally {
      tf.removeBackend('webgl');
    }
  });
});

describe('the default order', () => {
  it('passes over WebGPU on a software adapter and picks wasm here, saying why', async () => {
    const probe = await initNodeWebGPU();
    const choice = await selectBackend(undefined, { threads: 2 });
    expect(choice.name).toBe('wasm');
    expect(choice.why).toMatch(/^wasm: tfjs-backend-wasm \(XNNPACK, SIMD, 2 thread\(s\)\)/);
    expect(choice.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    if (probe.software) expect(choice.skipped[1]!.reason).toMatch(/software rasteriser on the CPU/);
  });
});

describe('isSoftwareAdapter', () => {
  it('tells CPU rasterisers from GPUs', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(
      true,
    );
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: true })).toBe(
      true,
    );
    expect(
      isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA RTX A4000' }),
    ).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3' })).toBe(false);
  });
});

describe('initNodeWebGPU', () => {
  it('finds an adapter, or says why not', async () => {
    const result = await initNodeWebGPU();
    if (result.available) expect(result.adapter).toMatch(/\//);
    else expect(result.reason).toMatch(/adapter|webgpu|Vulkan/i);
    if (process.env.CI === 'true') expect(result.available).toBe(true);
    // Memoised: the same probe result on a second call.
    expect(await initNodeWebGPU()).toBe(result);
  });

  it('runs a WebGPU matmul through selectBackend', async (ctx) => {
    if (!(await hasWebGPUForTests())) return ctx.skip();
    expect((await selectBackend(['webgpu'])).name).toBe('webgpu');
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const c = tf.matMul(a, a);
    expect(Array.from(await c.data())).toEqual([7, 10, 15, 22]);
    tf.dispose([a, c]);
  });
});
