"""PyTorch timing of the same training step as bench/train-step.bench.ts (printed as JSON).

/usr/bin/python3 bench/train_step_torch.py H W [--dim D] [--runs N] [--cvm none|small|paper]
    [--encoder test|vitb|vitl] [--threads T]
Model: an encoder (`test`: the test encoder, patch-16 conv + 4 residual Linear+GELU stages of width D;
`vitb` / `vitl`: a ViT-B/16 or ViT-L/16 restated like @cvm/encoders' DINOv3 presets: cls + 4 register
tokens, pre-norm blocks with LayerScale, MLP ×4, the four maps of blocks 3/6/9/12 resp. 5/12/18/24 after
the final norm; its rotary position embedding, elementwise and < 1 % of the FLOPs, is left out), the
small or the paper-size Cross-view Module of @cvm/cvm-module's reference (2 views) or none, NYUD's four
SAK heads with the CvM output fused at 1/4; forward, weighted loss, backward, clip 10, AdamW. float32;
`threads` (the tfjs side's thread count) sets torch.set_num_threads, else torch's default. `runs` 0
times the first step only. Reports the process's peak RSS.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

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

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.ls1, self.ls2 = nn.Parameter(torch.full((d,), 1e-5)), nn.Parameter(torch.full((d,), 1e-5))

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) * (d // self.heads) ** -0.5, -1) @ v
        x = x + self.ls1 * self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.ls2 * self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    """ViT-B/16 or ViT-L/16 shaped like the DINOv3 presets (see the module docstring)."""

    def __init__(self, d, depth, heads, out_layers):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, d, 16, stride=16)
        self.tokens = nn.Parameter(torch.zeros(1, 5, d))  # cls + 4 registers
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.out_layers = out_layers

    def forward(self, x):
        t = self.patch_embed((x - MEAN) / STD)
        b, d, h, w = t.shape
        x = torch.cat([self.tokens.expand(b, -1, -1), t.flatten(2).transpose(1, 2)], 1)
        maps = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in self.out_layers:
                maps.append(self.norm(x[:, 5:]).transpose(1, 2).reshape(b, d, h, w))
        return maps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("h", type=int)
    p.add_argument("w", type=int)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--cvm", choices=["none", "small", "paper"], default="small")
    p.add_argument("--encoder", choices=["test", "vitb", "vitl"], default="test")
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    h, w = a.h, a.w
    if a.threads:
        torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    if a.cvm == "paper":
        cvm = ref.cvmref.CvM((64, 96, 128), 128, 6, 2, adapter_hidden=256, up_hidden=256, depth_count=128)
        levels, cvm_channels = 128, 128 + 128  # features + cost volume
    elif a.cvm == "small":  # bench/train-step.bench.ts's SMALL_CVM
        cvm = ref.cvmref.CvM((16, 24, 32), 32, 2, 2, adapter_hidden=64, up_hidden=64, depth_count=32)
        levels, cvm_channels = 32, 32 + 32
    else:
        cvm, levels, cvm_channels = None, 0, 0
    if a.encoder == "vitb":
        enc, d = ViT(768, 12, 12, [2, 5, 8, 11]), 768
    elif a.encoder == "vitl":
        enc, d = ViT(1024, 24, 16, [4, 11, 17, 23]), 1024
    else:
        enc, d = ref.TinyEncoder(a.dim, 16), a.dim
    channels = {"semseg": 40, "depth": 1, "normals": 3, "edge": 1}
    heads = nn.ModuleDict({t: ref.Head(d, c, cvm_channels, "quarter") for t, c in channels.items()})
    model = nn.Module()
    model.backbone, model.heads = enc, heads
    if cvm is not None:
        model.cvm = cvm
    model.float()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=1e-6)
    images = [torch.rand(1, 3, h, w, generator=gen) for _ in range(2)]
    k = torch.tensor([[[0.8 * w, 0, w / 2 - 0.5], [0, 0.8 * w, h / 2 - 0.5], [0, 0, 1]]])
    c2ws = [ref.cvmref.pose(0.0, (0, 0, 0))[None].float(), ref.cvmref.pose(0.05, (0.1, 0, 0))[None].float()]
    inv = (1 / 10.0 + torch.linspace(0, 1, max(levels, 1)) * (1 / 0.5 - 1 / 10.0)).float()
    labels = {t: ref.random_label(t, 1, h, w, 40 if t == "semseg" else 2, gen) for t in channels}
    labels = {t: (v.float() if v.dtype.is_floating_point else v) for t, v in labels.items()}

    def step():
        opt.zero_grad()
        maps = enc(images[0])
        cvm_out = cvm(images, [k, k], c2ws, inv)[0][0].permute(0, 3, 1, 2) if cvm is not None else None
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
    for _ in range(a.runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(
        json.dumps(
            {
                "firstMs": first,
                "medianMs": times[len(times) // 2] if times else first,
                "threads": torch.get_num_threads(),
                "parameters": sum(q.numel() for q in model.parameters()),
                "peakRssGiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            }
        )
    )


if __name__ == "__main__":
    main()
