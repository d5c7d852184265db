import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, gelu, InstanceNorm2d, LayerNorm, Linear, Module, ModuleList, SwiGLU } from '../src/index.js';

/** The TinyNet of make_nn_fixtures.py, built from @cvm/nn layers. */
export class Block extends Module {
  readonly norm: LayerNorm;
  readonly mlp: SwiGLU;
  constructor(c: number) {
    super();
    this.norm = this.registerModule('norm', new LayerNorm(c));
    this.mlp = this.registerModule('mlp', new SwiGLU(c, 2 * c));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(x, this.mlp.forward(this.norm.forward(x))));
  }
}

export class TinyNet extends Module {
  readonly stem = this.registerModule('stem', new Conv2d(3, 8, 3, { stride: 2, padding: 1, bias: false }));
  readonly norm = this.registerModule('norm', new InstanceNorm2d(8));
  readonly dw = this.registerModule('dw', new Conv2d(8, 8, 3, { padding: 1, groups: 8 }));
  readonly blocks = this.registerModule('blocks', new ModuleList([new Block(8), new Block(8)]));
  readonly head = this.registerModule('head', new Linear(8, 4));

  /** @param x `[B,H,W,3]` @returns `[B, H/2·W/2, 4]` */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const f = this.dw.forward(gelu(this.norm.forward(this.stem.forward(x))));
      const [b, h, w, c] = f.shape;
      let t = tf.reshape(f, [b, h * w, c]);
      for (const blk of this.blocks) t = blk.forward(t);
      return this.head.forward(t);
    });
  }
}
