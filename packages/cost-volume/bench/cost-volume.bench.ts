/**
 * `pnpm --filter @cvm/cost-volume bench [--json] [--runs N] [--backends cpu,webgpu] [--skip-composite]`
 *
 * The paper's size: 2 views, each once as reference, C = 128, 56×72 features (448×576 / 8), L = 128
 * over the indoor range 0.5–10 m, a handheld baseline (15 cm, 3° yaw). Times forward and
 * forward+backward (median of N runs after a warm-up) and tf's peak extra memory, for the fused kernels
 * and the chunked composite, on cpu and on webgpu (SwiftShader in Node). When Debian's python3-torch is
 * present, the references' PyTorch formulation is timed in the same run (2 threads) for the ratio.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, selectBackend } from '@cvm/backend';
import { costVolume } from '../src/index.js';
import { DEPTH_PRESETS, inverseDepthCandidates, relativePose } from '@cvm/geometry';
import { activeBackends, benchArgs, handheldTwoViewRig, medianSeconds } from '@cvm/test-utils/bench';
// The union package registers the cpu backend and every stock gradient (tfjs-core alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

const { flag, option, json, log } = benchArgs();
const runs = Number(option('runs', '5'));
const backends = option('backends', 'cpu,webgpu').split(',');
// The composite (stock ops, for wasm/webgl/tfjs-node) is far slower than the fused kernels on cpu and
// SwiftShader; it is timed on the first `compositeCandidates` planes and reported as measured.
const compositeCandidates = Number(option('composite-candidates', '8'));

const C = 128;
const H = 56;
const W = 72;
const L = DEPTH_PRESETS.indoor.count;
// The rig at the feature resolution (448×576 / 8); T_nbr<-ref for each view as reference, read on the
// host while the default (cpu) backend is active.
const {
  intrinsics: K,
  cameraToWorld: [c2w0, c2w1],
} = handheldTwoViewRig(H, W);
const poses = [relativePose(c2w0, c2w1), relativePose(c2w1, c2w0)].map((t) => {
  const m = t.arraySync() as number[][];
  t.dispose();
  return m;
});

interface Row {
  backend: string;
  implementation: 'fused' | 'composite';
  /** Candidates timed (L = 128 for fused; fewer for the composite, see --composite-candidates). */
  candidates: number;
  forwardSeconds: number;
  forwardBackwardSeconds: number;
  peakExtraForwardMiB: number;
  peakExtraForwardBackwardMiB: number;
}

