#!/usr/bin/env python3
"""PyTorch's counterpart of each recorded tfjs kernel call, timed (the other half of kernels.bench.ts).

Usage: kernels_torch.py calls.json threads budget_ms
calls.json is a list of {"id", "kernel", "inputs": [{"name", "shape", "dtype"}], "attrs"} as
@cvm/backend's recordKernelCalls records them (tfjs layout: NHWC activations, [kh,kw,ci,co] filters).
Prints one JSON object {id: {"ms": median ms or null, "op": what ran, "note": why not}}.

Convolutions run as PyTorch's models run them (NCHW tensors, [co,ci,kh,kw] weights, aten's
convolution_backward for the two gradients); every other kernel runs on the tfjs shapes, since their
cost does not depend on the layout. A slice, split or reshape that PyTorch expresses as a view is
timed as the view plus `.contiguous()`: zero when no copy is needed, the copy otherwise.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"float32": torch.float32, "int32": torch.int32, "bool": torch.bool}


def make(spec):
    shape, dtype = spec["shape"], DTYPES[spec["dtype"]]
    if dtype == torch.float32:
        return torch.rand(shape) + 0.5
    return torch.zeros(shape, dtype=dtype)


def nchw(shape):
    n, h, w, c = shape
    return [n, c, h, w]


def conv_padding(pad, in_hw, k_hw, strides, dilations):
    """tfjs 'same'/'valid'/number/explicit padding as PyTorch's symmetric one, plus an F.pad when uneven."""
    if pad == "valid":
        return (0, 0), None
    if isinstance(pad, (int, float)):
        return (int(pad), int(pad)), None
    if isinstance(pad, list):
        (t, b), (l, r) = pad[1], pad[2]
    else:  # same
        totals = []
        for i in range(2):
            out = math.ceil(in_hw[i] / strides[i])
            eff_k = (k_hw[i] - 1) * dilations[i] + 1
            totals.append(max((out - 1) * strides[i] + eff_k - in_hw[i], 0))
        t, l = totals[0] // 2, totals[1] // 2
        b, r = totals[0] - t, totals[1] - l
    if t == b and l == r:
        return (t, l), None
    return (0, 0), (l, r, t, b)


def pair(v):
    return list(v) if isinstance(v, list) else [v, v]


def conv_setup(x_shape, w_shape, attrs):
    strides, dil = pair(attrs["strides"]), pair(attrs.get("dilations", 1) or 1)
    padding, extra = conv_padding(attrs["pad"], x_shape[1:3], w_shape[:2], strides, dil)
    x = torch.rand(nchw(x_shape))
    if extra:
        x = F.pad(x, extra)
    kh, kw, ci, co = w_shape
    w = torch.rand([co, ci, kh, kw])
    return x, w, strides, padding, dil


def unary(fn):
    return lambda t, a: fn(t[0])


BINARY = {
    "Add": torch.add, "Sub": torch.sub, "Multiply": torch.mul, "RealDiv": torch.div,
    "Maximum": torch.maximum, "Minimum": torch.minimum, "Pow": torch.pow,
    "SquaredDifference": lambda a, b: (a - b).square(), "Less": torch.lt, "LessEqual": torch.le,
    "Greater": torch.gt, "GreaterEqual": torch.ge, "Equal": torch.eq, "NotEqual": torch.ne,
    "LogicalAnd": torch.logical_and, "LogicalOr": torch.logical_or, "FloorDiv": torch.floor_divide,
    "Atan2": torch.atan2, "Mod": torch.remainder,
}
UNARY = {
    "Exp": torch.exp, "Log": torch.log, "Neg": torch.neg, "Sqrt": torch.sqrt, "Rsqrt": torch.rsqrt,
    "Square": torch.square, "Abs": torch.abs, "Sign": torch.sign, "Erf": torch.erf,
    "Sigmoid": torch.sigmoid, "Relu": torch.relu, "Relu6": lambda x: F.relu6(x), "Tanh": torch.tanh,
    "Sin": torch.sin, "Cos": torch.cos, "Floor": torch.floor, "Ceil": torch.ceil, "Round": torch.round,
    "Reciprocal": torch.reciprocal, "Log1p": torch.log1p, "Expm1": torch.expm1, "Elu": F.elu,
    "Softplus": F.softplus, "LogicalNot": torch.logical_not, "IsNan": torch.isnan,
    "ZerosLike": torch.zeros_like, "OnesLike": torch.ones_like,
    # tfjs allocates a new tensor for these; PyTorch's autograd would hand the same tensor on.
    "Identity": lambda x: x,
}
REDUCE = {"Sum": torch.sum, "Mean": torch.mean, "Prod": torch.prod,
          "Max": torch.amax, "Min": torch.amin, "All": torch.all, "Any": torch.any}


