import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, uncapThreads, type WasmImports } from '../src/wasm/threaded-module.js';

// The glue's core-count import, as published and as a minifier leaves it (renamed, body kept).
function _emscripten_num_logical_cores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency: number } }).navigator?.hardwareConcurrency ?? 2;
}
const minified = new Function('return function iI(){return navigator.hardwareConcurrency}')() as () => number;
const other = () => 7;

describe('uncapThreads', () => {
  it('replaces the core-count import found by its name', () => {
    const imports: WasmImports = { env: { a: other, X: _emscripten_num_logical_cores } };
    uncapThreads(imports);
    expect((imports.env.X as () => number)()).toBe(2 * MAX_WASM_THREADS);
    expect(imports.env.a).toBe(other);
  });

  it('replaces it after a minifier renamed it (found by its body)', () => {
    expect(minified.name).toBe('iI');
    const imports: WasmImports = { env: { b: other, c: minified } };
    uncapThreads(imports);
    expect((imports.env.c as () => number)()).toBe(2 * MAX_WASM_THREADS);
    expect(imports.env.b).toBe(other);
  });

  it('says so when the build has no such import', () => {
    expect(() => uncapThreads({ env: { a: other } })).toThrow(/core-count import/);
  });
});
