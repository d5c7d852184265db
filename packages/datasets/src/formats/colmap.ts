/**
 * COLMAP sparse models in the text format (`cameras.txt`, `images.txt`, `points3D.txt`), read and
 * written. Conversions to the cvm conventions happen here and nowhere else:
 * - COLMAP stores world-to-camera poses (quaternion QW QX QY QZ, Hamilton, and translation T) with
 *   OpenCV axes; cvm uses camera-to-world 4×4 matrices: c2w = inv([R | T]).
 * - COLMAP puts the centre of the top-left pixel at (0.5, 0.5); cvm puts it at (0, 0). So
 *   cx_colmap = cx + 0.5 and cy_colmap = cy + 0.5.
 */

export type ColmapModelName = 'SIMPLE_PINHOLE' | 'PINHOLE' | 'SIMPLE_RADIAL' | 'RADIAL' | 'OPENCV';

/** Parameter count of each supported camera model. */
const MODEL_PARAMS: Record<ColmapModelName, number> = {
  SIMPLE_PINHOLE: 3,
  PINHOLE: 4,
  SIMPLE_RADIAL: 4,
  RADIAL: 5,
  OPENCV: 8,
};

export interface ColmapCamera {
  id: number;
  model: ColmapModelName;
  width: number;
  height: number;
  /** The model's parameters, in COLMAP's pixel convention. */
  params: number[];
}

export interface ColmapImage {
  id: number;
  /** World-to-camera rotation as a unit quaternion [w, x, y, z]. */
  qvec: [number, number, number, number];
  /** World-to-camera translation. */
  tvec: [number, number, number];
  cameraId: number;
  name: string;
}

export interface ColmapModel {
  cameras: Map<number, ColmapCamera>;
  images: ColmapImage[];
}

/** Row-major 3×3 rotation of a unit quaternion [w, x, y, z]. */
export function quaternionToRotation(q: readonly number[]): number[] {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const [w, x, y, z] = q.map((v) => v / n);
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  ];
}

/** Unit quaternion [w, x, y, z] (w ≥ 0) of a row-major 3×3 rotation. */
export function rotationToQuaternion(R: readonly number[]): [number, number, number, number] {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = R;
  const trace = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (trace > 0) {
    const s = 2 * Math.sqrt(trace + 1);
    q = [s / 4, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22);
    q = [(m21 - m12) / s, s / 4, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22);
    q = [(m02 - m20) / s, (m01 + m10) / s, s / 4, (m12 + m21) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11);
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, s / 4];
  }
  const n = Math.hypot(...q) * (q[0] < 0 ? -1 : 1);
  return q.map((v) => v / n) as [number, number, number, number];
}

/**
 * The COLMAP image and camera of a cvm view.
 *
 * @param K `[3,3]` row-major intrinsics (cvm pixel convention).
 * @param cameraToWorld `[4,4]` row-major OpenCV pose.
 */
export function viewToColmap(
  K: ArrayLike<number>,
  cameraToWorld: ArrayLike<number>,
): {
  pinhole: [number, number, number, number];
  qvec: [number, number, number, number];
  tvec: [number, number, number];
} {
  const c = cameraToWorld;
  // World-to-camera: R_w2c = Rᵀ, t_w2c = −Rᵀ·c.
  const Rt = [c[0], c[4], c[8], c[1], c[5], c[9], c[2], c[6], c[10]];
  const t: [number, number, number] = [
    -(Rt[0] * c[3] + Rt[1] * c[7] + Rt[2] * c[11]),
    -(Rt[3] * c[3] + Rt[4] * c[7] + Rt[5] * c[11]),
    -(Rt[6] * c[3] + Rt[7] * c[7] + Rt[8] * c[11]),
  ];
  return { pinhole: [K[0], K[4], K[2] + 0.5, K[5] + 0.5], qvec: rotationToQuaternion(Rt), tvec: t };
}

/**
 * cvm intrinsics (`[3,3]`, row-major, cvm pixel convention) and distortion coefficients of a COLMAP
 * camera. Distortion is returned, not applied: OPENCV [k1, k2, p1, p2], SIMPLE_RADIAL [k], RADIAL [k1, k2].
 */
