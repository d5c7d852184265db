import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { thin } from '@cvm/metrics';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  NYUD40_CLASSES,
  NYUD40_TO_CONTEXT_459_NAME,
  NYUD40_TO_PASCAL_CONTEXT,
  PASCAL_CONTEXT_459_IDS,
  PascalMtDataset,
  SyntheticWorld,
  decodeJpeg,
  decodePng,
  encodeJpeg,
  encodePng,
  exportSyntheticPascalMt,
  matChar,
  matNumeric,
  matStruct,
  pascalContextEdges,
  readMat,
  readPascalMtSplit,
  vocPalette,
  writeMat,
} from '../src/node.js';
import type { MatArray, MatNumeric, MatStruct } from '../src/node.js';
import { python, pythonHas } from './python.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const reference = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'cvm-pascal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const flat = (rows: number[][]) => rows.flat();
const numeric = (v: MatArray | undefined) => v as MatNumeric;

describe('MAT v5', () => {
  for (const file of ['scipy-anno.mat', 'scipy-anno-compressed.mat'])
    test(`reads what scipy.io.savemat wrote (${file})`, () => {
      const vars = readMat(readFileSync(join(fixtures, file)), file);
      const lm = numeric(vars.LabelMap);
      expect(lm.class).toBe('uint16');
      expect(lm.dims).toEqual([5, 7]);
      expect(Array.from(lm.data)).toEqual(flat(reference.mat.LabelMap));
      const anno = vars.anno as MatStruct;
      expect(anno.fields).toEqual(['imname', 'objects']);
      expect(anno.elements[0].imname).toEqual({ type: 'char', dims: [1, 11], text: '2008_000001' });
      const objects = anno.elements[0].objects as MatStruct;
      expect(objects.fields).toEqual(['class', 'class_ind', 'mask', 'parts']);
      expect(objects.elements.map((o) => (o.class as { text: string }).text)).toEqual(['dog', 'person']);
      expect(objects.elements.map((o) => numeric(o.class_ind).data[0])).toEqual([12, 15]);
      expect(Array.from(numeric(objects.elements[1].mask).data)).toEqual(flat(reference.mat.person));
      expect(numeric(objects.elements[0].parts).data.length).toBe(0);
      const parts = objects.elements[1].parts as MatStruct;
      expect(parts.elements.map((p) => (p.part_name as { text: string }).text)).toEqual([
        'hair',
        'rhand',
        'lfoot',
      ]);
      expect(Array.from(numeric(parts.elements[1].mask).data)).toEqual(flat(reference.mat.rhand));
      if (file === 'scipy-anno.mat') {
        expect(Array.from(numeric(vars.d).data)).toEqual(flat(reference.mat.d));
        expect(numeric(vars.d).dims).toEqual([2, 3]);
        const u8 = numeric(vars.u8);
        expect(u8.dims).toEqual([2, 3, 4]);
        expect(Array.from(u8.data)).toEqual(reference.mat.u8); // row-major, as NumPy
        expect(Array.from(numeric(vars.i).data)).toEqual([-3, 70000]);
        expect(numeric(vars.b).logical).toBe(true);
        expect(Array.from(numeric(vars.b).data)).toEqual([1, 0, 1]);
        expect(vars.s).toMatchObject({ type: 'char', text: 'hello' });
        const c = vars.c as { type: string; cells: MatArray[] };
        expect(c.type).toBe('cell');
        expect(c.cells.map((x) => (x as { text: string }).text)).toEqual(['ab', 'cd']);
      }
    });

  test('write → read round trip (numeric N-d, char, struct, cell, logical; compressed or not)', () => {
    const u16 = Uint16Array.from({ length: 24 }, (_, i) => i * 1000);
    const vars: Record<string, MatArray> = {
      a: matNumeric(u16, [2, 3, 4]),
      f: matNumeric(Float64Array.of(1.5, -2, 3e-9), [1, 3]),
      m: matNumeric(Uint8Array.of(1, 0, 1, 1), [2, 2], { logical: true }),
      s: matStruct(
        ['name', 'value'],
        [
          { name: matChar('x'), value: matNumeric(Int32Array.of(-7), [1, 1]) },
          {
            name: matChar('yz'),
            value: {
              type: 'cell',
              dims: [1, 2],
              cells: [matChar('p'), matNumeric(Float32Array.of(0.25), [1, 1])],
            },
          },
        ],
      ),
    };
    for (const compress of [true, false]) {
      const back = readMat(writeMat(vars, { compress }), 'round-trip.mat');
      expect(back).toEqual(vars);
    }
  });

  test.skipIf(!pythonHas('scipy.io'))('scipy reads what we write', () => {
    const file = join(tmp, 'ours.mat');
    writeFileSync(
      file,
      writeMat({
        LabelMap: matNumeric(
          Uint16Array.from({ length: 6 }, (_, i) => 400 + i),
          [2, 3],
        ),
        anno: matStruct(
          ['imname', 'objects'],
          [
            {
              imname: matChar('img'),
              objects: matStruct(
                ['class', 'class_ind', 'mask', 'parts'],
                [
                  {
                    class: matChar('person'),
                    class_ind: matNumeric(Float64Array.of(15), [1, 1]),
                    mask: matNumeric(Uint8Array.of(0, 1, 1, 0, 0, 1), [2, 3]),
                    parts: matStruct(
                      ['part_name', 'mask'],
                      [
                        {
                          part_name: matChar('torso'),
                          mask: matNumeric(Uint8Array.of(0, 1, 0, 0, 0, 0), [2, 3]),
                        },
                      ],
                    ),
                  },
                ],
              ),
            },
          ],
        ),
      }),
    );
    const script = `import scipy.io as sio, json
m = sio.loadmat('${file}')
o = m['anno'][0][0][1][0]
print(json.dumps({'lm': m['LabelMap'].tolist(), 'cls': int(o[0][1][0][0]), 'mask': o[0][2].tolist(), 'part': str(o[0][3][0][0][0][0]), 'pmask': o[0][3][0][0][1].tolist()}))`;
    const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      lm: [
        [400, 401, 402],
        [403, 404, 405],
      ],
      cls: 15,
      mask: [
        [0, 1, 1],
        [0, 0, 1],
      ],
      part: 'torso',
      pmask: [
        [0, 1, 0],
        [0, 0, 0],
      ],
    });
  });

  test('truncated and foreign files give errors naming the file', () => {
    const bytes = readFileSync(join(fixtures, 'scipy-anno.mat'));
    expect(() => readMat(bytes.subarray(0, 300), 'human_parts/x.mat')).toThrow(
      /human_parts\/x\.mat: truncated/,
    );
    expect(() => readMat(bytes.subarray(0, 60), 'a.mat')).toThrow(/a\.mat: truncated/);
    const z = readFileSync(join(fixtures, 'scipy-anno-compressed.mat'));
    expect(() => readMat(z.subarray(0, z.length - 30), 'z.mat')).toThrow(/z\.mat: /);
    expect(() => readMat(new Uint8Array(200), 'zero.mat')).toThrow(/zero\.mat: not a MATLAB 5 MAT-file/);
  });
});

