/**
 * Which kernels a computation runs, at which shapes and attributes, and how long each takes: the raw
 * material of a per-kernel benchmark. `tf.profile` lists kernels with their input shapes but not their
 * attributes (strides, padding, transposes, axes), which a kernel cannot be re-run without; here every
 * kernel of the active backend is wrapped while the computation runs.
 */
import * as tf from '@tensorflow/tfjs-core';

/** One kernel invocation, enough to run it again on fresh inputs. */
export interface KernelCall {
  /** The kernel's registered name, e.g. 'Conv2D'. */
  kernel: string;
  /** Its inputs in the order the op passed them, by the names the kernel reads them under. */
  inputs: { name: string; shape: number[]; dtype: tf.DataType }[];
  /** Its attributes as the op passed them. */
  attrs: tf.NamedAttrMap;
}

/** A distinct (kernel, input shapes and dtypes, attributes) seen by {@link recordKernelCalls}. */
export interface RecordedKernel extends KernelCall {
  /** Identifies the call's kernel, inputs and attributes. */
  key: string;
  /** How often it ran. */
  calls: number;
  /** Wall time of all its runs (the backend's kernels are synchronous on wasm and cpu). */
  ms: number;
}

function keyOf(call: KernelCall): string {
  const inputs = call.inputs.map((i) => `${i.name}:${i.dtype}[${i.shape}]`).join(',');
  return `${call.kernel}(${inputs})${JSON.stringify(call.attrs)}`;
}

/**
 * Runs `f` with every kernel of the active backend wrapped, and returns its result with the kernels
 * it ran, by distinct call, most time first. Kernels that other kernels call internally are counted
 * in their caller. Times include the wrapper's bookkeeping (microseconds per call). Do not nest.
 * @example
 * const { kernels } = await recordKernelCalls(() => tf.tidy(() => model.forward(x).dispose()));
 */
export async function recordKernelCalls<T>(
  f: () => T | Promise<T>,
): Promise<{ result: T; kernels: RecordedKernel[] }> {
  const backendName = tf.getBackend();
  const configs = tf.getKernelsForBackend(backendName);
  const seen = new Map<string, RecordedKernel>();
  let depth = 0;
  const wrap = (config: tf.KernelConfig): tf.KernelConfig => ({
    ...config,
    kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
      if (depth > 0) return config.kernelFunc(args);
      depth++;
      const t0 = performance.now();
      try {
        return config.kernelFunc(args);
      } finally {
        const ms = performance.now() - t0;
        depth--;
        const call: KernelCall = {
          kernel: config.kernelName,
          inputs: Object.entries(args.inputs).flatMap(([name, t]) =>
            t ? [{ name, shape: [...t.shape], dtype: t.dtype }] : [],
          ),
          attrs: { ...(args.attrs ?? {}) },
        };
        const key = keyOf(call);
        const row = seen.get(key) ?? { ...call, key, calls: 0, ms: 0 };
        row.calls++;
        row.ms += ms;
        seen.set(key, row);
      }
    }) as tf.KernelFunc,
  });
  const swap = (next: (c: tf.KernelConfig) => tf.KernelConfig) => {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(next(config));
    }
  };
  swap(wrap);
  try {
    const result = await f();
    return { result, kernels: [...seen.values()].sort((a, b) => b.ms - a.ms) };
  } finally {
    swap((config) => config);
  }
}

/** Fresh inputs for `call`: uniform in [0.5, 1.5) for floats (valid for logs and roots), zeros else. */
function inputsFor(call: KernelCall): tf.NamedTensorMap {
  const tensors = call.inputs.map(({ shape, dtype }) =>
    dtype === 'float32' ? tf.randomUniform(shape, 0.5, 1.5, 'float32', 1) : tf.zeros(shape, dtype),
  );
  // Kernels of a list (AddN, Concat, Pack) take an array; its entries were recorded as '0', '1', …
  if (call.inputs.every((input, i) => input.name === String(i))) {
    return tensors as unknown as tf.NamedTensorMap;
  }
  return Object.fromEntries(call.inputs.map((input, i) => [input.name, tensors[i]!]));
}

/**
 * Median milliseconds of one run of `call` on the active backend (one whose kernels are synchronous:
 * wasm, cpu), on fresh inputs. After one warm-up run it repeats until `budgetMs` has been spent, at
 * most `maxRuns` times; at least 3 times when the warm-up took under a third of the budget, so that
 * one stall of a loaded machine does not decide a short kernel's time. Leaves no tensors behind.
 */
export function timeKernelCall(call: KernelCall, { budgetMs = 200, maxRuns = 20 } = {}): number {
  const inputs = inputsFor(call);
  const run = (): number => {
    const t0 = performance.now();
    const out = tf.engine().runKernel(call.kernel, inputs, call.attrs);
    const ms = performance.now() - t0;
    tf.dispose(out as tf.Tensor | tf.Tensor[]);
    return ms;
  };
  try {
    const warmUp = run();
    const minRuns = warmUp < budgetMs / 3 ? 3 : 1;
    const times: number[] = [];
    let spent = 0;
    while (times.length < minRuns || (times.length < maxRuns && spent < budgetMs)) {
      const ms = run();
      times.push(ms);
      spent += ms;
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    tf.dispose(Object.values(inputs));
  }
}
