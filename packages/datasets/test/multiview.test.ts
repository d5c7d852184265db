import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CLIP_HALF_LENGTH,
  SyntheticWorld,
  colmapCameraIntrinsics,
  colmapImagePose,
  encodeColmapCamerasBinary,
  encodeColmapImagesBinary,
  exportSyntheticNyudMt,
  flipSample,
  formatColmapCameras,
  formatColmapImages,
  parseColmapBinary,
  parseColmapText,
  readColmapModel,
  readMultiViewFrames,
  readNyudMtSample,
  selectViews,
} from '../src/node.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const reference = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'cvm-mv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('COLMAP binary model', () => {
  test('reads a model written by an independent (Python struct) writer', () => {
    const cams = readFileSync(join(fixtures, 'colmap/cameras.bin'));
    const ims = readFileSync(join(fixtures, 'colmap/images.bin'));
    const model = parseColmapBinary(cams, ims);
    expect([...model.cameras.values()].map((c) => [c.id, c.model, c.width, c.height, c.params])).toEqual(
      reference.colmap.cameras.map(
        (c: { id: number; model_id: number; width: number; height: number; params: number[] }) => [
          c.id,
          ['SIMPLE_PINHOLE', 'PINHOLE', '', '', 'OPENCV'][c.model_id],
          c.width,
          c.height,
          c.params,
        ],
      ),
    );
    expect(model.images.map((im) => [im.id, im.name, im.cameraId, im.qvec, im.tvec])).toEqual(
      reference.colmap.images.map(
        (im: { id: number; name: string; camera_id: number; qvec: number[]; tvec: number[] }) => [
          im.id,
          im.name,
          im.camera_id,
          im.qvec,
          im.tvec,
        ],
      ),
    );
    model.images.forEach((im, i) => {
      colmapImagePose(im).forEach((v, k) => {
        expect(v).toBeCloseTo(reference.colmap.images[i].c2w[k], 12);
      });
    });
    // OPENCV: pinhole part with the −0.5 pixel-centre shift, distortion exposed as is.
    const opencv = colmapCameraIntrinsics(model.cameras.get(7)!);
    expect(Array.from(opencv.intrinsics)).toEqual([49, 0, 31.5, 0, 50, 23.5, 0, 0, 1]);
    expect(opencv.distortion).toEqual([-0.1, 0.02, 0.001, -0.002]);
    expect(Array.from(colmapCameraIntrinsics(model.cameras.get(2)!).intrinsics)).toEqual([
      51, 0, 30.5, 0, 51, 22.5, 0, 0, 1,
    ]);
  });

  test('binary and text forms round-trip to the same model; truncation names the file', () => {
    const model = parseColmapBinary(
      readFileSync(join(fixtures, 'colmap/cameras.bin')),
      readFileSync(join(fixtures, 'colmap/images.bin')),
    );
    const cams = [...model.cameras.values()];
    const bin = parseColmapBinary(encodeColmapCamerasBinary(cams), encodeColmapImagesBinary(model.images));
    const txt = parseColmapText(formatColmapCameras(cams), formatColmapImages(model.images));
    expect(bin).toEqual(model);
    expect(txt).toEqual(model);
    const ims = encodeColmapImagesBinary(model.images);
    expect(() =>
      parseColmapBinary(encodeColmapCamerasBinary(cams), ims.subarray(0, 90), 'c.bin', 'sparse/0/images.bin'),
    ).toThrow(/sparse\/0\/images\.bin: truncated/);
    expect(() =>
      parseColmapBinary(encodeColmapCamerasBinary(cams).subarray(0, 30), ims, 'sparse/0/cameras.bin'),
    ).toThrow(/sparse\/0\/cameras\.bin: truncated/);
  });
});

