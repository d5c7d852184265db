/** What a WebGPU adapter is, and whether it is a real GPU. */

/** The adapter fields browsers and Dawn report (`GPUAdapterInfo`, plus `isFallbackAdapter`). */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Software rasterisers that expose WebGPU on a CPU: SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, WARP. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render/i;

/** True when the adapter runs on the CPU (a fallback adapter or a known software rasteriser). */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  if (info.isFallbackAdapter) return true;
  return SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/** `vendor/architecture (description)`, for logs. */
export function describeAdapter(info: AdapterInfo): string {
  const name = `${info.vendor || '?'}/${info.architecture || '?'}`;
  return info.description ? `${name} (${info.description})` : name;
}
