import { PRIMITIVE_STRIDE, packPrimitives } from './primitives.js';
import { type SceneDescription, roomFaceSemantic } from './scene.js';
import { albedo, packMaterials } from './texture.js';

/**
 * The renderer: analytic ray casting against the scene's primitives, written for speed (typed arrays,
 * per-view precomputation of each primitive's ray transform, bounding-sphere rejection, no allocation
 * per pixel). Chosen over a z-buffer rasteriser because every primitive is an exact quadric / box, so
 * depth, normals and labels come out exact at each pixel centre, with no tessellation error.
 *
 * Rays are parametrised as o + t·R·(u, v, 1) with (u, v) = ((x − cx)/fx, (y − cy)/fy): the ray
 * parameter t of a hit is then its z-depth directly.
 */

/** A scene packed for the renderer (see `compileScene`). */
export interface CompiledScene {
  primitives: Float64Array;
  materials: Float64Array;
  /** Room extent [Lx, Ly, Lz]. */
  room: Float64Array;
  /** Material per room face. */
  faceMaterials: Int32Array;
  /** Lights packed as [x, y, z, intensity]. */
  lights: Float64Array;
  ambient: number;
}

/** Packs a scene description into typed arrays. */
export function compileScene(scene: SceneDescription): CompiledScene {
  return {
    primitives: packPrimitives(scene.primitives),
    materials: packMaterials(scene.materials),
    room: Float64Array.from(scene.room.size),
    faceMaterials: Int32Array.from(scene.room.faceMaterials),
    lights: Float64Array.from(scene.lights.flatMap((l) => [...l.position, l.intensity])),
    ambient: scene.ambient,
  };
}

/** Per-view buffers; all `[H,W]` or `[H,W,3]` flat row-major. */
export interface RenderedView {
  rgb: Float32Array;
  depth: Float32Array;
  normals: Float32Array;
  semseg: Int32Array;
  parts: Int32Array;
  sal: Uint8Array;
}

/** Hits closer than this (metres of z-depth) are ignored: the near plane. */
const T_NEAR = 0.01;
/** Distance attenuation of the point lights: I / (1 + k·d²). */
const LIGHT_FALLOFF = 0.08;
const LIGHT_GAIN = 1.5;
/** Floats per primitive in the per-view table: M = Rpᵀ·R (9), local origin (3), |o_l|² − ρ² (1). */
const VIEW_STRIDE = 13;
/** Screen tiles (TILE × TILE pixels) each keep the list of primitives whose bounding sphere they may see. */
const TILE = 8;
/** Slots of the per-trace scratch array. */
const HIT_T = 0;
const HIT_INDEX = 1;
const NWX = 2;
const NWY = 3;
const NWZ = 4;
const NCX = 5;
const NCY = 6;
const NCZ = 7;
const PX = 8;
const PY = 9;
const PZ = 10;
const RED = 11;
const GREEN = 12;
const BLUE = 13;

/**
 * Renders one view with exact per-pixel ground truth.
 *
 * @param scene compiled scene.
 * @param K intrinsics `[3,3]` row-major (pixels, at this resolution).
 * @param cameraToWorld `[4,4]` row-major OpenCV pose.
 * @param antialias sub-samples per axis for the RGB image (1 = none); labels, depth and normals are
 *   always those of the pixel centre.
 * @returns rgb `[H,W,3]` in [0,1], depth `[H,W]` (z, metres), normals `[H,W,3]` (camera frame, unit,
 *   facing the camera), semseg `[H,W]` NYUD-40 ids, parts `[H,W]`, sal `[H,W]`.
 *
 * @example
 * const view = renderView(compileScene(buildScene(7)), K, c2w, 96, 128);
 */
