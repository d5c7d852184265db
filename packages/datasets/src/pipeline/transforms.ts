import { IGNORE_LABEL } from '../classes.js';
import type { Rng } from '../random.js';
import type { MultiViewSample, SampleView, TaskLabels, TaskName } from '../schema.js';

/**
 * The training / validation transforms of the protocol (SAK `datasets/custom_transforms.py`), applied to
 * every view of a multi-view sample with its cameras kept consistent:
 *
 * train: RandomScaling(0.5, 2) → RandomCrop(size, cat_max_ratio 0.75) → RandomHorizontallyFlip →
 *        PhotoMetricDistortion → PadImage(size) → AddIgnoreRegions
 * val:   PadImage(size) → AddIgnoreRegions
 *
 * RGB stays in [0, 1] (the image contract between cvm packages): the reference's Normalize(ImageNet)
 * step belongs to the model, which normalises its own input once (`normalizeImage` of `@cvm/nn`).
 * The reference pads after normalising, i.e. with the mean colour; here padding is `padColor`, black by
 * default (pass the model's mean, e.g. `IMAGENET_MEAN` of `@cvm/nn`, to reproduce the reference).
 *
 * Camera bookkeeping (pixel centres at integers): scaling by (sx, sy) maps x → (x + 0.5)·sx − 0.5, so
 * K ← A·K with A = [[sx, 0, (sx − 1)/2], [0, sy, (sy − 1)/2], [0, 0, 1]]; cropping / padding shift the
 * principal point; the flip maps x → W − 1 − x and mirrors the world: K ← F·K·S with
 * F = [[−1, 0, W − 1], [0, 1, 0], [0, 0, 1]], S = diag(−1, 1, 1) (so cx ← W − 1 − cx), pose ←
 * S₄·pose·S₄ with S₄ = diag(−1, 1, 1, 1) for EVERY view (relative poses stay consistent), normals'
 * x ← −x, and OPENCV's tangential p2 ← −p2.
 *
 * Deliberate differences from the reference, documented: labels are resized with centre-aligned
 * nearest neighbour (OpenCV's INTER_NEAREST samples floor(x·W/W') and shifts labels by up to half a
 * pixel against the image and the intrinsics); depth keeps its metric values under scaling (the
 * reference divides depth by the scale, which only makes sense without cameras; `divideDepthByScale`
 * restores it); the photometric distortion works on floats without 8-bit rounding and uses the same
 * random parameters for every view of a sample.
 */

export interface PipelineOptions {
  /** Training (augment) or validation (pad only) transforms. */
  train: boolean;
  /** Training size [H, W]: crop (train) and pad (train and val) target. Required for training. */
  size?: readonly [number, number];
  /** Random scale range (train), `null` to disable; default [0.5, 2]. */
  scale?: readonly [number, number] | null;
  /** Max fraction of one class in a random crop (train, up to 10 redraws); default 0.75 (1 disables). */
  catMaxRatio?: number;
  /** Random horizontal flip with p = 0.5 (train); default true. */
  flip?: boolean;
  /** Photometric distortion (train); default true. */
  photometric?: boolean;
  /** RGB in [0, 1] of image padding; default black `[0, 0, 0]`. */
  padColor?: readonly [number, number, number];
  /** Divide depth by the random scale as the reference does (monocular convention); default false. */
  divideDepthByScale?: boolean;
  /** Mark invalid depth (0) and normals ((0,0,0)) with 255 and person-less human_parts maps with 255, as the reference's AddIgnoreRegions; default true. */
  ignoreRegions?: boolean;
}

const PAD_VALUE: Record<TaskName, number> = {
  semseg: IGNORE_LABEL,
  edge: IGNORE_LABEL,
  human_parts: IGNORE_LABEL,
  sal: IGNORE_LABEL,
  depth: 0,
  normals: 0,
};

type LabelArray = NonNullable<TaskLabels[TaskName]>;

function channelsOf(task: TaskName): number {
  return task === 'normals' ? 3 : 1;
}

/** 3×3 row-major product A·B. */
function mul3(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return out;
}