async function benchOne(backend: string, implementation: 'fused' | 'composite'): Promise<Row> {
  const count = implementation === 'fused' ? L : Math.min(L, compositeCandidates);
  const features = [1, 2].map((seed) => tf.randomNormal([1, H, W, C], 0, 1, 'float32', seed) as tf.Tensor4D);
  const dy = [
    tf.randomNormal([1, H, W, count], 0, 1, 'float32', 3),
    tf.randomNormal([1, H, W, count], 0, 1, 'float32', 4),
  ];
  const all = inverseDepthCandidates(DEPTH_PRESETS.indoor.near, DEPTH_PRESETS.indoor.far, L);
  // The composite's subset spans the same range (every (L/count)-th plane).
  const inverseDepths =
    count === L
      ? all
      : tf.gather(
          all,
          tf.tensor1d(
            Array.from({ length: count }, (_, i) => Math.round((i * (L - 1)) / Math.max(1, count - 1))),
            'int32',
          ),
        );
  if (inverseDepths !== all) all.dispose();
  const volumes = (f0: tf.Tensor4D, f1: tf.Tensor4D) => [
    costVolume(f0, [f1], { intrinsics: K, poses: [poses[0]], inverseDepths, implementation }),
    costVolume(f1, [f0], { intrinsics: K, poses: [poses[1]], inverseDepths, implementation }),
  ];
  const forward = async () => {
    const out = volumes(features[0], features[1]);
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
  };
  // Backward from a given upstream gradient per volume (tf.grads' dy), so the figures are the cost
  // volume's own and not those of a loss built around it. Gradients of both views are accumulated.
  const pairGrads = [0, 1].map((r) =>
    tf.grads((ref: tf.Tensor, nbr: tf.Tensor) =>
      costVolume(ref as tf.Tensor4D, [nbr as tf.Tensor4D], {
        intrinsics: K,
        poses: [poses[r]],
        inverseDepths,
        implementation,
      }),
    ),
  );
  const forwardBackward = async () => {
    const [dRef0, dNbr0] = pairGrads[0]([features[0], features[1]], dy[0]);
    const [dRef1, dNbr1] = pairGrads[1]([features[1], features[0]], dy[1]);
    const total = [tf.add(dRef0, dNbr1), tf.add(dNbr0, dRef1)];
    tf.dispose([dRef0, dNbr0, dRef1, dNbr1]);
    await Promise.all(total.map((t) => t.data()));
    tf.dispose(total);
  };
  const forwardSeconds = await medianSeconds(forward, runs);
  const forwardBackwardSeconds = await medianSeconds(forwardBackward, runs);
  const peak = async (fn: () => Promise<void>) => {
    const before = tf.memory().numBytes;
    const info = await tf.profile(fn);
    return (info.peakBytes - before) / 2 ** 20;
  };
  const row: Row = {
    backend,
    implementation,
    candidates: count,
    forwardSeconds,
    forwardBackwardSeconds,
    peakExtraForwardMiB: await peak(forward),
    peakExtraForwardBackwardMiB: await peak(forwardBackward),
  };
  tf.dispose([...features, ...dy, inverseDepths]);
  return row;
}

function torchReference(): { forwardSeconds: number; forwardBackwardSeconds: number; torch: string } | null {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
  const r = spawnSync(python, [script, '--runs', String(runs), '--threads', '2'], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`(PyTorch reference skipped: ${r.stderr.trim().split('\n').pop()})`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main() {
  const rows: Row[] = [];
  // Dawn for webgpu in Node, the backend package's import, tf.setBackend: @cvm/backend does all three.
  for await (const backend of activeBackends<BackendName>(backends, (b) => selectBackend([b]), log)) {
    for (const impl of flag('skip-composite') ? (['fused'] as const) : (['fused', 'composite'] as const)) {
      log(`running ${backend} ${impl} ...`);
      rows.push(await benchOne(backend, impl));
    }
  }
  const torch = torchReference();
  const result = { size: { views: 2, C, H, W, L, depthRange: DEPTH_PRESETS.indoor }, runs, rows, torch };
  if (json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      '\nbackend  impl       forward(s)  fwd+bwd(s)  peak fwd(MiB)  peak fwd+bwd(MiB)  vs torch fwd  vs torch fwd+bwd',
    );
    for (const r of rows) {
      const ratio = (a: number, b?: number) => (b && r.candidates === L ? `${(a / b).toFixed(3)}x` : '-');
      console.log(
        `${r.backend.padEnd(8)} ${r.implementation.padEnd(10)} ${String(r.candidates).padStart(3)} ${r.forwardSeconds.toFixed(3).padStart(10)}  ${r.forwardBackwardSeconds.toFixed(3).padStart(10)}  ${r.peakExtraForwardMiB.toFixed(1).padStart(13)}  ${r.peakExtraForwardBackwardMiB.toFixed(1).padStart(17)}  ${ratio(r.forwardSeconds, torch?.forwardSeconds).padStart(12)}  ${ratio(r.forwardBackwardSeconds, torch?.forwardBackwardSeconds).padStart(16)}`,
      );
    }
    if (torch) {
      console.log(
        `torch ${torch.torch} (2 threads): forward ${torch.forwardSeconds.toFixed(3)} s, forward+backward ${torch.forwardBackwardSeconds.toFixed(3)} s`,
      );
    } else console.log('PyTorch reference not run (needs /usr/bin/python3 with torch: Debian python3-torch)');
  }
  // Dawn keeps the process alive while navigator.gpu is referenced.
  process.exit(0);
}

await main();
