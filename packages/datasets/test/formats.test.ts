import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { python, pythonHas } from './python.js';
import {
  SyntheticWorld,
  colmapCameraIntrinsics,
  colmapImagePose,
  colmapViewCamera,
  decodeNpy,
  decodeNyudSemseg,
  decodePng,
  encodeNormals,
  encodeNpy,
  encodeNyudSemseg,
  encodePng,
  exportSyntheticNyudMt,
  parseCliArgs,
  parseColmapText,
  quaternionToRotation,
  readNyudMtSample,
  readNyudMtSplit,
  readPascalMtSplit,
  rotationToQuaternion,
  runCli,
} from '../src/node.js';

const tmp = mkdtempSync(join(tmpdir(), 'cvm-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('.npy', () => {
  test('round trip, 64-byte aligned header', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.25 - 1);
    const bytes = encodeNpy(data, [3, 4]);
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([3, 4]);
    expect(back.descr).toBe('<f4');
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(() => encodeNpy(data, [5, 4])).toThrow(/shape/);
    expect(() => decodeNpy(bytes.slice(0, bytes.length - 4), 'x.npy')).toThrow(/x\.npy.*truncated/);
  });

  test.skipIf(!pythonHas('numpy'))('numpy reads what we write and we read what numpy writes', () => {
    const file = join(tmp, 'a.npy');
    writeFileSync(file, encodeNpy(Float32Array.from([1.5, -2, 3.25, 0, 7, 8]), [2, 3]));
    const script = `import numpy as np\na = np.load('${file}')\nassert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)\nprint(a.sum())\nnp.save('${join(tmp, 'b.npy')}', np.arange(6, dtype=np.int32).reshape(3, 2) * 3)`;
    const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBe(17.75);
    const b = decodeNpy(readFileSync(join(tmp, 'b.npy')));
    expect(b.shape).toEqual([3, 2]);
    expect(Array.from(b.data)).toEqual([0, 3, 6, 9, 12, 15]);
  });
});

describe('PNG', () => {
  test('grayscale and RGB round trip bit-exactly; a truncated file names itself', () => {
    const gray = Uint8Array.from({ length: 6 * 5 }, (_, i) => (i * 37) % 256);
    const g = decodePng(encodePng(gray, 5, 6, 1));
    expect([g.height, g.width, g.channels]).toEqual([5, 6, 1]);
    expect(Array.from(g.data)).toEqual(Array.from(gray));
    const rgb = Uint8Array.from({ length: 6 * 5 * 3 }, (_, i) => (i * 91) % 256);
    const c = decodePng(encodePng(rgb, 5, 6, 3));
    expect(c.channels).toBe(3);
    expect(Array.from(c.data)).toEqual(Array.from(rgb));
    const bytes = encodePng(rgb, 5, 6, 3);
    expect(() => decodePng(bytes.slice(0, 40), 'images/x.png')).toThrow(/images\/x\.png/);
  });
});