def axes(axis, rank):
    if axis is None:
        return list(range(rank))
    axis = axis if isinstance(axis, list) else [axis]
    return [a % rank for a in axis]


def reduce(fn):
    def run(t, a):
        x = t[0]
        dims = axes(a.get("axis", a.get("reductionIndices")), x.dim())
        if fn in (torch.all, torch.any, torch.prod):
            for d in sorted(dims, reverse=True):
                x = fn(x, dim=d, keepdim=a.get("keepDims", False))
            return x
        return fn(x, dim=dims, keepdim=a.get("keepDims", False))
    return run


def slice_view(x, begin, size):
    idx = tuple(slice(b, b + (x.shape[i] - b if s == -1 else s)) for i, (b, s) in enumerate(zip(begin, size)))
    return x[idx].contiguous()


def split_sizes(x, a):
    axis = a["axis"] % x.dim()
    s = a["numOrSizeSplits"]
    if isinstance(s, int):
        return axis, [x.shape[axis] // s] * s
    s = list(s)
    if -1 in s:
        s[s.index(-1)] = x.shape[axis] - (sum(s) + 1)
    return axis, s


def resize_bilinear(t, a):
    x = t[0].permute(0, 3, 1, 2)
    return F.interpolate(x, size=tuple(a["size"]), mode="bilinear", align_corners=bool(a.get("alignCorners")))


def resize_bilinear_grad(t, a):
    images, dy = t
    n, h, w, c = images.shape
    g = dy.permute(0, 3, 1, 2).contiguous()
    return torch.ops.aten.upsample_bilinear2d_backward(
        g, list(g.shape[2:]), [n, c, h, w], bool(a.get("alignCorners")), None, None)


def batch_mat_mul(t, a):
    x, y = t[0], t[1]
    if a.get("transposeA"):
        x = x.transpose(-1, -2)
    if a.get("transposeB"):
        y = y.transpose(-1, -2)
    out = torch.matmul(x, y)
    if len(t) > 2:  # _FusedMatMul's bias
        out = out + t[2]
    return out


OTHER = {
    "BatchMatMul": batch_mat_mul,
    "_FusedMatMul": batch_mat_mul,
    "Transpose": lambda t, a: t[0].permute(a["perm"]).contiguous(),
    "Reshape": lambda t, a: t[0].reshape(a["shape"]),
    "Slice": lambda t, a: slice_view(t[0], a["begin"], a["size"]),
    "SplitV": lambda t, a: [p.contiguous() for p in torch.split(t[0], split_sizes(t[0], a)[1], split_sizes(t[0], a)[0])],
    "Unpack": lambda t, a: [p.contiguous() for p in torch.unbind(t[0], a["axis"])],
    "Pack": lambda t, a: torch.stack(t, a["axis"]),
    "Concat": lambda t, a: torch.cat(t, a["axis"]),
    "AddN": lambda t, a: torch.stack(t).sum(0) if len(t) > 8 else sum(t[1:], t[0]),
    "PadV2": lambda t, a: F.pad(t[0], [p for pr in reversed(a["paddings"]) for p in pr], value=a.get("constantValue", 0)),
    "Tile": lambda t, a: t[0].repeat(a["reps"]),
    "GatherV2": lambda t, a: torch.index_select(t[0], a["axis"] % t[0].dim(), t[1].long().flatten()),
    "Softmax": lambda t, a: torch.softmax(t[0], -1),
    "LogSoftmax": lambda t, a: torch.log_softmax(t[0], -1),
    "Cast": lambda t, a: t[0].to(DTYPES[a["dtype"]]),
    "Select": lambda t, a: torch.where(t[0], t[1], t[2]),
    "Step": lambda t, a: torch.where(t[0] > 0, 1.0, float(a.get("alpha", 0))),
    "ClipByValue": lambda t, a: torch.clamp(t[0], a["clipValueMin"], a["clipValueMax"]),
    "LeakyRelu": lambda t, a: F.leaky_relu(t[0], a["alpha"]),
    "ArgMax": lambda t, a: torch.argmax(t[0], a["axis"] if isinstance(a["axis"], int) else a["axis"][0]),
    "ArgMin": lambda t, a: torch.argmin(t[0], a["axis"] if isinstance(a["axis"], int) else a["axis"][0]),
    "OneHot": lambda t, a: F.one_hot(t[0].long(), a["depth"]).float(),
    "ResizeBilinear": resize_bilinear,
    "ResizeBilinearGrad": resize_bilinear_grad,
    "Reverse": lambda t, a: torch.flip(t[0], axes(a["dims"], t[0].dim())),
    "ExpandDims": lambda t, a: t[0].unsqueeze(a["dim"]),
    "Fill": lambda t, a: torch.full(a["shape"], a["value"]),
}


def conv_call(kernel, specs, a):
    """A closure running the convolution kernel as PyTorch's model would, and its description."""
    shapes = {s["name"]: s["shape"] for s in specs}
    if kernel in ("Conv2D", "FusedConv2D"):
        x, w, st, pad, dil = conv_setup(shapes["x"], shapes["filter"], a)
        return (lambda: F.conv2d(x, w, None, st, pad, dil)), "conv2d"
    if kernel == "Conv2DBackpropFilter":
        x, w, st, pad, dil = conv_setup(shapes["x"], a["filterShape"], a)
        dy = torch.rand(nchw(shapes["dy"]))
        return (lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, st, list(pad), dil, False, [0, 0], 1, [False, True, False])), "convolution_backward (weight)"
    if kernel == "Conv2DBackpropInput":
        x, w, st, pad, dil = conv_setup(a["inputShape"], shapes["filter"], a)
        dy = torch.rand(nchw(shapes["dy"]))
        return (lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, st, list(pad), dil, False, [0, 0], 1, [True, False, False])), "convolution_backward (input)"
    return None, None


