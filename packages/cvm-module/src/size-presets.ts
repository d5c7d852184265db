import type { CrossViewModuleConfig } from './cross-view-module.js';

/** Names of `CVM_SIZE_PRESETS`. */
export type CvmSizeName = 'paper' | 'small' | 'tiny';

/**
 * Named CvM sizes: the paper's defaults (4.93 M parameters, L = 128), and two that train on a CPU in
 * minutes (the training CLI's `--cvm-size`; a checkpoint's `config.json` names one).
 * @example new CrossViewModule({ ...CVM_SIZE_PRESETS.small, mode: 'full' });
 */
export const CVM_SIZE_PRESETS: Readonly<Record<CvmSizeName, Omit<CrossViewModuleConfig, 'mode'>>> = {
  paper: {},
  small: {
    encoderDims: [24, 32, 48],
    featureChannels: 48,
    numLayers: 2,
    adapterHidden: 96,
    depthRange: { near: 0.5, far: 10, count: 32 },
    upsamplerHidden: 64,
  },
  tiny: {
    encoderDims: [8, 8, 16],
    featureChannels: 16,
    numLayers: 1,
    adapterHidden: 16,
    depthRange: { near: 0.5, far: 10, count: 8 },
    upsamplerHidden: 16,
  },
};
