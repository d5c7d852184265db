/**
 * Kernel names of the plane-sweep cost volume, shared by the op, the per-backend kernels and the
 * gradient (as tfjs's own `kernel_names.ts`).
 */

/**
 * Forward kernel, no attributes. Inputs (all float32)
 * `{reference: [B,H,W,C], neighbour: [B,H,W,C], projection: [B,12], inverseDepths: [B,L]}` → `[B,H,W,L]`:
 * `out[b,y,x,l] = (1/√C)·Σ_c reference[b,y,x,c]·S(neighbour[b], u, v)[c]` where, with
 * `d = 1/inverseDepths[b,l]`, `q = A·[x,y,1]` (`A` = projection[b,0..8] row-major) and
 * `P = d·q + projection[b,9..11]`: `z = max(P_z, 1e-3)`, `u = P_x/z`, `v = P_y/z`; `S` is bilinear
 * sampling in index space with zero padding (a tap outside `[0,W−1]×[0,H−1]` contributes nothing).
 * A candidate `inverseDepths[b,l]` that is not finite and > 0 samples nothing (its plane is 0).
 */
export const COST_VOLUME = 'CvmCostVolume';

/**
 * Backward kernel, no attributes. Inputs `{dy: [B,H,W,L], reference, neighbour, projection,
 * inverseDepths}` → `[dReference: [B,H,W,C], dNeighbour: [B,H,W,C]]`. The cameras and depths get no
 * gradient (the references compute the warp under no_grad).
 */
export const COST_VOLUME_GRAD = 'CvmCostVolumeGrad';