function mapViews(
  sample: MultiViewSample,
  height: number,
  width: number,
  image: (rgb: Float32Array) => Float32Array,
  label: (task: TaskName, a: LabelArray) => LabelArray,
  camera: (view: SampleView) => Partial<Pick<SampleView, 'intrinsics' | 'cameraToWorld' | 'distortion'>>,
): MultiViewSample {
  return {
    id: sample.id,
    height,
    width,
    views: sample.views.map((v) => {
      const out: SampleView = { ...v, rgb: image(v.rgb), ...camera(v) };
      if (v.labels) {
        const labels: TaskLabels = {};
        for (const [task, a] of Object.entries(v.labels) as [TaskName, LabelArray][])
          if (a) (labels as Record<TaskName, LabelArray>)[task] = label(task, a);
        out.labels = labels;
      }
      return out;
    }),
  };
}

/** Bilinear resize with OpenCV's INTER_LINEAR sampling (half-pixel centres, clamped border). */
function resizeBilinear(
  src: Float32Array,
  H: number,
  W: number,
  C: number,
  oh: number,
  ow: number,
): Float32Array {
  const out = new Float32Array(oh * ow * C);
  const sx = W / ow;
  const sy = H / oh;
  const x0s = new Int32Array(ow);
  const x1s = new Int32Array(ow);
  const axs = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), W - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x] + 1, W - 1);
    axs[x] = fx - x0s[x];
  }
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), H - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, H - 1);
    const ay = fy - y0;
    for (let x = 0; x < ow; x++) {
      const a = (y0 * W + x0s[x]) * C;
      const b = (y0 * W + x1s[x]) * C;
      const c = (y1 * W + x0s[x]) * C;
      const d = (y1 * W + x1s[x]) * C;
      const ax = axs[x];
      const o = (y * ow + x) * C;
      for (let k = 0; k < C; k++)
        out[o + k] =
          (src[a + k] * (1 - ax) + src[b + k] * ax) * (1 - ay) +
          (src[c + k] * (1 - ax) + src[d + k] * ax) * ay;
    }
  }
  return out;
}

/** Centre-aligned nearest-neighbour resize: output pixel x samples input pixel ⌊(x + 0.5)·W/W'⌋. */
function resizeNearest<T extends LabelArray>(
  src: T,
  H: number,
  W: number,
  C: number,
  oh: number,
  ow: number,
): T {
  const out = new (src.constructor as new (n: number) => T)(oh * ow * C);
  const xs = Int32Array.from({ length: ow }, (_, x) => Math.min(Math.floor(((x + 0.5) * W) / ow), W - 1));
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * H) / oh), H - 1);
    for (let x = 0; x < ow; x++)
      for (let k = 0; k < C; k++) out[(y * ow + x) * C + k] = src[(sy * W + xs[x]) * C + k];
  }
  return out;
}

/**
 * Resizes every view to `outHeight` × `outWidth`: bilinear RGB, nearest labels, intrinsics scaled
 * pixel-centre exactly. Depth values are kept unless `depthScale` is given (they are divided by it).
 *
 * @example const half = resizeSample(sample, 48, 64);
 */
export function resizeSample(
  sample: MultiViewSample,
  outHeight: number,
  outWidth: number,
  depthScale?: number,
): MultiViewSample {
  const { height: H, width: W } = sample;
  const sx = outWidth / W;
  const sy = outHeight / H;
  const A = [sx, 0, (sx - 1) / 2, 0, sy, (sy - 1) / 2, 0, 0, 1];
  return mapViews(
    sample,
    outHeight,
    outWidth,
    (rgb) => resizeBilinear(rgb, H, W, 3, outHeight, outWidth),
    (task, a) => {
      const r = resizeNearest(a, H, W, channelsOf(task), outHeight, outWidth);
      if (task === 'depth' && depthScale !== undefined) for (let i = 0; i < r.length; i++) r[i] /= depthScale;
      return r;
    },
    (v) => ({ intrinsics: mul3(A, v.intrinsics) }),
  );
}

function copyWindow<T extends LabelArray | Float32Array>(
  src: T,
  W: number,
  C: number,
  top: number,
  left: number,
  h: number,
  w: number,
  outH: number,
  outW: number,
  dstTop: number,
  dstLeft: number,
  fill: number | readonly number[],
): T {
  const out = new (src.constructor as new (n: number) => T)(outH * outW * C);
  if (typeof fill === 'number') {
    if (fill !== 0) out.fill(fill);
  } else if (fill.some((f) => f !== 0)) {
    for (let i = 0; i < out.length; i += C) for (let k = 0; k < C; k++) out[i + k] = fill[k];
  }
  for (let y = 0; y < h; y++) {
    const s = ((top + y) * W + left) * C;
    out.set(src.subarray(s, s + w * C) as never, ((dstTop + y) * outW + dstLeft) * C);
  }
  return out;
}

