/// <reference types="node" />
// The commands of the `cvm-encoders` bin (`inspect`, `convert`); `cli.ts` runs them.
import { moduleToSafetensors } from '@cvm/nn';
import { readFileBytes, writeFileAtomic } from '@cvm/nn/node';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpointContents } from './checkpoint/load.js';
import { readCheckpoint } from './checkpoint/read-checkpoint.js';
import { detectEncoder } from './detect.js';
import { createEncoder, encoderConfig } from './registry.js';

const usage = `Usage: cvm-encoders inspect <checkpoint>     family, naming scheme, preset, parameter count and dtypes
       cvm-encoders convert <checkpoint> <out.safetensors> [--heads N] [--grid HxW] [--non-strict]
      normalises any supported checkpoint (DINOv3 .pth / HF / timm, RADIO .pth.tar / HF, SAK stage 1/2)
      to one F32 safetensors file with @cvm/encoders' own parameter names`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function parseGrid(text: string | undefined): [number, number] | undefined {
  if (!text) return undefined;
  const m = text.match(/^(\d+)x(\d+)$/);
  if (!m) throw new Error(`--grid must look like 28x36, got '${text}'`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * Runs one `cvm-encoders` command line and resolves with its exit code; output goes to `print`.
 * @example await runCli(['inspect', 'dinov3_vitb16.pth']);
 */
export async function runCli(
  argv: readonly string[],
  print: (text: string) => void = console.log,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    print(usage);
    return 0;
  }
  const [command, ...rest] = argv;
  const positional = rest.filter(
    (a, i) =>
      !a.startsWith('--') && !rest[i - 1]?.startsWith('--heads') && !rest[i - 1]?.startsWith('--grid'),
  );
  if (command !== 'inspect' && command !== 'convert') {
    print(usage);
    return 2;
  }
  const input = positional[0];
  if (!input || (command === 'convert' && !positional[1])) {
    print(usage);
    return 2;
  }
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch {
    throw new Error(
      'the CLI needs a tfjs backend: install @tensorflow/tfjs-backend-cpu (or @tensorflow/tfjs)',
    );
  }
  await tf.setBackend('cpu');
  const contents = readCheckpoint(await readFileBytes(input));
  const detected = detectEncoder(contents.tensors, parseGrid(option(rest, 'grid')));
  const heads = option(rest, 'heads');
  if (heads) detected.overrides.numHeads = Number(heads);
  const enc = createEncoder(detected.preset, detected.overrides);
  try {
    const report = loadCheckpointContents(enc, contents, { strict: !rest.includes('--non-strict') });
    if (command === 'inspect') {
      print(
        JSON.stringify(
          {
            file: input,
            format: contents.format,
            stateDict: contents.stateDictPath || '(top level)',
            scheme: report.scheme,
            family: detected.family,
            preset: detected.preset,
            exactPreset: detected.exactPreset,
            overrides: detected.overrides,
            parameters: enc.numParameters(),
            tensorsInFile: Object.keys(contents.tensors).length,
            dtypes: detected.dtypes,
            ignored: report.ignored.length,
            records: Object.keys(contents.records),
          },
          null,
          2,
        ),
      );
      return 0;
    }
    const config = encoderConfig(detected.preset, detected.overrides);
    const bytes = await moduleToSafetensors(enc, {
      metadata: {
        format: 'pt',
        'cvm-encoders.preset': detected.preset,
        'cvm-encoders.config': JSON.stringify(config),
      },
    });
    await writeFileAtomic(positional[1], bytes);
    print(
      `${input} (${contents.format}, ${report.scheme}) -> ${positional[1]}: ${report.loaded.length} tensors, ${enc.numParameters()} parameters, preset ${detected.preset}; ignored ${report.ignored.length}`,
    );
    return 0;
  } finally {
    enc.dispose();
  }
}
