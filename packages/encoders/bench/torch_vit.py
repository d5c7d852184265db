"""The same DINOv3-style ViT forward in PyTorch, timed for the encoders benchmark (random weights).

usage: /usr/bin/python3 torch_vit.py D DEPTH HEADS H W RUNS  ->  one JSON line
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

D, DEPTH, HEADS, H, W, RUNS = (int(a) for a in sys.argv[1:7])
P, REGS, HD = 16, 4, D // HEADS
torch.set_num_threads(2)
torch.manual_seed(0)
w = lambda *s: torch.randn(*s) * 0.02  # noqa: E731
blocks = [
    dict(n1=(torch.ones(D), torch.zeros(D)), qkv=(w(3 * D, D), w(3 * D)), proj=(w(D, D), w(D)), ls1=torch.full((D,), 1e-5),
         n2=(torch.ones(D), torch.zeros(D)), fc1=(w(4 * D, D), w(4 * D)), fc2=(w(D, 4 * D), w(D)), ls2=torch.full((D,), 1e-5))
    for _ in range(DEPTH)
]
patch_w, patch_b, prefix = w(D, 3, P, P), w(D), w(1, 1 + REGS, D)
periods = 100 ** (2 * torch.arange(HD // 4, dtype=torch.float32) / (HD // 2))
mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def rot(x, sin, cos):
    a, b = x.chunk(2, -1)
    return x * cos + torch.cat([-b, a], -1) * sin


@torch.no_grad()
def forward(img):
    x = F.conv2d((img - mean) / std, patch_w, patch_b, stride=P)
    B, _, gh, gw = x.shape
    x = torch.cat([prefix.expand(B, -1, -1), x.flatten(2).transpose(1, 2)], 1)
    ch, cw = (torch.arange(gh) + 0.5) / gh, (torch.arange(gw) + 0.5) / gw
    c = torch.stack(torch.meshgrid(ch, cw, indexing="ij"), -1).flatten(0, 1) * 2 - 1
    ang = (2 * math.pi * c[:, :, None] / periods).flatten(1).tile(2)
    sin, cos = ang.sin(), ang.cos()
    n = x.shape[1]
    outs = []
    for blk in blocks:
        h = F.layer_norm(x, (D,), *blk["n1"], 1e-5)
        q, k, v = F.linear(h, *blk["qkv"]).reshape(B, n, 3, HEADS, HD).permute(2, 0, 3, 1, 4)
        q = torch.cat([q[:, :, : 1 + REGS], rot(q[:, :, 1 + REGS :], sin, cos)], 2)
        k = torch.cat([k[:, :, : 1 + REGS], rot(k[:, :, 1 + REGS :], sin, cos)], 2)
        a = (torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HD), -1) @ v).transpose(1, 2).reshape(B, n, D)
        x = x + blk["ls1"] * F.linear(a, *blk["proj"])
        h = F.layer_norm(x, (D,), *blk["n2"], 1e-5)
        x = x + blk["ls2"] * F.linear(F.gelu(F.linear(h, *blk["fc1"])), *blk["fc2"])
        outs.append(x)
    return outs


img = torch.rand(1, 3, H, W)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
forward(img)
first = time.perf_counter() - t0
times = []
for _ in range(RUNS):
    t0 = time.perf_counter()
    forward(img)
    times.append(time.perf_counter() - t0)
times.sort()
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024  # KiB -> MiB
print(json.dumps({"firstSeconds": first, "forwardSeconds": times[len(times) // 2] if times else first, "peakExtraMiB": peak}))