def runner(call):
    kernel, specs, a = call["kernel"], call["inputs"], call["attrs"]
    fn, op = conv_call(kernel, specs, a)
    if fn:
        return fn, op
    tensors = [make(s) for s in specs]
    if kernel in BINARY:
        f = BINARY[kernel]
        return (lambda: f(tensors[0], tensors[1])), f"torch {kernel}"
    if kernel in UNARY:
        f = UNARY[kernel]
        return (lambda: f(tensors[0])), f"torch {kernel}"
    if kernel in REDUCE:
        f = reduce(REDUCE[kernel])
        return (lambda: f(tensors, a)), f"torch {kernel}"
    if kernel in OTHER:
        f = OTHER[kernel]
        return (lambda: f(tensors, a)), f"torch {kernel}"
    return None, None


def median_ms(fn, budget_ms, max_runs=20):
    """As @cvm/backend's timeKernelCall: warm-up, then runs until the budget is spent (3 at least for short ones)."""
    t0 = time.perf_counter()
    fn()
    min_runs = 3 if (time.perf_counter() - t0) * 1000 < budget_ms / 3 else 1
    times, spent = [], 0.0
    while len(times) < min_runs or (len(times) < max_runs and spent < budget_ms):
        t0 = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t0) * 1000
        times.append(ms)
        spent += ms
    times.sort()
    return times[len(times) // 2]


def main():
    path, threads, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    with open(path) as f:
        calls = json.load(f)
    out = {}
    for call in calls:
        try:
            fn, op = runner(call)
            if fn is None:
                out[call["id"]] = {"ms": None, "note": "no PyTorch counterpart mapped"}
                continue
            out[call["id"]] = {"ms": median_ms(fn, budget), "op": op}
        except Exception as err:  # a mapping that does not fit these attributes: report, go on
            out[call["id"]] = {"ms": None, "note": f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"}
    print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "results": out}))


if __name__ == "__main__":
    main()