describe('COLMAP', () => {
  test('quaternion ↔ rotation', () => {
    const q = [0.8, 0.2, -0.4, 0.4];
    const n = Math.hypot(...q);
    const R = quaternionToRotation(q);
    const back = rotationToQuaternion(R);
    back.forEach((v, i) => {
      expect(v).toBeCloseTo(q[i] / n, 12);
    });
    // 180° about y (trace −1 branch).
    expect(
      quaternionToRotation(rotationToQuaternion([-1, 0, 0, 0, 1, 0, 0, 0, -1])).map((v) => Math.round(v)),
    ).toEqual([-1, 0, 0, 0, 1, 0, 0, 0, -1]);
  });

  test('parses a hand-written model into cvm conventions', () => {
    const cameras = '# comment\n1 PINHOLE 640 480 500 510 320.5 240.5\n2 SIMPLE_PINHOLE 64 48 50 32 24\n';
    // Image 1: identity rotation, t = (0, 0, 2) → camera centre at (0, 0, −2).
    // Image 2: 90° about z: qw = cos 45°, qz = sin 45°.
    const s = Math.SQRT1_2;
    const images = `# header\n1 1 0 0 0 0 0 2 1 a.png\n\n2 ${s} 0 0 ${s} 1 0 0 2 b.png\n1.0 2.0 -1\n`;
    const model = parseColmapText(cameras, images);
    expect(model.images.map((im) => im.name)).toEqual(['a.png', 'b.png']);
    const K = colmapCameraIntrinsics(model.cameras.get(1)!).intrinsics;
    expect(Array.from(K)).toEqual([500, 0, 320, 0, 510, 240, 0, 0, 1]);
    expect(Array.from(colmapCameraIntrinsics(model.cameras.get(2)!).intrinsics)).toEqual([
      50, 0, 31.5, 0, 50, 23.5, 0, 0, 1,
    ]);
    expect(Array.from(colmapImagePose(model.images[0]))).toEqual([
      1, 0, 0, -0, 0, 1, 0, -0, 0, 0, 1, -2, 0, 0, 0, 1,
    ]);
    // R_w2c maps world x to camera y: c2w = R_w2cᵀ, centre = −R_w2cᵀ t = −Rᵀ(1,0,0) = (0, 1, 0)·(−1)… check numerically.
    const P = colmapImagePose(model.images[1]);
    const expected = [0, 1, 0, 0, -1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1];
    P.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 12);
    });
    // By name: the image's camera and pose together, in cvm's conventions.
    const b = colmapViewCamera(model, 'b.png', 'i.txt');
    expect([b.width, b.height]).toEqual([64, 48]); // camera 2
    expect(Array.from(b.intrinsics)).toEqual([50, 0, 31.5, 0, 50, 23.5, 0, 0, 1]);
    expect(Array.from(b.cameraToWorld)).toEqual(Array.from(P));
    expect(() => colmapViewCamera(model, 'c.png', 'i.txt')).toThrow(
      /i\.txt: no image named 'c\.png' \(it has 2: a\.png, b\.png\)/,
    );
    expect(() => parseColmapText('1 FISHEYE 1 1 1 1 1 1', '')).toThrow(
      /cameras\.txt:1: unsupported camera model 'FISHEYE'/,
    );
    expect(() => parseColmapText(cameras, '1 1 0 0 0 0 0 0 9 a.png\n\n', 'c.txt', 'i.txt')).toThrow(
      /i\.txt:1: .*camera 9/,
    );
  });
});

