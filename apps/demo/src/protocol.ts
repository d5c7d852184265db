/** Messages between the page (`main.ts`) and the model worker (`worker.ts`). */
import type { CvmAblation, TaskName } from '@cvm/mtl-heads';
import type { BackendName } from '@cvm/backend';
import type { TaskScores } from '@cvm/metrics';

/** One view of an image the person gave: 8-bit RGB at its own size, with optional camera. */
export interface UserView {
  width: number;
  height: number;
  /** `[H,W,3]` RGB bytes. */
  rgb: Uint8Array;
  /** Intrinsics `[3,3]` row-major at this image's size, and camera-to-world `[4,4]`; absent = identity. */
  intrinsics?: Float64Array;
  cameraToWorld?: Float64Array;
}

export type CvmModeChoice = 'full' | CvmAblation;

export type Request =
  | { type: 'init'; backend: BackendName | 'auto' }
  | {
      type: 'scene';
      id: number;
      scene: number;
      views: number;
      baselineScale: number;
      cvmMode: CvmModeChoice;
    }
  | { type: 'images'; id: number; views: UserView[]; cvmMode: CvmModeChoice };

export interface ModelInfo {
  tasks: TaskName[];
  height: number;
  width: number;
  cvm: string;
  parameters: number;
  /** Inverse-depth candidates of the cost volume, far → near. */
  inverseDepths: number[];
  views: number;
  valScenes: number;
}

export interface FrameMessage {
  type: 'frame';
  id: number;
  height: number;
  width: number;
  /** The views shown: `[H,W,3]` RGB in [0,1] at the model's size. */
  rgb: Float32Array[];
  predictions: Partial<Record<TaskName, Float32Array | Int32Array>>;
  labels: Partial<Record<TaskName, Float32Array | Int32Array | Uint8Array>> | null;
  scores: TaskScores | null;
  costVolume: { data: Float32Array; height: number; width: number; candidates: number } | null;
  forwardMs: number;
  renderMs: number;
  numTensors: number;
  /** WebGPU's buffers after the frame, used and allocated (pooled), in bytes; null on other backends. */
  gpuBytes: { used: number; allocated: number } | null;
  cvmMode: CvmModeChoice;
  mode: 'scene' | 'single-view' | 'multi-view';
}

export type Reply =
  | { type: 'ready'; backend: string; why: string; model: ModelInfo; loadMs: number }
  | FrameMessage
  | { type: 'error'; id?: number; message: string };
