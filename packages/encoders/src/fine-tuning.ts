import type { Module } from '@cvm/nn';

/** Whether a parameter name belongs to a LoRA adapter (`...qkv.lora_A.weight`). */
export function isLoRAParameter(name: string): boolean {
  return /\.lora_[AB]\./.test(name);
}

/**
 * Sets `trainable` on every parameter whose name passes `filter` (default: all), leaving the others as
 * they are. Optimisers that use `module.trainableParameters()` then update only those.
 * @returns the names changed
 * @example
 * setTrainable(encoder, false);                       // freeze everything
 * setTrainable(encoder, true, isLoRAParameter);       // then train only the LoRA adapters
 */
export function setTrainable(
  module: Module,
  trainable: boolean,
  filter: (name: string) => boolean = () => true,
): string[] {
  const changed: string[] = [];
  for (const [name, v] of module.namedParameters()) {
    if (!filter(name)) continue;
    v.trainable = trainable;
    changed.push(name);
  }
  return changed;
}

/**
 * Freezes an encoder for fine-tuning: every parameter becomes non-trainable except those `keep` selects
 * (default: the LoRA adapters, if any).
 * @returns the names of the parameters left trainable
 */
export function freeze(module: Module, keep: (name: string) => boolean = isLoRAParameter): string[] {
  setTrainable(module, false);
  return setTrainable(module, true, keep);
}