describe('NYUD-MT export and read-back', () => {
  const out = join(tmp, 'syn');
  const options = { seed: 9, height: 24, width: 32, views: 3, trainScenes: 2, valScenes: 1 };
  const world = new SyntheticWorld(options);
  beforeAll(async () => {
    await exportSyntheticNyudMt(out, options);
  });

  test('layout, split files and no leftover temporary folder', () => {
    for (const d of ['images', 'segmentation', 'depth', 'normals', 'edge', 'gt_sets', 'multiview'])
      expect(existsSync(join(out, d))).toBe(true);
    expect(readNyudMtSplit(out, 'train')).toEqual(world.ids('train'));
    expect(readNyudMtSplit(out, 'val')).toEqual(world.ids('val'));
    expect(readdirSync(tmp).filter((n) => n.includes('partial'))).toEqual([]);
    expect(
      readFileSync(join(out, 'multiview', world.sceneId('val', 0), 'views.txt'), 'utf8')
        .trim()
        .split('\n').length,
    ).toBe(3);
  });

  test('read-back equals the arrays written, including the NYUD encodings', () => {
    for (const [split, index] of [
      ['train', 0],
      ['train', 1],
      ['val', 0],
    ] as const) {
      const written = world.sample(split, index);
      const read = readNyudMtSample(out, written.id);
      const W = written.views[0].labels!;
      const R = read.views[0].labels!;
      expect(Array.from(R.semseg!)).toEqual(Array.from(W.semseg!));
      expect(Array.from(R.depth!)).toEqual(Array.from(W.depth!));
      expect(Array.from(R.edge!)).toEqual(Array.from(W.edge!));
      // Normals: stored bytes are exactly the encoding; decoding is within half a quantisation step.
      expect(Array.from(decodePng(readFileSync(join(out, 'normals', `${written.id}.png`))).data)).toEqual(
        Array.from(encodeNormals(W.normals!)),
      );
      R.normals!.forEach((v, i) => {
        expect(Math.abs(v - W.normals![i])).toBeLessThanOrEqual(1 / 255 + 1e-6);
      });
      // Segmentation is stored as 1..40 (0 = void).
      const stored = decodePng(readFileSync(join(out, 'segmentation', `${written.id}.png`))).data;
      expect(Array.from(stored)).toEqual(Array.from(W.semseg!, (c) => c + 1));
      expect(read.views.length).toBe(3);
      read.views.forEach((v, k) => {
        const w = written.views[k];
        v.rgb.forEach((x, i) => {
          expect(x).toBe(Math.fround(Math.round(w.rgb[i] * 255) / 255));
        });
        v.intrinsics.forEach((x, i) => {
          expect(x).toBeCloseTo(w.intrinsics[i], 12);
        });
        v.cameraToWorld.forEach((x, i) => {
          expect(x).toBeCloseTo(w.cameraToWorld[i], 12);
        });
      });
    }
  });

  test('semseg encoding: void ↔ 255, bad ids throw', () => {
    const ids = Int32Array.from([0, 39, 255, 7]);
    expect(Array.from(encodeNyudSemseg(ids))).toEqual([1, 40, 0, 8]);
    expect(Array.from(decodeNyudSemseg(encodeNyudSemseg(ids)))).toEqual([0, 39, 255, 7]);
    expect(() => encodeNyudSemseg(Int32Array.from([40]))).toThrow(/40/);
  });

  test('an existing folder is kept unless overwrite is set', async () => {
    await expect(exportSyntheticNyudMt(out, options)).rejects.toThrow(/already exists/);
    const small = join(tmp, 'small');
    await exportSyntheticNyudMt(small, { ...options, trainScenes: 1, valScenes: 0 });
    await exportSyntheticNyudMt(small, { ...options, trainScenes: 1, valScenes: 1, overwrite: true });
    expect(readNyudMtSplit(small, 'val').length).toBe(1);
  });

  test('bad datasets give errors naming the file', async () => {
    const bad = join(tmp, 'bad');
    await exportSyntheticNyudMt(bad, { ...options, trainScenes: 2, valScenes: 0 });
    const [a, b] = readNyudMtSplit(bad, 'train');
    expect(() => readNyudMtSplit(join(tmp, 'missing'), 'train')).toThrow(/missing does not exist/);
    expect(() => readNyudMtSplit(bad, 'test')).toThrow(/gt_sets\/test\.txt does not exist/);
    // Truncated image.
    const image = join(bad, 'images', `${a}.png`);
    writeFileSync(image, readFileSync(image).subarray(0, 60));
    expect(() => readNyudMtSample(bad, a)).toThrow(new RegExp(`images/${a}\\.png`));
    // Label of the wrong size.
    writeFileSync(join(bad, 'edge', `${b}.png`), encodePng(new Uint8Array(10 * 10), 10, 10, 1));
    expect(() => readNyudMtSample(bad, b)).toThrow(new RegExp(`edge/${b}\\.png: size 10×10`));
    writeFileSync(join(bad, 'edge', `${b}.png`), encodePng(new Uint8Array(24 * 32), 24, 32, 1));
    // COLMAP model without a frame that views.txt names.
    const imagesTxt = join(bad, 'multiview', b, 'sparse', '0', 'images.txt');
    const lines = readFileSync(imagesTxt, 'utf8').split('\n');
    const firstImage = lines.findIndex((l) => /^\d/.test(l));
    lines.splice(firstImage, 2);
    writeFileSync(imagesTxt, lines.join('\n'));
    expect(() => readNyudMtSample(bad, b)).toThrow(/images\.txt: no image named/);
    // Wrong-size depth.
    writeFileSync(join(bad, 'depth', `${b}.npy`), encodeNpy(new Float32Array(6), [2, 3]));
    expect(() => readNyudMtSample(bad, b)).toThrow(new RegExp(`depth/${b}\\.npy: shape \\(2, 3\\)`));
  });
});