/**
 * Crops every view to the window [top, top + h) × [left, left + w), clipped to the image (a window
 * larger than the image keeps the whole axis, as the reference's slicing does); intrinsics shift.
 */
export function cropSample(
  sample: MultiViewSample,
  top: number,
  left: number,
  h: number,
  w: number,
): MultiViewSample {
  const { height: H, width: W } = sample;
  const ch = Math.min(h, H - top);
  const cw = Math.min(w, W - left);
  const T = [1, 0, -left, 0, 1, -top, 0, 0, 1];
  return mapViews(
    sample,
    ch,
    cw,
    (rgb) => copyWindow(rgb, W, 3, top, left, ch, cw, ch, cw, 0, 0, 0),
    (task, a) => copyWindow(a, W, channelsOf(task), top, left, ch, cw, ch, cw, 0, 0, 0),
    (v) => ({ intrinsics: mul3(T, v.intrinsics) }),
  );
}

/**
 * Pads every view to at least `height` × `width`, centred (⌊Δ/2⌋ before), with `imageColor` for RGB
 * (one value, or one per channel), 255 for index labels and 0 for depth / normals; intrinsics shift.
 */
export function padSample(
  sample: MultiViewSample,
  height: number,
  width: number,
  imageColor: number | readonly [number, number, number] = 0,
): MultiViewSample {
  const { height: H, width: W } = sample;
  if (H >= height && W >= width) return sample;
  const outH = Math.max(H, height);
  const outW = Math.max(W, width);
  const top = Math.floor((outH - H) / 2);
  const left = Math.floor((outW - W) / 2);
  const T = [1, 0, left, 0, 1, top, 0, 0, 1];
  return mapViews(
    sample,
    outH,
    outW,
    (rgb) => copyWindow(rgb, W, 3, 0, 0, H, W, outH, outW, top, left, imageColor),
    (task, a) => copyWindow(a, W, channelsOf(task), 0, 0, H, W, outH, outW, top, left, PAD_VALUE[task]),
    (v) => ({ intrinsics: mul3(T, v.intrinsics) }),
  );
}

function flipRows<T extends LabelArray | Float32Array>(src: T, H: number, W: number, C: number): T {
  const out = new (src.constructor as new (n: number) => T)(src.length);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const s = (y * W + x) * C;
      const d = (y * W + (W - 1 - x)) * C;
      for (let k = 0; k < C; k++) out[d + k] = src[s + k];
    }
  return out;
}

/**
 * Mirrors every view horizontally with consistent cameras (see the module comment): x → W − 1 − x,
 * K ← F·K·S, pose ← S₄·pose·S₄, normals x ← −x, OPENCV p2 ← −p2.
 *
 * @example const mirrored = flipSample(sample); // flipSample(mirrored) equals sample
 */
export function flipSample(sample: MultiViewSample): MultiViewSample {
  const { height: H, width: W } = sample;
  const F = [-1, 0, W - 1, 0, 1, 0, 0, 0, 1];
  const S = [-1, 0, 0, 0, 1, 0, 0, 0, 1];
  return mapViews(
    sample,
    H,
    W,
    (rgb) => flipRows(rgb, H, W, 3),
    (task, a) => {
      const r = flipRows(a, H, W, channelsOf(task));
      if (task === 'normals') for (let i = 0; i < r.length; i += 3) r[i] = r[i] === 0 ? 0 : -r[i];
      return r;
    },
    (v) => {
      const P = Float64Array.from(v.cameraToWorld);
      // S₄·P·S₄ negates row 0 and column 0 (their shared entry keeps its sign).
      for (let j = 1; j < 4; j++) P[j] = -P[j];
      for (let i = 1; i < 4; i++) P[i * 4] = -P[i * 4];
      const out: Pick<SampleView, 'intrinsics' | 'cameraToWorld' | 'distortion'> = {
        intrinsics: mul3(mul3(F, v.intrinsics), S),
        cameraToWorld: P,
      };
      if (v.distortion) {
        const c = [...v.distortion.coefficients];
        if (v.distortion.model === 'OPENCV' && c.length >= 4) c[3] = -c[3];
        out.distortion = { model: v.distortion.model, coefficients: c };
      }
      return out;
    },
  );
}

/**
 * A random crop location as the reference draws it: offsets uniform over [0, max(H − h, 0)] (inclusive),
 * redrawn up to 10 times until the reference view's semseg crop has more than one class and no class
 * above `catMaxRatio` of the labelled pixels.
 */
