"""PyTorch side of `pnpm --filter @cvm/backend bench`: the same CvM, timed on the CPU.

Run:  /usr/bin/python3 cvm_pytorch_bench.py --threads 2 --size 224x288 --mode forward --runs 2
Prints one JSON line: {"mode", "size", "threads", "first_s", "median_s", "peak_rss_mib"}.

The modules are the PyTorch restatement the parity fixtures are made with (test/fixtures/
make_cvm_fixtures.py), at the default (paper-size) configuration, in float32. One mode per process, so
that the peak RSS (ru_maxrss) belongs to that mode alone.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
import types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
import make_cvm_fixtures as ref  # noqa: E402

torch.set_default_dtype(torch.float32)  # the fixture module sets float64 for its references
# The restatement computes the warp in float64 (cameras, pixel grid); sample float32 features with it.
ref.F = types.SimpleNamespace(**{k: getattr(F, k) for k in dir(F) if not k.startswith("__")})
ref.F.grid_sample = lambda x, grid, **kw: F.grid_sample(x, grid.to(x.dtype), **kw)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", default="224x288")
    p.add_argument("--mode", choices=["forward", "train"], default="forward")
    p.add_argument("--runs", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    h, w = map(int, a.size.split("x"))
    torch.manual_seed(0)
    depth_count = 128
    model = ref.CvM((64, 96, 128), 128, 6, 2, adapter_hidden=256, up_hidden=256, depth_count=depth_count)
    f = 518.8 * w / 640
    k = torch.tensor([[[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]]], dtype=torch.float64)
    c2ws = [torch.eye(4, dtype=torch.float64)[None], ref.pose(0.05, [0.15, 0.02, 0.03]).double()[None]]
    inv = torch.linspace(1 / 10, 1 / 0.5, depth_count, dtype=torch.float64)
    images = [torch.rand(1, 3, h, w), torch.rand(1, 3, h, w)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        if a.mode == "forward":
            with torch.no_grad():
                model(images, [k, k], c2ws, inv)
        else:
            outs, _, _ = model(images, [k, k], c2ws, inv)
            loss = sum((o ** 2).mean() for o in outs)
            opt.zero_grad()
            loss.backward()
            opt.step()

    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": a.mode, "size": a.size, "threads": a.threads, "first_s": first,
                      "median_s": statistics.median(times) if times else first, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main()