describe('CLI', () => {
  test('bad arguments give clear errors', () => {
    expect(() => parseCliArgs([])).toThrow(/missing command/);
    expect(() => parseCliArgs(['draw'])).toThrow(/unknown command 'draw'/);
    expect(() => parseCliArgs(['render', '--scenes', '2'])).toThrow(/--out is required/);
    expect(() => parseCliArgs(['render', '--out', 'x'])).toThrow(/--scenes is required/);
    expect(() => parseCliArgs(['render', '--out', 'x', '--scenes', 'ten'])).toThrow(
      /--scenes expects an integer, got 'ten'/,
    );
    expect(() => parseCliArgs(['render', '--out', 'x', '--scenes', '2', '--size', '96by128'])).toThrow(
      /--size expects HxW/,
    );
    expect(() => parseCliArgs(['render', '--out', 'x', '--scenes', '2', '--bogus'])).toThrow(
      /unknown option '--bogus'/,
    );
    expect(
      parseCliArgs([
        'render',
        '--out',
        'x',
        '--scenes',
        '5',
        '--size',
        '48x64',
        '--views',
        '2',
        '--seed',
        '3',
      ]),
    ).toMatchObject({
      out: 'x',
      scenes: 5,
      height: 48,
      width: 64,
      views: 2,
      seed: 3,
    });
  });

  test('render writes a dataset; invalid values exit with 2 or 1 and a message', async () => {
    const logs: string[] = [];
    const io = { log: (s: string) => logs.push(s), error: (s: string) => logs.push(s) };
    const dir = join(tmp, 'cli');
    expect(
      await runCli(
        ['render', '--out', dir, '--scenes', '3', '--size', '16x24', '--views', '2', '--workers', '1'],
        io,
      ),
    ).toBe(0);
    expect(readNyudMtSplit(dir, 'train').length + readNyudMtSplit(dir, 'val').length).toBe(3);
    expect(await runCli(['render', '--out', dir, '--scenes', 'x'], io)).toBe(2);
    expect(await runCli(['render', '--out', join(tmp, 'cli2'), '--scenes', '2', '--views', '9'], io)).toBe(1);
    expect(logs.join('\n')).toMatch(/views must be an integer in \[1, 7\], got 9/);
    const pascal = join(tmp, 'cli-pascal');
    expect(
      await runCli(['render', '--out', pascal, '--scenes', '2', '--size', '16x24', '--layout', 'pascal'], io),
    ).toBe(0);
    expect(readPascalMtSplit(pascal, 'train').length + readPascalMtSplit(pascal, 'val').length).toBe(2);
    const bin = join(tmp, 'cli-bin');
    expect(
      await runCli(
        ['render', '--out', bin, '--scenes', '1', '--size', '16x24', '--colmap', 'binary', '--all-frames'],
        io,
      ),
    ).toBe(0);
    const id = readNyudMtSplit(bin, 'train')[0];
    expect(readdirSync(join(bin, 'multiview', id, 'sparse', '0')).sort()).toEqual([
      'cameras.bin',
      'images.bin',
      'points3D.bin',
    ]);
    expect(readdirSync(join(bin, 'multiview', id, 'images')).length).toBe(7);
    expect(() => parseCliArgs(['render', '--out', 'x', '--scenes', '2', '--layout', 'coco'])).toThrow(
      /--layout expects nyud or pascal/,
    );
  });
});