describe('PASCAL-MT encodings against the reference libraries', () => {
  test('edges: Laplacian ≠ 0 then thinning equals OpenCV + scikit-image', () => {
    for (const c of reference.edges) {
      const got = c.thin_only
        ? thin(c.labels, c.height, c.width)
        : pascalContextEdges(c.labels, c.height, c.width);
      expect(Array.from(got)).toEqual(c.edge);
    }
    // The thinning does something: the thick blob loses pixels.
    const blob = reference.edges.find((c: { thin_only?: boolean }) => c.thin_only);
    expect(blob.edge.reduce((a: number, b: number) => a + b, 0)).toBeLessThan(
      blob.labels.reduce((a: number, b: number) => a + b, 0) / 2,
    );
  });

  test('palette PNGs keep their indices (PIL P mode); RGB on request', () => {
    const bytes = readFileSync(join(fixtures, 'pil-palette.png'));
    const ids = decodePng(bytes, 'pil-palette.png', { palette: 'indices' });
    expect([ids.channels, ids.height, ids.width]).toEqual([1, 6, 9]);
    expect(Array.from(ids.data)).toEqual(reference.palette.indices);
    const rgb = decodePng(bytes);
    expect(rgb.channels).toBe(3);
    expect(Array.from(rgb.data.subarray(0, 3))).toEqual(
      Array.from(ids.palette!.subarray(3 * 255, 3 * 255 + 3)),
    );
    // Our palette writer round-trips indices too.
    const ours = encodePng(Uint8Array.from(reference.palette.indices), 6, 9, 1, { palette: vocPalette() });
    expect(Array.from(decodePng(ours, 'x', { palette: 'indices' }).data)).toEqual(reference.palette.indices);
    expect(vocPalette()[15]).toEqual([192, 128, 128]);
    expect(vocPalette()[1]).toEqual([128, 0, 0]);
  });

  test('JPEG decoding agrees with PIL (libjpeg) to within a few levels; truncation names the file', () => {
    const bytes = readFileSync(join(fixtures, 'pil.jpg'));
    const ours = decodeJpeg(bytes, 'pil.jpg');
    expect([ours.height, ours.width]).toEqual([16, 24]);
    let sum = 0;
    let max = 0;
    ours.data.forEach((v, i) => {
      const d = Math.abs(v - reference.jpeg.decoded[i]);
      sum += d;
      max = Math.max(max, d);
    });
    expect(sum / ours.data.length).toBeLessThan(1.5);
    expect(max).toBeLessThanOrEqual(12);
    expect(() => decodeJpeg(bytes.subarray(0, bytes.length - 40), 'JPEGImages/a.jpg')).toThrow(
      /JPEGImages\/a\.jpg/,
    );
    const rgb = Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 5) % 256);
    expect(decodeJpeg(encodeJpeg(rgb, 8, 8, 100)).data.length).toBe(8 * 8 * 3);
  });
});