describe('multi-view NYUv2 frames: binary model, all clip frames, neighbour selection', () => {
  const out = join(tmp, 'nyud');
  const options = { seed: 6, height: 24, width: 32, views: 3, trainScenes: 1, valScenes: 1 };
  const world = new SyntheticWorld(options);
  const all = new SyntheticWorld({ ...options, views: 2 * CLIP_HALF_LENGTH + 1 });
  beforeAll(async () => {
    await exportSyntheticNyudMt(out, { ...options, colmap: 'binary', allClipFrames: true });
  });

  test('listed views equal the written sample (binary model, 8-bit images)', () => {
    const id = world.sceneId('train', 0);
    const written = world.sample('train', 0);
    const read = readNyudMtSample(out, id);
    expect(read.views.map((v) => v.name)).toEqual(written.views.map((v) => `${v.name}.png`));
    read.views.forEach((v, k) => {
      v.cameraToWorld.forEach((x, i) => {
        expect(x).toBeCloseTo(written.views[k].cameraToWorld[i], 12);
      });
      v.intrinsics.forEach((x, i) => {
        expect(x).toBeCloseTo(written.views[k].intrinsics[i], 12);
      });
      v.rgb.forEach((x, i) => {
        expect(x).toBe(Math.fround(Math.round(written.views[k].rgb[i] * 255) / 255));
      });
    });
    expect(readColmapModel(join(out, 'multiview', id, 'sparse', '0')).imagesFile).toMatch(/images\.bin$/);
  });

  test("'frame' and 'centre' selection pick the nearest frames of the clip", () => {
    const id = world.sceneId('val', 0);
    const clip = all.sample('val', 0); // every clip frame, reference first
    const refName = `${clip.views[0].name}.png`;
    const frameIndex = (name: string) => Number(/_f(\d+)\.png$/.exec(name)![1]);
    const ref = frameIndex(refName);
    // Independent expectation for 'frame': the 4 nearest frame indices (ties: earlier first).
    const others = clip.views.slice(1).map((v) => frameIndex(`${v.name}.png`));
    const byFrame = [...others].sort((a, b) => Math.abs(a - ref) - Math.abs(b - ref) || a - b).slice(0, 3);
    const frame = readMultiViewFrames(out, id, { neighbours: 'frame', views: 4 });
    expect(frame.map((v) => frameIndex(v.name!))).toEqual([ref, ...byFrame]);
    // 'centre': nearest camera centres, from the world's own poses.
    const centre = (v: { cameraToWorld: Float64Array }) => [
      v.cameraToWorld[3],
      v.cameraToWorld[7],
      v.cameraToWorld[11],
    ];
    const c0 = centre(clip.views[0]);
    const dist = clip.views
      .slice(1)
      .map((v) => ({ f: frameIndex(`${v.name}.png`), d: Math.hypot(...centre(v).map((x, k) => x - c0[k])) }));
    dist.sort((a, b) => a.d - b.d);
    const near = readMultiViewFrames(out, id, { neighbours: 'centre', views: 3 });
    expect(near.map((v) => frameIndex(v.name!))).toEqual([ref, dist[0].f, dist[1].f]);
    // minBaseline skips the closest frames.
    const far = readMultiViewFrames(out, id, {
      neighbours: 'centre',
      views: 2,
      minBaseline: (dist[1].d + dist[2].d) / 2,
    });
    expect(frameIndex(far[1].name!)).toBe(dist[2].f);
    // The frames read are the world's renderings of those frames.
    near.forEach((v) => {
      const w = clip.views.find((c) => `${c.name}.png` === v.name)!;
      v.cameraToWorld.forEach((x, i) => {
        expect(x).toBeCloseTo(w.cameraToWorld[i], 12);
      });
      expect(Math.abs(v.rgb[100] - w.rgb[100])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    });
    expect(() => readMultiViewFrames(out, id, { neighbours: 'centre', views: 8 })).toThrow(
      /8 views requested but only 6/,
    );
    expect(() => readMultiViewFrames(out, id, { views: 9 })).toThrow(/views must be an integer in \[1, 8\]/);
  });

  test('selectViews on a hand-made model', () => {
    const images = ['b-10.png', 'b-2.png', 'b-3.png', 'b-1.png'].map((name, i) => ({
      id: i + 1,
      qvec: [1, 0, 0, 0] as [number, number, number, number],
      tvec: [-[5, 0.1, 0.3, 0][i], 0, 0] as [number, number, number], // centre x = 5, 0.1, 0.3, 0
      cameraId: 1,
      name,
    }));
    const model = { cameras: new Map(), images };
    // Numeric frame order: b-1, b-2, b-3, b-10.
    expect(selectViews(model, ['b-2.png'], { neighbours: 'frame', views: 3 })).toEqual([
      'b-2.png',
      'b-1.png',
      'b-3.png',
    ]);
    expect(selectViews(model, ['b-1.png'], { neighbours: 'centre', views: 3 })).toEqual([
      'b-1.png',
      'b-2.png',
      'b-3.png',
    ]);
    expect(selectViews(model, ['b-3.png', 'b-10.png'], {})).toEqual(['b-3.png', 'b-10.png']);
    expect(() => selectViews(model, ['x.png'], { neighbours: 'frame' }, 'images.bin')).toThrow(
      /images\.bin: no image named 'x\.png'/,
    );
  });

  test('a COLMAP model without a frame that views.txt names → error naming images.bin', async () => {
    const bad = join(tmp, 'bad');
    await exportSyntheticNyudMt(bad, { ...options, trainScenes: 1, valScenes: 0, colmap: 'binary' });
    const id = world.sceneId('train', 0);
    const sparse = join(bad, 'multiview', id, 'sparse', '0');
    const model = parseColmapBinary(
      readFileSync(join(sparse, 'cameras.bin')),
      readFileSync(join(sparse, 'images.bin')),
    );
    writeFileSync(join(sparse, 'images.bin'), encodeColmapImagesBinary(model.images.slice(1)));
    expect(() => readNyudMtSample(bad, id)).toThrow(
      /images\.bin: no image named '.*' \(listed in .*views\.txt\)/,
    );
    rmSync(join(sparse, 'cameras.bin'));
    expect(() => readNyudMtSample(bad, id)).toThrow(/cameras\.bin does not exist/);
  });

  test('OPENCV cameras: distortion exposed on the view, p2 mirrored by the flip', async () => {
    const dir = join(tmp, 'opencv');
    await exportSyntheticNyudMt(dir, { ...options, trainScenes: 1, valScenes: 0 });
    const id = world.sceneId('train', 0);
    const sparse = join(dir, 'multiview', id, 'sparse', '0');
    const model = parseColmapText(
      readFileSync(join(sparse, 'cameras.txt'), 'utf8'),
      readFileSync(join(sparse, 'images.txt'), 'utf8'),
    );
    const cams = [...model.cameras.values()].map((c) => ({
      ...c,
      model: 'OPENCV' as const,
      params: [...c.params, -0.05, 0.01, 0.002, 0.003],
    }));
    writeFileSync(join(sparse, 'cameras.txt'), formatColmapCameras(cams));
    const sample = readNyudMtSample(dir, id);
    expect(sample.views[0].distortion).toEqual({
      model: 'OPENCV',
      coefficients: [-0.05, 0.01, 0.002, 0.003],
    });
    expect(flipSample(sample).views[1].distortion!.coefficients).toEqual([-0.05, 0.01, 0.002, -0.003]);
  });
});