export function colmapCameraIntrinsics(camera: ColmapCamera): {
  intrinsics: Float64Array;
  distortion: number[];
} {
  const p = camera.params;
  let fx: number;
  let fy: number;
  let cx: number;
  let cy: number;
  let distortion: number[] = [];
  if (camera.model === 'PINHOLE' || camera.model === 'OPENCV') {
    [fx, fy, cx, cy] = p;
    distortion = p.slice(4);
  } else {
    [fx, cx, cy] = p;
    fy = fx;
    distortion = p.slice(3);
  }
  return { intrinsics: Float64Array.from([fx, 0, cx - 0.5, 0, fy, cy - 0.5, 0, 0, 1]), distortion };
}

/** cvm camera-to-world `[4,4]` row-major pose of a COLMAP image. */
export function colmapImagePose(image: ColmapImage): Float64Array {
  const R = quaternionToRotation(image.qvec); // world-to-camera
  const t = image.tvec;
  // c2w = [Rᵀ | −Rᵀ t]
  const out = new Float64Array(16);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i * 4 + j] = R[j * 3 + i];
    out[i * 4 + 3] = -(R[i] * t[0] + R[3 + i] * t[1] + R[6 + i] * t[2]);
  }
  out[15] = 1;
  return out;
}

/** The camera of one image of a model, in cvm's conventions. */
export interface ColmapViewCamera {
  name: string;
  /** Size of the camera's images, in pixels. */
  width: number;
  height: number;
  /** `[3,3]` row-major, cvm pixel convention. */
  intrinsics: Float64Array;
  /** `[4,4]` row-major camera-to-world, OpenCV axes. */
  cameraToWorld: Float64Array;
  /** Present for distorted camera models (returned, never applied). */
  distortion?: { model: string; coefficients: number[] };
}

/**
 * The camera of the image named `name` (as `images.txt` names it) in cvm's conventions.
 * @param where names the model in errors (e.g. its `images.txt` path)
 * @example colmapViewCamera(parseColmapText(camerasTxt, imagesTxt), 'frame_0001.png').cameraToWorld;
 */
export function colmapViewCamera(model: ColmapModel, name: string, where = 'COLMAP model'): ColmapViewCamera {
  const image = model.images.find((im) => im.name === name);
  if (!image) {
    const known = model.images.map((im) => im.name);
    throw new Error(
      `${where}: no image named '${name}' (it has ${known.length}: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''})`,
    );
  }
  const camera = model.cameras.get(image.cameraId);
  if (!camera)
    throw new Error(`${where}: image '${name}' refers to camera ${image.cameraId}, which is not defined`);
  const { intrinsics, distortion } = colmapCameraIntrinsics(camera);
  const view: ColmapViewCamera = {
    name,
    width: camera.width,
    height: camera.height,
    intrinsics,
    cameraToWorld: colmapImagePose(image),
  };
  if (distortion.length > 0) view.distortion = { model: camera.model, coefficients: distortion };
  return view;
}

/** Text of `cameras.txt`. Numbers are written with JS's shortest round-trip representation. */
export function formatColmapCameras(cameras: readonly ColmapCamera[]): string {
  const lines = [
    '# Camera list with one line of data per camera:',
    '#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]',
    `# Number of cameras: ${cameras.length}`,
    ...cameras.map((c) => [c.id, c.model, c.width, c.height, ...c.params].join(' ')),
  ];
  return `${lines.join('\n')}\n`;
}

/** Text of `images.txt` (no 2-D points: every POINTS2D line is empty). */
export function formatColmapImages(images: readonly ColmapImage[]): string {
  const lines = [
    '# Image list with two lines of data per image:',
    '#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME',
    '#   POINTS2D[] as (X, Y, POINT3D_ID)',
    `# Number of images: ${images.length}, mean observations per image: 0`,
  ];
  for (const im of images) lines.push([im.id, ...im.qvec, ...im.tvec, im.cameraId, im.name].join(' '), '');
  return `${lines.join('\n')}\n`;
}

/** Text of an empty `points3D.txt`. */
export function formatColmapPoints(): string {
  return '# 3D point list with one line of data per point:\n#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n# Number of points: 0, mean track length: 0\n';
}

function parseNumbers(fields: string[], file: string, lineNumber: number): number[] {
  return fields.map((f) => {
    const v = Number(f);
    if (!Number.isFinite(v)) throw new Error(`${file}:${lineNumber}: '${f}' is not a number`);
    return v;
  });
}