describe('PASCAL-MT export and read-back', () => {
  const out = join(tmp, 'syn');
  const options = { seed: 4, height: 40, width: 56, trainScenes: 2, valScenes: 1 };
  const world = new SyntheticWorld({ ...options, views: 1 });
  beforeAll(async () => {
    await exportSyntheticPascalMt(out, options);
  });

  test('the reference layout', () => {
    for (const f of [
      'JPEGImages',
      'semseg/pascal-context',
      'human_parts',
      'sal_distill',
      'normals_distill',
      'pascal-context/trainval',
      'ImageSets/Context/train.txt',
      'ImageSets/Context/val.txt',
      'ImageSets/Parts/train.txt',
      'json/pascal_part.json',
      'json/nyu_classes.json',
      'json/context_classes.json',
    ])
      expect(existsSync(join(out, f))).toBe(true);
    expect(readPascalMtSplit(out, 'train')).toEqual(world.ids('train'));
    const parts = JSON.parse(readFileSync(join(out, 'ImageSets/Parts/train.txt'), 'utf8'));
    expect(Object.keys(parts)).toEqual(world.ids('train'));
    expect(parts[world.sceneId('train', 0)]).toContain(15);
  });

  test('reads back the arrays written', () => {
    const ds = new PascalMtDataset(out, 'train');
    const nyu = JSON.parse(readFileSync(join(out, 'json/nyu_classes.json'), 'utf8'));
    for (let i = 0; i < 2; i++) {
      const written = world.sample('train', i).views[0];
      const W = written.labels!;
      const read = ds.sample(i);
      const R = read.views[0].labels!;
      expect([read.height, read.width]).toEqual([40, 56]);
      expect(Array.from(R.semseg!)).toEqual(
        Array.from(W.semseg!, (c) => (c === 255 ? 255 : NYUD40_TO_PASCAL_CONTEXT[c])),
      );
      expect(Array.from(R.human_parts!)).toEqual(Array.from(W.human_parts!));
      expect(Array.from(R.sal!)).toEqual(Array.from(W.sal!));
      // LabelMap and the edges derived from it.
      const lm = numeric(
        readMat(readFileSync(join(out, 'pascal-context/trainval', `${read.id}.mat`))).LabelMap,
      );
      const expectedLm = Array.from(W.semseg!, (c) =>
        c === 255 ? 0 : PASCAL_CONTEXT_459_IDS[NYUD40_TO_CONTEXT_459_NAME[NYUD40_CLASSES[c]]],
      );
      expect(Array.from(lm.data)).toEqual(expectedLm);
      expect(Array.from(R.edge!)).toEqual(Array.from(pascalContextEdges(lm.data, 40, 56)));
      expect(R.edge!.some((v) => v === 1)).toBe(true);
      // Normals: within a quantisation step where the class carries normals, zero elsewhere.
      let zeroed = 0;
      for (let p = 0; p < 40 * 56; p++) {
        const name = NYUD40_TO_CONTEXT_459_NAME[NYUD40_CLASSES[W.semseg![p]]];
        const valid = name !== undefined && name in nyu;
        for (let c = 0; c < 3; c++) {
          const got = R.normals![3 * p + c];
          if (valid) expect(Math.abs(got - W.normals![3 * p + c])).toBeLessThanOrEqual(1 / 255 + 1e-6);
          else expect(got).toBe(0);
        }
        if (!valid) zeroed++;
      }
      expect(zeroed).toBeLessThan(40 * 56);
      // JPEG: small compression error.
      let err = 0;
      read.views[0].rgb.forEach((v, k) => {
        err += Math.abs(v - written.rgb[k]);
      });
      expect(err / read.views[0].rgb.length).toBeLessThan(0.03);
      // The semseg file is a palette PNG whose indices are the classes.
      const png = decodePng(readFileSync(join(out, 'semseg/pascal-context', `${read.id}.png`)));
      expect(png.palette).toBeDefined();
    }
  });

  test('a VOC12 semseg file takes precedence; an image without a person reads human_parts as 255', async () => {
    const dir = join(tmp, 'noperson');
    await exportSyntheticPascalMt(dir, { ...options, personProbability: 0, semsegFolder: 'VOC12' });
    const ds = new PascalMtDataset(dir, 'train');
    const s = ds.sample(0).views[0].labels!;
    expect(s.human_parts!.every((v) => v === 255)).toBe(true);
    expect(ds.hasHumanParts(ds.ids[0])).toBe(false);
    // Move one semseg file to the other folder with different content: VOC12 wins when both exist.
    const id = ds.ids[1];
    mkdirSync(join(dir, 'semseg/pascal-context'), { recursive: true });
    writeFileSync(
      join(dir, 'semseg/pascal-context', `${id}.png`),
      encodePng(new Uint8Array(40 * 56), 40, 56, 1),
    );
    expect(ds.sample(1).views[0].labels!.semseg!.some((v) => v !== 0)).toBe(true);
    rmSync(join(dir, 'semseg/VOC12', `${id}.png`));
    expect(ds.sample(1).views[0].labels!.semseg!.every((v) => v === 0)).toBe(true);
  });

  test('the parts annotation from scipy (with other objects and left/right part names) maps to the 6 groups', () => {
    const dir = join(tmp, 'fixture-parts');
    for (const f of ['JPEGImages', 'human_parts', 'ImageSets/Context', 'json'])
      mkdirSync(join(dir, f), { recursive: true });
    writeFileSync(join(dir, 'JPEGImages/a.jpg'), encodeJpeg(new Uint8Array(5 * 7 * 3), 5, 7));
    copyFileSync(join(fixtures, 'scipy-anno.mat'), join(dir, 'human_parts/a.mat'));
    writeFileSync(join(dir, 'ImageSets/Context/val.txt'), 'a\n');
    writeFileSync(join(dir, 'json/pascal_part.json'), '{}');
    const ds = new PascalMtDataset(dir, 'val', { tasks: ['human_parts'] });
    expect(Array.from(ds.sample(0).views[0].labels!.human_parts!)).toEqual(flat(reference.mat.human_parts));
  });

  test('bad datasets give errors naming the file', async () => {
    const bad = join(tmp, 'bad');
    await exportSyntheticPascalMt(bad, { ...options, trainScenes: 2, valScenes: 0 });
    const [a, b] = readPascalMtSplit(bad, 'train');
    expect(() => new PascalMtDataset(join(tmp, 'nope'), 'train')).toThrow(/nope does not exist/);
    expect(() => new PascalMtDataset(bad, 'test')).toThrow(/ImageSets\/Context\/test\.txt does not exist/);
    rmSync(join(bad, 'json/context_classes.json'));
    expect(() => new PascalMtDataset(bad, 'train')).toThrow(/json\/context_classes\.json does not exist/);
    const ds = new PascalMtDataset(bad, 'train', { tasks: ['semseg', 'sal', 'human_parts', 'edge'] });
    const jpg = join(bad, 'JPEGImages', `${a}.jpg`);
    writeFileSync(jpg, readFileSync(jpg).subarray(0, 200));
    expect(() => ds.sample(a)).toThrow(new RegExp(`JPEGImages/${a}\\.jpg: cannot decode JPEG`));
    writeFileSync(join(bad, 'sal_distill', `${b}.png`), encodePng(new Uint8Array(100), 10, 10, 1));
    expect(() => ds.sample(b)).toThrow(new RegExp(`sal_distill/${b}\\.png: size 10×10 does not match`));
    writeFileSync(join(bad, 'sal_distill', `${b}.png`), encodePng(new Uint8Array(40 * 56), 40, 56, 1));
    const mat = join(bad, 'pascal-context/trainval', `${b}.mat`);
    writeFileSync(mat, readFileSync(mat).subarray(0, 150));
    expect(() => ds.sample(b)).toThrow(new RegExp(`pascal-context/trainval/${b}\\.mat: `));
    rmSync(mat);
    expect(() => ds.sample(b)).toThrow(new RegExp(`pascal-context/trainval/${b}\\.mat does not exist`));
    rmSync(join(bad, 'semseg/pascal-context', `${b}.png`));
    const semOnly = new PascalMtDataset(bad, 'train', { tasks: ['semseg'] });
    expect(() => semOnly.sample(b)).toThrow(/no segmentation for/);
    writeFileSync(
      join(bad, 'semseg/pascal-context', `${b}.png`),
      encodePng(new Uint8Array(40 * 56).fill(77), 40, 56, 1),
    );
    expect(() => semOnly.sample(b)).toThrow(/class 77 .* outside 0\.\.20/);
  });
});