export function randomCropLocation(
  sample: MultiViewSample,
  h: number,
  w: number,
  rng: Rng,
  catMaxRatio = 0.75,
): { top: number; left: number } {
  const { height: H, width: W } = sample;
  const draw = () => ({ top: rng.int(Math.max(H - h, 0) + 1), left: rng.int(Math.max(W - w, 0) + 1) });
  let loc = draw();
  const semseg = sample.views[0].labels?.semseg;
  if (catMaxRatio < 1 && semseg) {
    const counts = new Map<number, number>();
    for (let attempt = 0; attempt < 10; attempt++) {
      counts.clear();
      for (let y = loc.top; y < Math.min(loc.top + h, H); y++)
        for (let x = loc.left; x < Math.min(loc.left + w, W); x++) {
          const c = semseg[y * W + x];
          if (c !== IGNORE_LABEL) counts.set(c, (counts.get(c) ?? 0) + 1);
        }
      let total = 0;
      let max = 0;
      for (const n of counts.values()) {
        total += n;
        max = Math.max(max, n);
      }
      if (counts.size > 1 && max / total < catMaxRatio) break;
      loc = draw();
    }
  }
  return loc;
}

function rgbToHsv(r: number, g: number, b: number, out: Float32Array): void {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h *= 60;
    if (h < 0) h += 360;
  }
  out[0] = h;
  out[1] = max === 0 ? 0 : d / max;
  out[2] = max;
}

