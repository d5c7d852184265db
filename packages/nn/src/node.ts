/// <reference types="node" />
// Node-only entry (`@cvm/nn/node`): file helpers around the in-memory safetensors reader/writer.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from './module.js';
import {
  loadSafetensors,
  readSafetensors,
  type SafetensorsContents,
  type SafetensorsWriteOptions,
  saveSafetensors,
} from './safetensors.js';
import {
  type LoadReport,
  type LoadStateDictOptions,
  loadModuleSafetensors,
  moduleToSafetensors,
} from './state-dict.js';

/**
 * Reads a safetensors file into tfjs tensors (owned by the caller). Errors name the file.
 * @example
 * const tensors = await loadSafetensorsFile('weights.safetensors');
 */
export async function loadSafetensorsFile(path: string): Promise<Record<string, tf.Tensor>> {
  const bytes = await readFileBytes(path);
  try {
    return loadSafetensors(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Reads a safetensors file into host arrays plus metadata (see `readSafetensors`). */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const bytes = await readFileBytes(path);
  try {
    return readSafetensors(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Bytes per read or write call: Node's file calls take at most 2 GiB − 1 at a time, and a checkpoint
 * can be larger (ViT-L's AdamW moments are 2.88 GB).
 */
const IO_CHUNK_BYTES = 2 ** 30;

/**
 * Reads a whole file of any size (Node's `readFile` stops at 2 GiB), in chunks of `chunkBytes`.
 * @example const bytes = await readFileBytes('optimizer.safetensors');
 */
export async function readFileBytes(path: string, chunkBytes = IO_CHUNK_BYTES): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(bytes, offset, Math.min(chunkBytes, size - offset), offset);
      if (bytesRead === 0)
        throw new Error(`${path}: the file ended at byte ${offset} of ${size} while being read`);
      offset += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory, written in chunks of
 * `chunkBytes` (any size), flushed, then renamed over `path`, so readers see the old file or the
 * complete new one, never a partial write.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  chunkBytes = IO_CHUNK_BYTES,
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx');
    for (let offset = 0; offset < bytes.length; ) {
      const { bytesWritten } = await handle.write(
        bytes,
        offset,
        Math.min(chunkBytes, bytes.length - offset),
        offset,
      );
      offset += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Saves tensors (float32 → `dtype`, int32, bool) as a safetensors file, atomically.
 * @example
 * await saveSafetensorsFile('out.safetensors', { w: tf.ones([2, 2]) }, { dtype: 'BF16' });
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, tf.Tensor>,
  options: SafetensorsWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await saveSafetensors(tensors, options));
}

/** Saves a module's state dict in PyTorch layout and names (see `moduleToSafetensors`), atomically. */
export async function saveModuleFile(
  path: string,
  module: Module,
  options: SafetensorsWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await moduleToSafetensors(module, options));
}

/** Loads a safetensors file into a module (see `loadStateDict`; strict and PyTorch layout by default). */
export async function loadModuleFile(
  path: string,
  module: Module,
  options: LoadStateDictOptions = {},
): Promise<LoadReport> {
  const bytes = await readFileBytes(path);
  try {
    return loadModuleSafetensors(module, bytes, options);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