describe('PASCAL-MT reading against the reference loading steps (PIL, scipy, OpenCV, scikit-image)', () => {
  // A committed synthetic folder and what reference_pascal_loader.py read from it (both written by
  // fixtures/make-pascal-mt-fixture.ts), so this runs without Python.
  const root = join(fixtures, 'pascal-mt');
  const ref = JSON.parse(readFileSync(join(fixtures, 'pascal-mt-reference.json'), 'utf8'));

  test('every task and the image equal the reference', () => {
    const ds = new PascalMtDataset(root, 'train');
    expect(ds.ids).toEqual(Object.keys(ref));
    for (const id of ds.ids) {
      const s = ds.sample(id).views[0];
      const L = s.labels!;
      for (const task of ['semseg', 'human_parts', 'sal', 'edge'] as const)
        expect(Array.from(L[task]!), `${id} ${task}`).toEqual(ref[id][task]);
      L.normals!.forEach((v, k) => {
        expect(Math.abs(v - ref[id].normals[k])).toBeLessThan(1e-6);
      });
      let err = 0;
      s.rgb.forEach((v, k) => {
        err += Math.abs(v * 255 - ref[id].image[k]);
      });
      expect(err / s.rgb.length).toBeLessThan(1.5); // jpeg-js vs libjpeg decoding
    }
  });

  test('the fixture exercises every rule: parts, edges, normals zeroed outside valid classes', () => {
    const all = Object.values(ref) as Array<Record<string, number[]>>;
    expect(all.some((r) => r.human_parts.some((v) => v > 0 && v < 255))).toBe(true);
    expect(all.every((r) => r.edge.some((v) => v === 1))).toBe(true);
    expect(all.some((r) => r.normals.some((v) => v === 0) && r.normals.some((v) => v !== 0))).toBe(true);
  });
});