function hsvToRgb(h: number, s: number, v: number, out: Float32Array): void {
  const c = v * s;
  const hp = (h % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  let r = 0;
  let g = 0;
  let b = 0;
  if (hp < 1) [r, g, b] = [c, x, 0];
  else if (hp < 2) [r, g, b] = [x, c, 0];
  else if (hp < 3) [r, g, b] = [0, c, x];
  else if (hp < 4) [r, g, b] = [0, x, c];
  else if (hp < 5) [r, g, b] = [x, 0, c];
  else [r, g, b] = [c, 0, x];
  const m = v - c;
  out[0] = r + m;
  out[1] = g + m;
  out[2] = b + m;
}

/** Random parameters of one photometric distortion (SAK's PhotoMetricDistortion, drawn in its order). */
export interface PhotometricParams {
  brightness: number;
  contrast: number;
  contrastFirst: boolean;
  saturation: number;
  /** Hue shift in degrees. */
  hue: number;
}

/**
 * Draws the photometric parameters: each of brightness (±32/255), contrast (×[0.5, 1.5], applied first
 * or last with p = 0.5), saturation (×[0.5, 1.5]) and hue (OpenCV's randint(−18, 17) half-degrees) is
 * applied with probability 0.5 (identity otherwise).
 */
export function drawPhotometric(rng: Rng): PhotometricParams {
  const contrastFirst = rng.next() < 0.5;
  const brightness = rng.next() < 0.5 ? rng.uniform(-32, 32) / 255 : 0;
  let contrast = 1;
  if (contrastFirst && rng.next() < 0.5) contrast = rng.uniform(0.5, 1.5);
  const saturation = rng.next() < 0.5 ? rng.uniform(0.5, 1.5) : 1;
  const hue = rng.next() < 0.5 ? 2 * (rng.int(36) - 18) : 0;
  if (!contrastFirst && rng.next() < 0.5) contrast = rng.uniform(0.5, 1.5);
  return { brightness, contrast, contrastFirst, saturation, hue };
}

/** Applies photometric parameters to RGB `[H,W,3]` in [0, 1] (clamped after each step). */
export function applyPhotometric(rgb: Float32Array, p: PhotometricParams): Float32Array {
  const out = new Float32Array(rgb.length);
  const hsv = new Float32Array(3);
  const clamp = (v: number) => (v < 0 ? 0 : Math.min(v, 1));
  const colour = p.saturation !== 1 || p.hue !== 0;
  for (let i = 0; i < rgb.length; i += 3) {
    let r = clamp(rgb[i] + p.brightness);
    let g = clamp(rgb[i + 1] + p.brightness);
    let b = clamp(rgb[i + 2] + p.brightness);
    if (p.contrastFirst) {
      r = clamp(r * p.contrast);
      g = clamp(g * p.contrast);
      b = clamp(b * p.contrast);
    }
    if (colour) {
      rgbToHsv(r, g, b, hsv);
      hsvToRgb((hsv[0] + p.hue + 360) % 360, clamp(hsv[1] * p.saturation), hsv[2], hsv);
      [r, g, b] = hsv;
    }
    if (!p.contrastFirst) {
      r = clamp(r * p.contrast);
      g = clamp(g * p.contrast);
      b = clamp(b * p.contrast);
    }
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
  return out;
}

/**
 * The reference's AddIgnoreRegions on every labelled view (in place on the sample's label arrays):
 * normals with zero norm → 255 (all channels); depth 0 → 255; a human_parts map with only 0 / 255 → all
 * 255 (no person part in the crop).
 */
export function addIgnoreRegions(sample: MultiViewSample): MultiViewSample {
  for (const v of sample.views) {
    const L = v.labels;
    if (!L) continue;
    if (L.normals)
      for (let i = 0; i < L.normals.length; i += 3)
        if (L.normals[i] === 0 && L.normals[i + 1] === 0 && L.normals[i + 2] === 0)
          L.normals.fill(255, i, i + 3);
    if (L.depth) for (let i = 0; i < L.depth.length; i++) if (L.depth[i] === 0) L.depth[i] = 255;
    if (L.human_parts?.every((p) => p === 0 || p === IGNORE_LABEL)) L.human_parts.fill(IGNORE_LABEL);
  }
  return sample;
}

/** @internal Rejects the removed normalisation options and a bad pad colour; returns the pad colour. */
export function checkPipelineOptions(options: PipelineOptions): readonly [number, number, number] {
  if ('mean' in options || 'std' in options) {
    throw new Error(
      'pipeline: `mean` / `std` were removed: images stay float32 RGB in [0,1] and each model normalises its own input (`normalizeImage` of @cvm/nn)',
    );
  }
  const color = options.padColor ?? [0, 0, 0];
  if (color.length !== 3 || !color.every((c) => c >= 0 && c <= 1)) {
    throw new Error(`pipeline.padColor: expected 3 values in [0,1] (RGB), got [${color}]`);
  }
  return color;
}

/**
 * The protocol's transforms for one sample (see the module comment). Returns a new sample; the input is
 * not modified. RGB stays in [0, 1] (not normalised: the model does that); intrinsics, poses,
 * distortion and labels follow every step.
 *
 * @param rng the sample's own generator (e.g. `new Rng(hashSeeds(seed, epoch, index))`), so the result
 *   does not depend on which thread ran it.
 * @example
 * const out = transformSample(sample, { train: true, size: [96, 128] }, new Rng(hashSeeds(0, epoch, i)));
 */
export function transformSample(
  sample: MultiViewSample,
  options: PipelineOptions,
  rng: Rng,
): MultiViewSample {
  const padColor = checkPipelineOptions(options);
  let s = sample;
  if (options.train) {
    if (!options.size) throw new Error('transformSample: training transforms need `size` [H, W]');
    const [h, w] = options.size;
    const scaleRange = options.scale === undefined ? ([0.5, 2] as const) : options.scale;
    if (scaleRange) {
      const [lo, hi] = scaleRange;
      if (!(lo > 0 && lo <= hi)) throw new Error(`transformSample: bad scale range [${lo}, ${hi}]`);
      const scale = lo === hi ? lo : rng.uniform(lo, hi);
      if (scale !== 1) {
        const oh = Math.max(1, Math.floor(s.height * scale));
        const ow = Math.max(1, Math.floor(s.width * scale));
        s = resizeSample(s, oh, ow, options.divideDepthByScale ? scale : undefined);
      }
    }
    if (s.height !== h || s.width !== w) {
      const { top, left } = randomCropLocation(s, h, w, rng, options.catMaxRatio ?? 0.75);
      s = cropSample(s, top, left, h, w);
    }
    if ((options.flip ?? true) && rng.next() < 0.5) s = flipSample(s);
    if (options.photometric ?? true) {
      const p = drawPhotometric(rng);
      s = { ...s, views: s.views.map((v) => ({ ...v, rgb: applyPhotometric(v.rgb, p) })) };
    }
  }
  if (options.size) s = padSample(s, options.size[0], options.size[1], padColor);
  if (options.ignoreRegions ?? true) {
    // Copy the label arrays that may still be the input's before marking them in place.
    s = {
      ...s,
      views: s.views.map((v) =>
        v.labels
          ? {
              ...v,
              labels: Object.fromEntries(
                Object.entries(v.labels).map(([k, a]) => [k, a === undefined ? a : a.slice()]),
              ) as TaskLabels,
            }
          : v,
      ),
    };
    addIgnoreRegions(s);
  }
  return s;
}