/**
 * Parses `cameras.txt` and `images.txt` (COLMAP's text model).
 *
 * @param camerasText content of cameras.txt; `camerasFile` names it in errors.
 * @param imagesText content of images.txt; `imagesFile` names it in errors.
 * @example
 * const model = parseColmapText(readFileSync(dir + '/cameras.txt', 'utf8'), readFileSync(dir + '/images.txt', 'utf8'));
 */
export function parseColmapText(
  camerasText: string,
  imagesText: string,
  camerasFile = 'cameras.txt',
  imagesFile = 'images.txt',
): ColmapModel {
  const cameras = new Map<number, ColmapCamera>();
  camerasText.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    const model = f[1] as ColmapModelName;
    if (!(model in MODEL_PARAMS))
      throw new Error(
        `${camerasFile}:${i + 1}: unsupported camera model '${f[1]}' (supported: ${Object.keys(MODEL_PARAMS).join(', ')})`,
      );
    const nums = parseNumbers([f[0], f[2], f[3], ...f.slice(4)], camerasFile, i + 1);
    if (nums.length - 3 !== MODEL_PARAMS[model])
      throw new Error(
        `${camerasFile}:${i + 1}: ${model} takes ${MODEL_PARAMS[model]} parameters, found ${nums.length - 3}`,
      );
    cameras.set(nums[0], { id: nums[0], model, width: nums[1], height: nums[2], params: nums.slice(3) });
  });
  const images: ColmapImage[] = [];
  const lines = imagesText.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    if (f.length < 10)
      throw new Error(
        `${imagesFile}:${i + 1}: expected 'IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME', got '${line}'`,
      );
    const nums = parseNumbers(f.slice(0, 9), imagesFile, i + 1);
    const image: ColmapImage = {
      id: nums[0],
      qvec: [nums[1], nums[2], nums[3], nums[4]],
      tvec: [nums[5], nums[6], nums[7]],
      cameraId: nums[8],
      name: f.slice(9).join(' '),
    };
    if (!cameras.has(image.cameraId))
      throw new Error(
        `${imagesFile}:${i + 1}: image '${image.name}' uses camera ${image.cameraId}, which ${camerasFile} does not define`,
      );
    images.push(image);
    i++; // the POINTS2D line that follows (possibly empty)
  }
  return { cameras, images };
}

/* ------------------------------------------------------------------ binary model */

/** COLMAP's numeric camera model ids (`cameras.bin`). */
const MODEL_IDS: Record<ColmapModelName, number> = {
  SIMPLE_PINHOLE: 0,
  PINHOLE: 1,
  SIMPLE_RADIAL: 2,
  RADIAL: 3,
  OPENCV: 4,
};
const MODEL_BY_ID = new Map(Object.entries(MODEL_IDS).map(([name, id]) => [id, name as ColmapModelName]));

/**
 * `cameras.bin`: uint64 count, then per camera int32 id, int32 model id, uint64 width, uint64 height,
 * float64 params (little-endian).
 */
export function encodeColmapCamerasBinary(cameras: readonly ColmapCamera[]): Uint8Array {
  const size = 8 + cameras.reduce((s, c) => s + 24 + 8 * c.params.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(cameras.length), true);
  let o = 8;
  for (const c of cameras) {
    if (c.params.length !== MODEL_PARAMS[c.model])
      throw new Error(`encodeColmapCamerasBinary: ${c.model} takes ${MODEL_PARAMS[c.model]} parameters`);
    v.setInt32(o, c.id, true);
    v.setInt32(o + 4, MODEL_IDS[c.model], true);
    v.setBigUint64(o + 8, BigInt(c.width), true);
    v.setBigUint64(o + 16, BigInt(c.height), true);
    o += 24;
    for (const p of c.params) {
      v.setFloat64(o, p, true);
      o += 8;
    }
  }
  return out;
}

/**
 * `images.bin`: uint64 count, then per image int32 id, float64 qw qx qy qz tx ty tz, int32 camera id,
 * the name NUL-terminated, uint64 number of 2-D points, then (float64 x, float64 y, int64 point id) each
 * (written empty).
 */
