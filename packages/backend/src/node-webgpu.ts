/**
 * WebGPU in Node through Dawn (the `webgpu` npm package, binary inside the package).
 *
 * Without a GPU, Dawn finds an adapter through Vulkan when `VK_ICD_FILENAMES` points at a software
 * driver; Debian's `chromium` package ships SwiftShader's (`/usr/lib/chromium/vk_swiftshader_icd.json`),
 * and `libvulkan1` provides the loader. `@tensorflow/tfjs-backend-webgpu` registers its backend only if
 * `navigator.gpu` exists when it is imported, so call this before importing it.
 */

import { type AdapterInfo, isSoftwareAdapter } from './webgpu-adapter.js';

/** Where Debian's chromium package puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface NodeWebGPUOptions {
  /** Dawn options passed to `create()`. Default `['backend=vulkan']`. */
  dawnOptions?: string[];
  /**
   * Vulkan driver manifest used when `VK_ICD_FILENAMES` is unset and the file exists.
   * Default: SwiftShader from Debian's chromium. Pass `null` to leave the loader's choice alone.
   */
  icdFile?: string | null;
}

export interface NodeWebGPUResult {
  /** True when `navigator.gpu.requestAdapter()` returned an adapter. */
  available: boolean;
  /** Adapter vendor/architecture, e.g. `google/swiftshader`, when available. */
  adapter?: string;
  /** The adapter's reported info, when available. */
  info?: AdapterInfo;
  /** True when the adapter is a software rasteriser on the CPU (SwiftShader, llvmpipe, …). */
  software?: boolean;
  /** Why WebGPU is not available, when it is not. */
  reason?: string;
}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<{ info?: AdapterInfo; isFallbackAdapter?: boolean } | null> };
}

let pending: Promise<NodeWebGPUResult> | undefined;

/**
 * Installs Dawn's `navigator.gpu` into this Node process (once) and probes for an adapter.
 * Resolves with `available: false` and a reason instead of throwing when WebGPU cannot be had.
 */
export function initNodeWebGPU(options: NodeWebGPUOptions = {}): Promise<NodeWebGPUResult> {
  pending ??= install(options);
  return pending;
}

async function install(options: NodeWebGPUOptions): Promise<NodeWebGPUResult> {
  const g = globalThis as unknown as { navigator?: NavigatorWithGpu; process?: NodeJS.Process };
  if (g.navigator?.gpu) return probe(g.navigator);
  if (typeof g.process?.versions?.node !== 'string') {
    return { available: false, reason: 'this browser has no navigator.gpu' };
  }
  const icdFile = options.icdFile === undefined ? SWIFTSHADER_ICD : options.icdFile;
  if (icdFile && !process.env.VK_ICD_FILENAMES) {
    const { existsSync } = await import('node:fs');
    if (existsSync(icdFile)) process.env.VK_ICD_FILENAMES = icdFile;
  }
  let dawn: { create(opts: string[]): unknown; globals: Record<string, unknown> };
  try {
    const moduleName = 'webgpu';
    dawn = (await import(/* @vite-ignore */ moduleName)) as typeof dawn;
  } catch (err) {
    return {
      available: false,
      reason: `the 'webgpu' package (Dawn for Node) could not be loaded: ${String(err)}`,
    };
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(options.dawnOptions ?? ['backend=vulkan']);
  if (!g.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true });
  return probe(g.navigator!);
}

async function probe(nav: NavigatorWithGpu): Promise<NodeWebGPUResult> {
  try {
    const adapter = await nav.gpu!.requestAdapter();
    if (!adapter) {
      const inNode = typeof (globalThis as { process?: NodeJS.Process }).process?.versions?.node === 'string';
      return {
        available: false,
        reason: inNode
          ? 'navigator.gpu.requestAdapter() returned null (no Vulkan driver: install Debian packages ' +
            `libvulkan1 and chromium, or set VK_ICD_FILENAMES; looked for ${SWIFTSHADER_ICD})`
          : 'navigator.gpu.requestAdapter() returned null (WebGPU disabled or no usable GPU in this browser)',
      };
    }
    // GPUAdapterInfo's fields are prototype getters: copy them by name.
    const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info ?? {};
    const info: AdapterInfo = { vendor, architecture, device, description };
    info.isFallbackAdapter = Boolean(isFallbackAdapter || adapter.isFallbackAdapter);
    return {
      available: true,
      adapter: `${info.vendor || '?'}/${info.architecture || '?'}`,
      info,
      software: isSoftwareAdapter(info),
    };
  } catch (err) {
    return { available: false, reason: `requestAdapter() failed: ${String(err)}` };
  }
}
