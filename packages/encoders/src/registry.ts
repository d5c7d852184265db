import type { Encoder } from './encoder.js';
import { type EncoderConfig, PRESETS, type SAKConfig } from './presets.js';
import { SAKEncoder } from './sak.js';
import type { ViTConfig } from './vit-config.js';
import { VisionTransformer } from './vit.js';

/** Options that may override a preset: any ViT option (for SAK: of its stem), plus SAK's own. */
export type EncoderOverrides = Partial<ViTConfig> & Partial<Omit<SAKConfig, 'family' | 'vit'>>;

/** The names `createEncoder` accepts. */
export function listEncoders(): string[] {
  return Object.keys(PRESETS);
}

/** A preset's full configuration with `overrides` applied (a fresh object). */
export function encoderConfig(name: string, overrides: EncoderOverrides = {}): EncoderConfig {
  const preset = PRESETS[name];
  if (!preset)
    throw new Error(`createEncoder: unknown encoder '${name}' (known: ${listEncoders().join(', ')})`);
  const { teachers, downRatio, tasks, noisyGating, ...vit } = overrides;
  if (preset.family === 'sak') {
    const sak: SAKConfig = { ...preset, vit: { ...preset.vit, ...vit } };
    if (teachers) sak.teachers = teachers;
    if (downRatio !== undefined) sak.downRatio = downRatio;
    if (tasks) sak.tasks = tasks;
    if (noisyGating !== undefined) sak.noisyGating = noisyGating;
    return sak;
  }
  const extra = Object.keys(overrides).filter((k) =>
    ['teachers', 'downRatio', 'tasks', 'noisyGating'].includes(k),
  );
  if (extra.length)
    throw new Error(`createEncoder: '${name}' is not a SAK encoder; cannot override ${extra.join(', ')}`);
  return { ...preset, ...vit };
}

/** Builds an encoder from a configuration. */
export function buildEncoder(config: EncoderConfig): Encoder {
  return config.family === 'sak' ? new SAKEncoder(config) : new VisionTransformer(config);
}

/**
 * Builds a named encoder with random weights (timm's `create_model`); load weights with
 * `loadCheckpoint`. Call `encoder.eval()` for inference.
 * @param name one of `listEncoders()`
 * @param overrides options replacing the preset's (e.g. `{ depth: 4 }`, SAK `{ tasks: ['semseg'] }`)
 * @example
 * const enc = createEncoder('dinov3_vitb16');
 * const maps = enc.forwardIntermediates(images); // 4 × [B, H/16, W/16, 768]
 */
export function createEncoder(name: string, overrides: EncoderOverrides = {}): Encoder {
  return buildEncoder(encoderConfig(name, overrides));
}