export function encodeColmapImagesBinary(images: readonly ColmapImage[]): Uint8Array {
  const names = images.map((im) => new TextEncoder().encode(im.name));
  const size = 8 + images.reduce((s, _, i) => s + 64 + names[i].length + 1 + 8, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(images.length), true);
  let o = 8;
  images.forEach((im, i) => {
    v.setInt32(o, im.id, true);
    [...im.qvec, ...im.tvec].forEach((x, k) => {
      v.setFloat64(o + 4 + 8 * k, x, true);
    });
    v.setInt32(o + 60, im.cameraId, true);
    o += 64;
    out.set(names[i], o);
    o += names[i].length + 1; // NUL
    v.setBigUint64(o, 0n, true);
    o += 8;
  });
  return out;
}

/** An empty `points3D.bin` (uint64 count 0). */
export function encodeColmapPointsBinary(): Uint8Array {
  return new Uint8Array(8);
}

/**
 * Parses `cameras.bin` and `images.bin` (COLMAP's binary model; `points3D.bin` is not needed). Errors
 * name the file and byte offset (truncated files, unknown camera models, images with unknown cameras).
 *
 * @example
 * const model = parseColmapBinary(readFileSync(dir + '/cameras.bin'), readFileSync(dir + '/images.bin'));
 */
export function parseColmapBinary(
  camerasBytes: Uint8Array,
  imagesBytes: Uint8Array,
  camerasFile = 'cameras.bin',
  imagesFile = 'images.bin',
): ColmapModel {
  const cameras = new Map<number, ColmapCamera>();
  {
    const v = new DataView(camerasBytes.buffer, camerasBytes.byteOffset, camerasBytes.byteLength);
    const need = (o: number, n: number) => {
      if (o + n > camerasBytes.length)
        throw new Error(
          `${camerasFile}: truncated at byte ${o} (needs ${n} more bytes of ${camerasBytes.length})`,
        );
    };
    need(0, 8);
    const count = Number(v.getBigUint64(0, true));
    let o = 8;
    for (let i = 0; i < count; i++) {
      need(o, 24);
      const id = v.getInt32(o, true);
      const modelId = v.getInt32(o + 4, true);
      const model = MODEL_BY_ID.get(modelId);
      if (!model)
        throw new Error(
          `${camerasFile}: camera ${id} has unsupported model id ${modelId} (supported: ${[...MODEL_BY_ID].map(([k, n]) => `${k} ${n}`).join(', ')})`,
        );
      const width = Number(v.getBigUint64(o + 8, true));
      const height = Number(v.getBigUint64(o + 16, true));
      o += 24;
      need(o, 8 * MODEL_PARAMS[model]);
      const params = Array.from({ length: MODEL_PARAMS[model] }, (_, k) => v.getFloat64(o + 8 * k, true));
      o += 8 * MODEL_PARAMS[model];
      cameras.set(id, { id, model, width, height, params });
    }
  }
  const images: ColmapImage[] = [];
  {
    const b = imagesBytes;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const need = (o: number, n: number) => {
      if (o + n > b.length)
        throw new Error(`${imagesFile}: truncated at byte ${o} (needs ${n} more bytes of ${b.length})`);
    };
    need(0, 8);
    const count = Number(v.getBigUint64(0, true));
    let o = 8;
    for (let i = 0; i < count; i++) {
      need(o, 64);
      const id = v.getInt32(o, true);
      const f = Array.from({ length: 7 }, (_, k) => v.getFloat64(o + 4 + 8 * k, true));
      const cameraId = v.getInt32(o + 60, true);
      o += 64;
      const end = b.indexOf(0, o);
      if (end < 0) throw new Error(`${imagesFile}: truncated in the name of image ${id} (byte ${o})`);
      const name = new TextDecoder().decode(b.subarray(o, end));
      o = end + 1;
      need(o, 8);
      const points = Number(v.getBigUint64(o, true));
      o += 8;
      need(o, 24 * points);
      o += 24 * points;
      if (!cameras.has(cameraId))
        throw new Error(
          `${imagesFile}: image '${name}' uses camera ${cameraId}, which ${camerasFile} does not define`,
        );
      images.push({ id, qvec: [f[0], f[1], f[2], f[3]], tvec: [f[4], f[5], f[6]], cameraId, name });
    }
  }
  return { cameras, images };
}
