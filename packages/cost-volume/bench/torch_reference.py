"""Times the references' plane-sweep cost volume (UniMatch / MVSplat / DepthSplat formulation) in PyTorch.

The formulation restated from the references (see shared/reference/cost-volume.md §1, §3): back-project
every reference pixel at every candidate depth with K^-1, transform by T_nbr<-ref, project with K (z
clamped at 1e-3), grid_sample the neighbour features (bilinear, zeros, align_corners=True), then
sum(ref * warped) / sqrt(C). Two views, each once as reference. Used by `pnpm bench` for the ratio;
never a dependency of the product. Prints one JSON line.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


def warp(feature, intrinsics, pose, depth, clamp_min_depth=1e-3):
    # feature [B,C,H,W] (neighbour), intrinsics [B,3,3], pose [B,4,4] T_nbr<-ref, depth [B,D,H,W]
    b, d, h, w = depth.shape
    c = feature.shape[1]
    with torch.no_grad():
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
        grid = torch.stack([xs, ys, torch.ones_like(xs)], 0).view(1, 3, -1).repeat(b, 1, 1)  # [B,3,HW]
        points = torch.inverse(intrinsics).bmm(grid)
        points = torch.bmm(pose[:, :3, :3], points).unsqueeze(2).repeat(1, 1, d, 1) * depth.view(b, 1, d, h * w)
        points = points + pose[:, :3, 3:].unsqueeze(-1)
        pixel = torch.bmm(intrinsics, points.view(b, 3, -1)).view(b, 3, d, h * w)
        xy = pixel[:, :2] / pixel[:, 2:].clamp(min=clamp_min_depth)
        gx = 2 * xy[:, 0] / (w - 1) - 1
        gy = 2 * xy[:, 1] / (h - 1) - 1
        sample_grid = torch.stack([gx, gy], -1).view(b, d * h, w, 2)
    warped = F.grid_sample(feature, sample_grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return warped.view(b, c, d, h, w)


def cost_volume(ref, nbr, intrinsics, pose, depth):
    c = ref.shape[1]
    warped = warp(nbr, intrinsics, pose, depth)
    return (ref.unsqueeze(2) * warped).sum(1) / math.sqrt(c)  # [B,D,H,W]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--height", type=int, default=56)
    ap.add_argument("--width", type=int, default=72)
    ap.add_argument("--candidates", type=int, default=128)
    ap.add_argument("--near", type=float, default=0.5)
    ap.add_argument("--far", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c, h, w, n = args.channels, args.height, args.width, args.candidates
    fx = 518.8 / 8 * (w * 8 / 640)
    k = torch.tensor([[fx, 0, (w - 1) / 2], [0, fx, (h - 1) / 2], [0, 0, 1]], dtype=torch.float32).unsqueeze(0)
    angle = 0.05
    rot = torch.tensor([[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]])
    c2w = [torch.eye(4), torch.eye(4)]
    c2w[1][:3, :3] = rot
    c2w[1][:3, 3] = torch.tensor([0.15, 0.02, 0.03])
    poses = [torch.inverse(c2w[1]) @ c2w[0], torch.inverse(c2w[0]) @ c2w[1]]
    inv = 1 / args.far + torch.linspace(0, 1, n) * (1 / args.near - 1 / args.far)
    depth = (1 / inv).view(1, n, 1, 1).repeat(1, 1, h, w)
    feats = [torch.randn(1, c, h, w), torch.randn(1, c, h, w)]

    def forward(requires_grad):
        fs = [f.clone().requires_grad_(requires_grad) for f in feats]
        vols = [
            cost_volume(fs[0], fs[1], k, poses[0].unsqueeze(0), depth),
            cost_volume(fs[1], fs[0], k, poses[1].unsqueeze(0), depth),
        ]
        return fs, vols

    def time_it(fn):
        fn()  # warm-up
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def fwd():
        with torch.no_grad():
            forward(False)

    grad = [torch.randn(1, n, h, w), torch.randn(1, n, h, w)]

    def fwd_bwd():
        fs, vols = forward(True)
        (vols[0] * grad[0]).sum().add((vols[1] * grad[1]).sum()).backward()

    print(json.dumps({
        "torch": torch.__version__,
        "threads": args.threads,
        "forwardSeconds": time_it(fwd),
        "forwardBackwardSeconds": time_it(fwd_bwd),
        "warpedBytesPerPair": c * n * h * w * 4,
    }))


if __name__ == "__main__":
    main()