export function renderView(
  scene: CompiledScene,
  K: ArrayLike<number>,
  cameraToWorld: ArrayLike<number>,
  height: number,
  width: number,
  antialias = 1,
): RenderedView {
  const prims = scene.primitives;
  const mats = scene.materials;
  const lights = scene.lights;
  const nLights = lights.length / 4;
  const Lx = scene.room[0];
  const Ly = scene.room[1];
  const Lz = scene.room[2];
  const fx = K[0];
  const cx = K[2];
  const fy = K[4];
  const cy = K[5];
  const r00 = cameraToWorld[0];
  const r01 = cameraToWorld[1];
  const r02 = cameraToWorld[2];
  const r10 = cameraToWorld[4];
  const r11 = cameraToWorld[5];
  const r12 = cameraToWorld[6];
  const r20 = cameraToWorld[8];
  const r21 = cameraToWorld[9];
  const r22 = cameraToWorld[10];
  const ox = cameraToWorld[3];
  const oy = cameraToWorld[7];
  const oz = cameraToWorld[11];

  const nPrims = prims.length / PRIMITIVE_STRIDE;
  const view = new Float64Array(nPrims * VIEW_STRIDE);
  for (let p = 0; p < nPrims; p++) {
    const b = p * PRIMITIVE_STRIDE + 6;
    const v = p * VIEW_STRIDE;
    // M = Rpᵀ · R (local direction from camera-frame direction); local origin = Rpᵀ · (o − c).
    for (let i = 0; i < 3; i++) {
      const a0 = prims[b + i];
      const a1 = prims[b + 3 + i];
      const a2 = prims[b + 6 + i];
      view[v + i * 3] = a0 * r00 + a1 * r10 + a2 * r20;
      view[v + i * 3 + 1] = a0 * r01 + a1 * r11 + a2 * r21;
      view[v + i * 3 + 2] = a0 * r02 + a1 * r12 + a2 * r22;
    }
    const dx = ox - prims[b + 9];
    const dy = oy - prims[b + 10];
    const dz = oz - prims[b + 11];
    const lx = prims[b] * dx + prims[b + 3] * dy + prims[b + 6] * dz;
    const ly = prims[b + 1] * dx + prims[b + 4] * dy + prims[b + 7] * dz;
    const lz = prims[b + 2] * dx + prims[b + 5] * dy + prims[b + 8] * dz;
    view[v + 9] = lx;
    view[v + 10] = ly;
    view[v + 11] = lz;
    const rho = prims[p * PRIMITIVE_STRIDE + 21];
    view[v + 12] = lx * lx + ly * ly + lz * lz - rho * rho;
  }

  // Screen-space culling: project each bounding sphere to a conservative pixel rectangle, and bin the
  // primitives per tile (index order is kept, so the result is identical to testing every primitive).
  const tilesX = Math.ceil(width / TILE);
  const tilesY = Math.ceil(height / TILE);
  const tileCount = new Int32Array(tilesX * tilesY + 1);
  const rects = new Int32Array(nPrims * 4);
  for (let p = 0; p < nPrims; p++) {
    const b = p * PRIMITIVE_STRIDE;
    const dx = prims[b + 15] - ox;
    const dy = prims[b + 16] - oy;
    const dz = prims[b + 17] - oz;
    const X = r00 * dx + r10 * dy + r20 * dz;
    const Y = r01 * dx + r11 * dy + r21 * dz;
    const Z = r02 * dx + r12 * dy + r22 * dz;
    const rho = prims[b + 21];
    let tx0 = 0;
    let tx1 = tilesX - 1;
    let ty0 = 0;
    let ty1 = tilesY - 1;
    if (Z + rho <= T_NEAR) {
      tx1 = -1; // entirely behind the camera
    } else if (Z - rho > T_NEAR) {
      // Tangent angles of the sphere in the xz and yz planes; ±1 px margin for sub-pixel samples.
      const ax = Math.asin(rho / Math.sqrt(X * X + Z * Z));
      const thx = Math.atan2(X, Z);
      const ay = Math.asin(rho / Math.sqrt(Y * Y + Z * Z));
      const thy = Math.atan2(Y, Z);
      const x0 = fx * Math.tan(thx - ax) + cx - 1;
      const x1 = fx * Math.tan(thx + ax) + cx + 1;
      const y0 = fy * Math.tan(thy - ay) + cy - 1;
      const y1 = fy * Math.tan(thy + ay) + cy + 1;
      tx0 = Math.max(0, Math.floor(x0 / TILE));
      tx1 = Math.min(tilesX - 1, Math.floor(x1 / TILE));
      ty0 = Math.max(0, Math.floor(y0 / TILE));
      ty1 = Math.min(tilesY - 1, Math.floor(y1 / TILE));
    }
    rects[4 * p] = tx0;
    rects[4 * p + 1] = tx1;
    rects[4 * p + 2] = ty0;
    rects[4 * p + 3] = ty1;
    for (let ty = ty0; ty <= ty1; ty++) for (let tx = tx0; tx <= tx1; tx++) tileCount[ty * tilesX + tx + 1]++;
  }
  for (let i = 1; i < tileCount.length; i++) tileCount[i] += tileCount[i - 1];
  const tileFill = tileCount.slice(0, tilesX * tilesY);
  const tileList = new Int32Array(tileCount[tilesX * tilesY]);
  for (let p = 0; p < nPrims; p++)
    for (let ty = rects[4 * p + 2]; ty <= rects[4 * p + 3]; ty++)
      for (let tx = rects[4 * p]; tx <= rects[4 * p + 1]; tx++) tileList[tileFill[ty * tilesX + tx]++] = p;
  let listStart = 0;
  let listEnd = 0;

  // Results of the last trace / surface evaluation live in a typed array: doubles captured by the
  // closures as `let`s would be boxed on every write (one allocation per pixel).
  const S = new Float64Array(16);
  const color = new Float64Array(3);

  const trace = (u: number, v: number): void => {
    const dwx = r00 * u + r01 * v + r02;
    const dwy = r10 * u + r11 * v + r12;
    const dwz = r20 * u + r21 * v + r22;
    // Room: exit point of the box [0,L]^3 (the camera is inside it).
    let best = Number.POSITIVE_INFINITY;
    let bestIndex = -1;
    if (dwx > 0) {
      best = (Lx - ox) / dwx;
      bestIndex = -2;
    } else if (dwx < 0) {
      best = -ox / dwx;
      bestIndex = -1;
    }
    if (dwy > 0) {
      const t = (Ly - oy) / dwy;
      if (t < best) {
        best = t;
        bestIndex = -4;
      }
    } else if (dwy < 0) {
      const t = -oy / dwy;
      if (t < best) {
        best = t;
        bestIndex = -3;
      }
    }
    if (dwz > 0) {
      const t = (Lz - oz) / dwz;
      if (t < best) {
        best = t;
        bestIndex = -6;
      }
    } else if (dwz < 0) {
      const t = -oz / dwz;
      if (t < best) {
        best = t;
        bestIndex = -5;
      }
    }
    const dd = u * u + v * v + 1;
    for (let k = listStart; k < listEnd; k++) {
      const p = tileList[k];
      const q = p * VIEW_STRIDE;
      const lx = view[q + 9];
      const ly = view[q + 10];
      const lz = view[q + 11];
      const dlx = view[q] * u + view[q + 1] * v + view[q + 2];
      const dly = view[q + 3] * u + view[q + 4] * v + view[q + 5];
      const dlz = view[q + 6] * u + view[q + 7] * v + view[q + 8];
      // Bounding sphere: reject misses and anything that cannot beat the current best.
      const bb = lx * dlx + ly * dly + lz * dlz;
      const disc = bb * bb - dd * view[q + 12];
      if (disc < 0) continue;
      const sq = Math.sqrt(disc);
      const tEnter = (-bb - sq) / dd;
      if (tEnter >= best || (-bb + sq) / dd <= T_NEAR) continue;
      const o = p * PRIMITIVE_STRIDE;
      const kind = prims[o];
      let t = Number.POSITIVE_INFINITY;
      if (kind === 1) {
        t = tEnter; // the bounding sphere is the sphere
      } else if (kind === 0) {
        const hx = prims[o + 18];
        const hy = prims[o + 19];
        const hz = prims[o + 20];
        let tn = Number.NEGATIVE_INFINITY;
        let tf = Number.POSITIVE_INFINITY;
        if (dlx !== 0) {
          const a = (-hx - lx) / dlx;
          const c = (hx - lx) / dlx;
          tn = Math.max(tn, Math.min(a, c));
          tf = Math.min(tf, Math.max(a, c));
        } else if (Math.abs(lx) > hx) continue;
        if (dly !== 0) {
          const a = (-hy - ly) / dly;
          const c = (hy - ly) / dly;
          tn = Math.max(tn, Math.min(a, c));
          tf = Math.min(tf, Math.max(a, c));
        } else if (Math.abs(ly) > hy) continue;
        if (dlz !== 0) {
          const a = (-hz - lz) / dlz;
          const c = (hz - lz) / dlz;
          tn = Math.max(tn, Math.min(a, c));
          tf = Math.min(tf, Math.max(a, c));
        } else if (Math.abs(lz) > hz) continue;
        if (tn <= tf) t = tn;
      } else {
        const r = prims[o + 18];
        const h = prims[o + 19];
        // Side of the infinite cylinder around local y.
        const a = dlx * dlx + dlz * dlz;
        if (a > 1e-14) {
          const b2 = lx * dlx + lz * dlz;
          const d2 = b2 * b2 - a * (lx * lx + lz * lz - r * r);
          if (d2 >= 0) {
            const ts = (-b2 - Math.sqrt(d2)) / a;
            const y = ly + ts * dly;
            if (ts > T_NEAR && y >= -h && y <= h) t = ts;
          }
        }
        if (kind === 2) {
          // Flat caps at y = ±h.
          if (dly !== 0) {
            for (let side = -1; side <= 1; side += 2) {
              const tc = (side * h - ly) / dly;
              if (tc > T_NEAR && tc < t) {
                const x = lx + tc * dlx;
                const z = lz + tc * dlz;
                if (x * x + z * z <= r * r) t = tc;
              }
            }
          }
        } else {
          // Capsule: hemispheres at y = ±h.
          for (let side = -1; side <= 1; side += 2) {
            const sy = ly - side * h;
            const b3 = lx * dlx + sy * dly + lz * dlz;
            const d3 = b3 * b3 - dd * (lx * lx + sy * sy + lz * lz - r * r);
            if (d3 >= 0) {
              const tc = (-b3 - Math.sqrt(d3)) / dd;
              if (tc > T_NEAR && tc < t) t = tc;
            }
          }
        }
      }
      if (t > T_NEAR && t < best) {
        best = t;
        bestIndex = p;
      }
    }
    S[HIT_T] = best;
    S[HIT_INDEX] = bestIndex;
  };

  /** Normal (world and camera frame, facing the camera), hit point and albedo·shading of the last trace. */
  const surface = (u: number, v: number): void => {
    const t = S[HIT_T];
    const dwx = r00 * u + r01 * v + r02;
    const dwy = r10 * u + r11 * v + r12;
    const dwz = r20 * u + r21 * v + r22;
    S[PX] = ox + t * dwx;
    S[PY] = oy + t * dwy;
    S[PZ] = oz + t * dwz;
    let material: number;
    if (S[HIT_INDEX] < 0) {
      const face = -1 - S[HIT_INDEX];
      const axis = face >> 1;
      const sign = (face & 1) === 0 ? 1 : -1; // inward
      S[NWX] = axis === 0 ? sign : 0;
      S[NWY] = axis === 1 ? sign : 0;
      S[NWZ] = axis === 2 ? sign : 0;
      material = scene.faceMaterials[face];
      albedo(mats, material, S[PX], S[PY], S[PZ], color);
    } else {
      const q = S[HIT_INDEX] * VIEW_STRIDE;
      const o = S[HIT_INDEX] * PRIMITIVE_STRIDE;
      const qx = view[q + 9] + t * (view[q] * u + view[q + 1] * v + view[q + 2]);
      const qy = view[q + 10] + t * (view[q + 3] * u + view[q + 4] * v + view[q + 5]);
      const qz = view[q + 11] + t * (view[q + 6] * u + view[q + 7] * v + view[q + 8]);
      const kind = prims[o];
      let nx = 0;
      let ny = 0;
      let nz = 0;
      if (kind === 0) {
        const ax = Math.abs(qx) / prims[o + 18];
        const ay = Math.abs(qy) / prims[o + 19];
        const az = Math.abs(qz) / prims[o + 20];
        if (ax >= ay && ax >= az) nx = qx > 0 ? 1 : -1;
        else if (ay >= az) ny = qy > 0 ? 1 : -1;
        else nz = qz > 0 ? 1 : -1;
      } else if (kind === 1) {
        const r = prims[o + 18];
        nx = qx / r;
        ny = qy / r;
        nz = qz / r;
      } else {
        const r = prims[o + 18];
        const h = prims[o + 19];
        const radial = Math.sqrt(qx * qx + qz * qz);
        if (kind === 2) {
          if (h - Math.abs(qy) < r - radial) ny = qy > 0 ? 1 : -1;
          else {
            nx = qx / radial;
            nz = qz / radial;
          }
        } else {
          const cy2 = Math.min(h, Math.max(-h, qy));
          nx = qx / r;
          ny = (qy - cy2) / r;
          nz = qz / r;
        }
      }
      const len = Math.sqrt(nx * nx + ny * ny + nz * nz);
      nx /= len;
      ny /= len;
      nz /= len;
      const b = o + 6;
      S[NWX] = prims[b] * nx + prims[b + 1] * ny + prims[b + 2] * nz;
      S[NWY] = prims[b + 3] * nx + prims[b + 4] * ny + prims[b + 5] * nz;
      S[NWZ] = prims[b + 6] * nx + prims[b + 7] * ny + prims[b + 8] * nz;
      material = prims[o + 4];
      albedo(mats, material, qx, qy, qz, color);
    }
    S[NCX] = r00 * S[NWX] + r10 * S[NWY] + r20 * S[NWZ];
    S[NCY] = r01 * S[NWX] + r11 * S[NWY] + r21 * S[NWZ];
    S[NCZ] = r02 * S[NWX] + r12 * S[NWY] + r22 * S[NWZ];
    if (S[NCX] * u + S[NCY] * v + S[NCZ] > 0) {
      S[NCX] = -S[NCX];
      S[NCY] = -S[NCY];
      S[NCZ] = -S[NCZ];
      S[NWX] = -S[NWX];
      S[NWY] = -S[NWY];
      S[NWZ] = -S[NWZ];
    }
    // Lambertian shading: view-independent, so a point has the same colour in every view.
    let light = scene.ambient;
    for (let l = 0; l < nLights; l++) {
      const lx = lights[4 * l] - S[PX];
      const ly = lights[4 * l + 1] - S[PY];
      const lz = lights[4 * l + 2] - S[PZ];
      const d2 = lx * lx + ly * ly + lz * lz;
      const cosine = (S[NWX] * lx + S[NWY] * ly + S[NWZ] * lz) / Math.sqrt(d2);
      if (cosine > 0) light += (LIGHT_GAIN * lights[4 * l + 3] * cosine) / (1 + LIGHT_FALLOFF * d2);
    }
    S[RED] = Math.min(1, color[0] * light);
    S[GREEN] = Math.min(1, color[1] * light);
    S[BLUE] = Math.min(1, color[2] * light);
  };

  const n = height * width;
  const rgb = new Float32Array(n * 3);
  const depth = new Float32Array(n);
  const normals = new Float32Array(n * 3);
  const semseg = new Int32Array(n);
  const parts = new Int32Array(n);
  const sal = new Uint8Array(n);
  const aa = Math.max(1, Math.floor(antialias));
  const invAA2 = 1 / (aa * aa);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const tile = ((y / TILE) | 0) * tilesX + ((x / TILE) | 0);
      listStart = tileCount[tile];
      listEnd = tileCount[tile + 1];
      const i = y * width + x;
      const u = (x - cx) / fx;
      const v = (y - cy) / fy;
      trace(u, v);
      surface(u, v);
      depth[i] = S[HIT_T];
      normals[3 * i] = S[NCX];
      normals[3 * i + 1] = S[NCY];
      normals[3 * i + 2] = S[NCZ];
      if (S[HIT_INDEX] < 0) {
        semseg[i] = roomFaceSemantic(-1 - S[HIT_INDEX]);
      } else {
        const o = S[HIT_INDEX] * PRIMITIVE_STRIDE;
        semseg[i] = prims[o + 1];
        parts[i] = prims[o + 2];
        sal[i] = prims[o + 3];
      }
      if (aa === 1) {
        rgb[3 * i] = S[RED];
        rgb[3 * i + 1] = S[GREEN];
        rgb[3 * i + 2] = S[BLUE];
      } else {
        let sr = 0;
        let sg = 0;
        let sb = 0;
        for (let sy = 0; sy < aa; sy++) {
          for (let sx = 0; sx < aa; sx++) {
            const us = (x + (sx + 0.5) / aa - 0.5 - cx) / fx;
            const vs = (y + (sy + 0.5) / aa - 0.5 - cy) / fy;
            trace(us, vs);
            surface(us, vs);
            sr += S[RED];
            sg += S[GREEN];
            sb += S[BLUE];
          }
        }
        rgb[3 * i] = sr * invAA2;
        rgb[3 * i + 1] = sg * invAA2;
        rgb[3 * i + 2] = sb * invAA2;
      }
    }
  }
  return { rgb, depth, normals, semseg, parts, sal };
}
