"""PyTorch timing of the same training step as bench/train-step.bench.ts (printed as JSON).

/usr/bin/python3 bench/train_step_torch.py H W D [runs] [small|paper] [threads]
Model: the test encoder (patch-16 conv + 4 residual Linear+GELU stages, width D), the small or the
paper-size Cross-view Module of @cvm/cvm-module's reference (2 views), NYUD's four SAK heads with the CvM output
fused at 1/4; forward, weighted loss, backward, clip 10, AdamW. float32; `threads` (the tfjs side's
thread count) sets torch.set_num_threads, else torch's default.
"""
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../test/fixtures"))
import make_heads_fixtures as ref  # noqa: E402

torch.set_default_dtype(torch.float32)
# The reference warp builds its pixel grid in float64; run just the warp + correlation in float64
# (a small part of the step) and hand float32 back, so the rest of the step is float32 like tfjs.
_warp64 = ref.cvmref.warp_correlation
ref.cvmref.warp_correlation = lambda r, n, kr, kn, pose, inv: _warp64(
    r.double(), n.double(), kr.double(), kn.double(), pose.double(), inv.double()
).float()


def main():
    h, w, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    paper = len(sys.argv) > 5 and sys.argv[5] == "paper"
    if len(sys.argv) > 6:
        torch.set_num_threads(int(sys.argv[6]))
    gen = torch.Generator().manual_seed(0)
    if paper:
        cvm = ref.cvmref.CvM((64, 96, 128), 128, 6, 2, adapter_hidden=256, up_hidden=256, depth_count=128)
    else:  # bench/train-step.bench.ts's SMALL_CVM
        cvm = ref.cvmref.CvM((16, 24, 32), 32, 2, 2, adapter_hidden=64, up_hidden=64, depth_count=32)
    levels = 128 if paper else 32
    cvm_channels = (128 if paper else 32) + levels  # features + cost volume
    enc = ref.TinyEncoder(d, 16)
    channels = {"semseg": 40, "depth": 1, "normals": 3, "edge": 1}
    heads = torch.nn.ModuleDict({t: ref.Head(d, c, cvm_channels, "quarter") for t, c in channels.items()})
    model = torch.nn.Module()
    model.backbone, model.cvm, model.heads = enc, cvm, heads
    model.float()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=1e-6)
    images = [torch.rand(1, 3, h, w, generator=gen) for _ in range(2)]
    k = torch.tensor([[[0.8 * w, 0, w / 2 - 0.5], [0, 0.8 * w, h / 2 - 0.5], [0, 0, 1]]])
    c2ws = [ref.cvmref.pose(0.0, (0, 0, 0))[None].float(), ref.cvmref.pose(0.05, (0.1, 0, 0))[None].float()]
    inv = (1 / 10.0 + torch.linspace(0, 1, levels) * (1 / 0.5 - 1 / 10.0)).float()
    labels = {t: ref.random_label(t, 1, h, w, 40 if t == "semseg" else 2, gen) for t in channels}
    labels = {t: (v.float() if v.dtype.is_floating_point else v) for t, v in labels.items()}

    def step():
        opt.zero_grad()
        maps = enc(images[0])
        cvm_out = cvm(images, [k, k], c2ws, inv)[0][0].permute(0, 3, 1, 2)
        total = 0
        for t in channels:
            y = heads[t](maps, (h, w), cvm_out)
            total = total + ref.NYUD_WEIGHTS[t] * ref.task_loss(t, y, ref.label_to_torch(t, labels[t]))
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10)
        opt.step()

    t0 = time.perf_counter()
    step()
    first = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"firstMs": first, "medianMs": times[len(times) // 2], "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
