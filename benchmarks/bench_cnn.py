"""Training-step throughput of four CNNs: nablab vs PyTorch (CPU), and vs hand-written NumPy on the small one.

- W3, the small CNN: conv3×3 3→32, 32→32, maxpool 2, conv 32→64, 64→64, maxpool 2, linear
  4096→256→10 (every conv padding 1, ReLU after every conv and the hidden linear), i.e.
  ``nablab.models.SmallCNN(hidden=256)``, on 3×32×32 inputs, for three systems: nablab, PyTorch
  with the same architecture and weights, and a hand-written NumPy im2col implementation
  (:class:`NumpyCNN`).
- W4: ``nablab.models.VGGNet()`` (BatchNorm, 3×3 max pools with stride 2) on 3×32×32 inputs, with
  the peak memory of one training step of each system (measured in fresh subprocesses).
- W6: the network of pytorch/examples' ``mnist/main.py`` on 1×28×28 inputs: conv3×3 1→32 and
  32→64 without padding, ReLU after each, maxpool 2, linear 9216→128, ReLU, linear 128→10. Its two
  dropout layers are left out (in both systems: their random masks could not be the same).
- W7: a small residual network on 3×32×32 inputs: conv3×3 3→32 (padding 1, no bias) + BatchNorm +
  ReLU; one basic block with an identity skip (conv3×3 32→32 + BN + ReLU, conv3×3 32→32 + BN, plus
  the block's input, ReLU); a strided 1×1 conv 32→64 (stride 2, no bias) + BN + ReLU; global
  average pool; linear 64→10.

W4, W6 and W7 compare nablab with PyTorch only. One step = forward, softmax cross-entropy loss,
zero_grad, backward and an SGD update (lr 0.01, momentum 0.9: the update of every workload, where
the MNIST example uses Adadelta) on a float32 batch of 64 random inputs (fixed seed). The systems
start from the same weights (nablab's initialisation, copied), see the same batches, run in one
process with the same number of threads, and are first checked to compute the same losses. They
are then timed round-robin: warm-up steps, then ``--repeats`` rounds in which each system runs
``--steps`` steps (W4: ``--vgg-repeats`` and ``--vgg-steps``).

Then the same nablab step runs in ``--processes`` fresh processes per workload, one after the
other, each timing a few steps one by one: the median step of each process shows whether some
processes run the step slower than others (one in six did, at half speed).

    python benchmarks/bench_cnn.py --output BENCHMARKS.md
    python benchmarks/bench_cnn.py --workload W6 W7 --processes 8

Targets: nablab ≥ 0.6× PyTorch's throughput on every workload; nablab's peak step memory ≤ 2×
PyTorch's on W4; the slowest fresh process within 1.25× of the median one. Each table also gives
the fraction of the machine's float32 GEMM peak (measured) that the step's matrix products
(convolutions and linear layers) reach.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_mlp import LR, MOMENTUM, sgd_step, torch_description
from common import (
    NUMPY,
    TORCH,
    OtherLoad,
    available_cores,
    blas_description,
    figures,
    fmt_rate,
    gemm_flops,
    gemm_fraction,
    gemm_peak_text,
    limit_threads,
    load_or_measure_gemm_peak,
    machine_info,
    machine_lines,
    markdown_table,
    noisy_note,
    ratio_line,
    ratio_text,
    time_interleaved,
    write_json,
    write_section,
)
from numpy.lib.stride_tricks import as_strided

import nablab
from nablab import nn
from nablab.models import SmallCNN, VGGNet

BATCH = 64
IMAGE = (3, 32, 32)  # CIFAR-sized inputs (W3, W4, W7)
CLASSES = 10
N_BATCHES = 4  # distinct random batches, cycled through
CHECK_STEPS = 3  # steps whose losses must agree across the systems before anything is timed (W4: 2)
SECTION_KEY = "bench_cnn"
TORCH_TARGET = 0.6  # nablab / PyTorch (CPU), every workload
SPREAD_TARGET = 1.25  # the slowest fresh process's median step over the median process's
MEMORY_TARGET = 2.0  # W4 step peak, nablab / PyTorch
# glibc malloc settings for the memory probes: every block of 128 KiB or more is its own mmap,
# returned to the OS when freed, so that the resident set follows the live arrays of both systems
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


# ----------------------------------------------------------------------------- the networks
class BasicBlock(nn.Module):
    """A residual block with an identity skip: relu(bn(conv(relu(bn(conv(x))))) + x), 3×3 convs."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        return nn.functional.relu(self.body(x) + x)


def mnist_net() -> nn.Sequential:
    """pytorch/examples' MNIST ``Net`` without its dropout layers."""
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, CLASSES))


def small_resnet() -> nn.Sequential:
    """The W7 network: stem, one basic block, a strided 1×1 conv, global average pool, linear."""
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), BasicBlock(32),
                         nn.Conv2d(32, 64, 1, stride=2, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, CLASSES))


@dataclass(frozen=True)
class Workload:
    """One CNN of the benchmark: its network, inputs, section heading and how it is timed."""

    key: str
    title: str  # the suite summary's row
    heading: str  # the section's subsection
    build: Callable[[], nn.Module]
    image: tuple[int, int, int] = IMAGE
    large: bool = False  # W4: timed with --vgg-repeats/--vgg-steps, fewer steps everywhere
    about: str = ""  # what the subsection says beyond the timing

    @property
    def check_steps(self) -> int:
        return 2 if self.large else CHECK_STEPS

    @property
    def spread_steps(self) -> tuple[int, int]:
        """(untimed, timed) steps of each fresh process: a few seconds per process."""
        return (2, 4) if self.large else (3, 10)


WORKLOADS = {w.key: w for w in (
    Workload("W3", "W3: small CNN training step (batch 64)",
             "### W3: small CNN (`SmallCNN(hidden=256)`: conv 3→32, 32→32, pool, 32→64, 64→64, pool, fc 4096→256→10)",
             lambda: SmallCNN(hidden=256),
             about="The hand-written NumPy version works channels-last: im2col is one copy of a strided 3×3-window "
                   "view of a preallocated zero-padded input, each conv one GEMM whose output already is NHWC, "
                   "dL/dx a transposed convolution (window copy of the padded output gradient + GEMM) instead of "
                   "col2im, pools on strided quarters, every buffer preallocated and the update in place."),
    Workload("W4", "W4: VGGNet training step (batch 64)",
             "### W4: VGGNet (`VGGNet()`: 8 conv3×3 + BatchNorm + ReLU, 5 max pools 3×3/2, fc 512→10)",
             VGGNet, large=True),
    Workload("W6", "W6: MNIST CNN of pytorch/examples, training step (batch 64)",
             "### W6: the MNIST network of pytorch/examples (conv 1→32, 32→64 unpadded, pool, fc 9216→128→10)",
             mnist_net, image=(1, 28, 28),
             about="`mnist/main.py`'s `Net` on 1×28×28 inputs: conv3×3 1→32 and 32→64 without padding, ReLU after "
                   "each, max pool 2, flatten, fc 9216→128, ReLU, fc 128→10; its two dropout layers are left out in "
                   "both systems (their random masks could not be the same), and the update is the SGD of every "
                   "workload here instead of the example's Adadelta."),
    Workload("W7", "W7: small residual network training step (batch 64)",
             "### W7: small residual network (conv 3→32 + BN, a basic block with identity skip, 1×1/2 conv "
             "32→64 + BN, global average pool, fc 64→10)",
             small_resnet,
             about="conv3×3 3→32 (padding 1, no bias) + BatchNorm + ReLU; one basic block (conv3×3 32→32 + BN + "
                   "ReLU, conv3×3 32→32 + BN, the block's input added, ReLU); conv1×1 32→64 with stride 2 (no "
                   "bias) + BN + ReLU; global average pool; fc 64→10."),
)}


def make_batches(key: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``N_BATCHES`` batches of standard-normal float32 images (the workload's shape) with uniform random labels."""
    rng = np.random.default_rng(seed)
    image = WORKLOADS[key].image
    return [(rng.standard_normal((BATCH, *image), dtype=np.float32),
             rng.integers(0, CLASSES, size=BATCH, dtype=np.int64)) for _ in range(N_BATCHES)]


def make_model(key: str, seed: int) -> nn.Module:
    """A fresh nablab model with nablab's default (PyTorch-style) initialisation drawn from ``seed``."""
    nablab.manual_seed(seed)
    return WORKLOADS[key].build()


# ----------------------------------------------------------------------------- nablab and PyTorch
def torch_mirror(model):
    """The same network built from ``torch.nn`` layers, holding a copy of the model's state."""
    import torch

    mirror = _torch_layer(model)
    mirror.load_state_dict({name: torch.tensor(np.array(t.data)) for name, t in model.state_dict().items()})
    return mirror


def _torch_layer(layer):
    """The ``torch.nn`` counterpart of one nablab layer (a Sequential or BasicBlock with its layers)."""
    import torch

    tnn, kind = torch.nn, type(layer).__name__
    if isinstance(layer, nn.Sequential):
        return tnn.Sequential(*(_torch_layer(inner) for inner in layer))
    if isinstance(layer, BasicBlock):
        return _torch_block(_torch_layer(layer.body))
    if kind == "Conv2d":
        return tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                          layer.padding, layer.dilation, layer.groups, bias=layer.bias is not None)
    if kind == "Linear":
        return tnn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    if kind == "BatchNorm2d":
        return tnn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum)
    if kind == "MaxPool2d":
        return tnn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)
    if kind == "AdaptiveAvgPool2d":
        return tnn.AdaptiveAvgPool2d(layer.output_size)
    if kind == "ReLU":
        return tnn.ReLU()
    if kind == "Flatten":
        return tnn.Flatten(layer.start_dim, layer.end_dim)
    raise TypeError(f"bench_cnn: no PyTorch counterpart for {kind}")


def _torch_block(body):
    """:class:`BasicBlock` in PyTorch around the mirrored ``body`` (the class needs torch, imported late)."""
    import torch

    class TorchBasicBlock(torch.nn.Module):
        def __init__(self, body):
            super().__init__()
            self.body = body

        def forward(self, x):
            return torch.relu(self.body(x) + x)

    return TorchBasicBlock(body)


def torch_step(model, batches, threads: int, device: str = "cpu"):
    """A PyTorch training step of ``torch_mirror(model)`` on ``device``: F.cross_entropy, optim.SGD (defaults)."""
    import torch

    torch.set_num_threads(threads)
    mirror = torch_mirror(model).to(device)
    opt = torch.optim.SGD(mirror.parameters(), lr=LR, momentum=MOMENTUM)
    data = itertools.cycle([(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)) for x, y in batches])

    def step():
        x, y = next(data)
        loss = torch.nn.functional.cross_entropy(mirror(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


# ----------------------------------------------------------------------------- hand-written NumPy
def windows3x3(xpad: np.ndarray) -> np.ndarray:
    """(N, H, W, 3, 3·C) read-only view of the 3×3 windows of a padded NHWC array (N, H+2, W+2, C).

    For a fixed window row u, the window's 3 pixels × C channels are one contiguous run of the
    input, so copying this view into the column matrix moves runs of 3·C floats in one pass.
    """
    n, hp, wp, c = xpad.shape
    sn, sh, sw, sc = xpad.strides
    return as_strided(xpad, (n, hp - 2, wp - 2, 3, 3 * c), (sn, sh, sw, sh, sc), writeable=False)


class Conv3x3:
    """A 3×3 convolution (stride 1, padding 1) on channels-last data, with its buffers.

    The weight is kept as the (9·C) × O matrix W[(u, v, c), o] matching the window layout, so the
    forward is one copy (:func:`windows3x3` → ``cols``) and one GEMM ``cols · W`` whose (N·H·W) × O
    result already is the NHWC output. The input lives in ``xpad``, whose zero border is written
    once; the previous layer writes its output straight into the interior. Backward, with G the
    (N·H·W) × O output gradient: dW = colsᵀ · G, db = Σ G, and dL/dx is the transposed
    convolution — the 3×3 windows of the zero-padded G times the flipped weight Wf[(u, v, o), c] =
    W[(2−u, 2−v, c), o] — which replaces col2im's overlapping scatter-adds by a copy and a GEMM.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, batch: int, side: int):
        o, c = weight.shape[:2]
        self.n, self.side, self.c, self.o = batch, side, c, o
        self.W = weight.transpose(2, 3, 1, 0).reshape(9 * c, o).copy()
        self.b = bias.copy()
        self.gW, self.gb = np.empty_like(self.W), np.empty_like(self.b)
        rows = batch * side * side
        self.xpad = np.zeros((batch, side + 2, side + 2, c), np.float32)
        self.cols = np.empty((rows, 9 * c), np.float32)
        self.y = np.empty((rows, o), np.float32)
        self.gpad = np.zeros((batch, side + 2, side + 2, o), np.float32)
        self.gcols = np.empty((rows, 9 * o), np.float32)
        self.dx = np.empty((rows, c), np.float32)

    @property
    def interior(self) -> np.ndarray:
        """The (N, H, W, C) input inside the zero border."""
        return self.xpad[:, 1:-1, 1:-1, :]

    def nhwc(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(self.n, self.side, self.side, -1)

    def forward(self) -> np.ndarray:
        """y = conv(x) + b as an (N·H·W) × O matrix (the pre-activation, NHWC)."""
        np.copyto(self.cols.reshape(self.n, self.side, self.side, 3, 3 * self.c), windows3x3(self.xpad))
        np.matmul(self.cols, self.W, out=self.y)
        self.y += self.b
        return self.y

    def backward(self, g: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Gradients from G = dL/dy ((N·H·W) × O); returns dL/dx as (N, H, W, C) if ``need_dx``."""
        np.matmul(self.cols.T, g, out=self.gW)
        np.sum(g, axis=0, out=self.gb)
        if not need_dx:
            return None
        np.copyto(self.gpad[:, 1:-1, 1:-1, :], self.nhwc(g))
        np.copyto(self.gcols.reshape(self.n, self.side, self.side, 3, 3 * self.o), windows3x3(self.gpad))
        w_flip = self.W.reshape(3, 3, self.c, self.o)[::-1, ::-1].transpose(0, 1, 3, 2).reshape(9 * self.o, self.c)
        return self.nhwc(np.matmul(self.gcols, w_flip, out=self.dx))


def max_pool_2x2(a: np.ndarray, out: np.ndarray) -> None:
    """out = 2×2 max pool (stride 2) of the NHWC array a: the maximum of its four strided quarters."""
    np.maximum(a[:, 0::2, 0::2], a[:, 0::2, 1::2], out=out)
    np.maximum(out, a[:, 1::2, 0::2], out=out)
    np.maximum(out, a[:, 1::2, 1::2], out=out)


def max_pool_2x2_relu_backward(gp, pooled, a, out, mask) -> None:
    """dL/d(pre-ReLU conv output) from dL/d(pooled) for relu → 2×2 max pool, into ``out`` (as a).

    The gradient goes to the window element equal to the maximum, and passes the ReLU only where
    that maximum is > 0. (A window whose maximum is shared by two elements gets it twice; after a
    ReLU such ties happen only at 0, where the ReLU stops the gradient anyway, so this is exactly
    PyTorch's first-maximum routing here.)
    """
    gp *= pooled > 0
    for r, c in itertools.product((0, 1), repeat=2):
        np.equal(a[:, r::2, c::2], pooled, out=mask)
        np.multiply(gp, mask, out=out[:, r::2, c::2])


class NumpyCNN:
    """The W3 network and update written directly in NumPy, with hand-derived gradients.

    conv1 → ReLU → conv2 → ReLU → pool → conv3 → ReLU → conv4 → ReLU → pool → fc1 → ReLU → fc2,
    computed channels-last (NHWC) with :class:`Conv3x3` (im2col by one window copy, one GEMM per
    conv, dL/dx as a transposed convolution). ReLU outputs are written straight into the next
    conv's padded input and pools read the conv output in place (strided quarters). The features
    are flattened in (h, w, c) order, so fc1's weight columns are permuted once from PyTorch's
    (c, h, w) order: the network computes exactly nablab's function, and since SGD is elementwise
    the permuted weights stay the permutation of nablab's. The loss and the fc layers are those of
    bench_mlp's NumpyMLP; every buffer is allocated once and the update runs in place.
    """

    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], batch: int):
        (w1, b1), (w2, b2), (w3, b3), (w4, b4), (f1, fb1), (f2, fb2) = params
        side = IMAGE[1]
        self.convs = [Conv3x3(w1, b1, batch, side), Conv3x3(w2, b2, batch, side),
                      Conv3x3(w3, b3, batch, side // 2), Conv3x3(w4, b4, batch, side // 2)]
        c4, s4 = w4.shape[0], side // 4
        self.F1 = f1.reshape(-1, c4, s4, s4).transpose(0, 2, 3, 1).reshape(f1.shape).copy()
        self.fb1, self.F2, self.fb2 = fb1.copy(), f2.copy(), fb2.copy()
        self.pooled = np.empty((batch, s4, s4, c4), np.float32)
        self.h = np.empty((batch, f1.shape[0]), np.float32)
        self.z = np.empty((batch, f2.shape[0]), np.float32)
        self.gh, self.gf = np.empty_like(self.h), np.empty((batch, f1.shape[1]), np.float32)
        self.g = [np.empty_like(conv.y) for conv in self.convs]  # dL/d(pre-activation) of each conv
        self.masks = [np.empty(self.convs[2].interior.shape, bool), np.empty(self.pooled.shape, bool)]
        self.fc = [self.F1, self.fb1, self.F2, self.fb2]
        self.gfc = [np.empty_like(p) for p in self.fc]
        self.params = [p for conv in self.convs for p in (conv.W, conv.b)] + self.fc
        self.grads = [g for conv in self.convs for g in (conv.gW, conv.gb)] + self.gfc
        self.velocity = [np.empty_like(p) for p in self.params]
        self.ones, self.rows = np.ones(batch, np.float32), np.arange(batch)
        self.first_step = True

    def step(self, x, y) -> np.float32:
        c1, c2, c3, c4 = self.convs
        # forward; each ReLU writes into the next layer's input
        np.copyto(c1.interior, x.transpose(0, 2, 3, 1))
        np.maximum(c1.nhwc(c1.forward()), 0, out=c2.interior)
        a2 = c2.nhwc(np.maximum(c2.forward(), 0, out=c2.y))
        max_pool_2x2(a2, c3.interior)
        np.maximum(c3.nhwc(c3.forward()), 0, out=c4.interior)
        a4 = c4.nhwc(np.maximum(c4.forward(), 0, out=c4.y))
        max_pool_2x2(a4, self.pooled)
        f = self.pooled.reshape(len(x), -1)
        h = np.matmul(f, self.F1.T, out=self.h)
        h += self.fb1
        np.maximum(h, 0, out=h)
        z = np.matmul(h, self.F2.T, out=self.z)
        z += self.fb2
        # fused softmax cross-entropy: loss and dL/dlogits, in the logits' buffer
        rows = self.rows
        z -= z.max(axis=1, keepdims=True)
        picked = z[rows, y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = (np.log(total[:, 0]) - picked).mean()
        z /= total
        z[rows, y] -= 1
        z *= np.float32(1 / len(x))
        # backward
        gF1, gfb1, gF2, gfb2 = self.gfc
        np.matmul(z.T, h, out=gF2)
        np.matmul(self.ones, z, out=gfb2)
        gh = np.matmul(z, self.F2, out=self.gh)
        gh *= h > 0
        np.matmul(gh.T, f, out=gF1)
        np.matmul(self.ones, gh, out=gfb1)
        gf = np.matmul(gh, self.F1, out=self.gf).reshape(self.pooled.shape)
        max_pool_2x2_relu_backward(gf, self.pooled, a4, c4.nhwc(self.g[3]), self.masks[1])
        gx = c4.backward(self.g[3])
        np.multiply(gx, c4.interior > 0, out=c3.nhwc(self.g[2]))
        gx = c3.backward(self.g[2])
        max_pool_2x2_relu_backward(gx, c3.interior, a2, c2.nhwc(self.g[1]), self.masks[0])
        gx = c2.backward(self.g[1])
        np.multiply(gx, c2.interior > 0, out=c1.nhwc(self.g[0]))
        c1.backward(self.g[0], need_dx=False)
        # SGD with momentum, in place; the gradient buffer is reused for η·v
        for p, grad, v in zip(self.params, self.grads, self.velocity, strict=True):
            if self.first_step:
                np.copyto(v, grad)
            else:
                v *= np.float32(MOMENTUM)
                v += grad
            np.multiply(v, np.float32(LR), out=grad)
            p -= grad
        self.first_step = False
        return loss


def numpy_step(model, batches):
    """A training step of :class:`NumpyCNN` starting from the weights of the nablab W3 ``model``."""
    params = [(layer.weight.data, layer.bias.data) for layer in model if hasattr(layer, "weight")]
    net = NumpyCNN(params, BATCH)
    data = itertools.cycle(batches)

    def step():
        return net.step(*next(data))

    return step


def count_flops(key: str, seed: int) -> int:
    """Matrix-product FLOPs of one training step of workload ``key``, counted on a model of its own;
    the scratch buffers that step grew are dropped again, so the timed systems start as they would."""
    flops = gemm_flops(sgd_step(make_model(key, seed), make_batches(key, seed)[:1]))["training"]
    nablab.scratch.clear()
    gc.collect()
    return flops


# ----------------------------------------------------------------------------- speed in fresh processes
def spread_probe(key: str, threads: int, seed: int, steps: tuple[int, int]) -> dict:
    """Time nablab's step of workload ``key`` in this (fresh) process: ``steps`` = (untimed, timed)
    steps, each timed step on its own; returns the per-step times and their median, in ms."""
    limit_threads(threads)
    step = sgd_step(make_model(key, seed), make_batches(key, seed))
    warmup, timed = steps
    for _ in range(warmup):
        step()
    times = []
    with OtherLoad() as load:
        for _ in range(timed):
            start = time.perf_counter()
            step()
            times.append((time.perf_counter() - start) * 1e3)
    return {"ms": times, "median_ms": statistics.median(times), "others": load.others}


def measure_spread(key: str, processes: int, threads: int, seed: int, steps: tuple[int, int]) -> dict:
    """:func:`spread_probe` in ``processes`` fresh processes, one after the other: each process's
    median step, the median process, the slowest, their ratio and the verdict."""
    medians, others = [], []
    for _ in range(processes):
        cmd = [sys.executable, __file__, "--spread-probe", key, "--threads", str(threads), "--seed", str(seed),
               "--spread-steps", str(steps[1]), "--warmup", str(steps[0])]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            sys.exit(f"bench_cnn: the fresh-process probe for {key} failed:\n{out.stderr}")
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        medians.append(probe["median_ms"])
        others.append(probe["others"])
    median, slowest = statistics.median(medians), max(medians)
    return {"ms_per_step": medians, "median_ms": median, "slowest_ms": slowest, "ratio": slowest / median,
            "target": SPREAD_TARGET, "met": slowest <= SPREAD_TARGET * median, "steps": list(steps),
            "others": max((o for o in others if o is not None), default=None)}


def spread_report(spreads: dict[str, dict], results: dict, threads: int) -> str:
    """The fresh-process subsection: one row per workload, with nablab's median step in the
    round-robin timing beside it (whether that process ran at the speed of the others)."""
    rows = [[key, ", ".join(f"{ms:,.0f}" for ms in s["ms_per_step"]), f"{s['median_ms']:,.0f}",
             f"{s['slowest_ms']:,.0f}", f"{ratio_text(s['ratio'], s['target'], at_least=False)}×",
             f"≤ {s['target']:g}×: {'met' if s['met'] else 'NOT met'}",
             f"{results[key]['timings']['nablab'].ms_per_step:,.0f}"] for key, s in spreads.items()]
    table = markdown_table(["workload", "ms/step of each process (in the order run)", "median process",
                            "slowest", "slowest / median", "target", "the timing process"], rows)
    steps = "; ".join(f"{key}: {s['steps'][1]} after {s['steps'][0]} untimed" for key, s in spreads.items())
    others = [s["others"] for s in spreads.values() if s["others"] is not None]
    load = f" At most {max(others):.0%} of the cores were used by other processes during a probe." if others else ""
    return "\n\n".join([
        "### nablab's step in fresh processes",
        f"nablab's training step alone, in {len(next(iter(spreads.values()))['ms_per_step'])} fresh processes per "
        f"workload run one after the other ({threads} threads each), each timing its steps one by one ({steps}); "
        "a process's figure is its median step. The target: the slowest process within "
        f"{SPREAD_TARGET:g}× of the median one. The last column is nablab's median step in the round-robin "
        f"timing above (blocks of steps, in the process that timed every system).{load}",
        table])


# ----------------------------------------------------------------------------- running
def check_agreement(systems: dict, steps: int, label: str) -> dict[str, list[float]]:
    """Run ``steps`` steps of each system and require the same losses (float32 tolerance)."""
    losses = {name: [float(step().item()) for _ in range(steps)] for name, step in systems.items()}
    reference = losses["nablab"]
    for name, values in losses.items():
        if not np.allclose(values, reference, rtol=1e-3, atol=1e-5):
            sys.exit(f"bench_cnn {label}: {name} computes different losses than nablab: {values} vs {reference}")
    return losses


def timing_table(timings: dict, reference: str, flops: int, peak: float) -> str:
    ref = timings[reference].median
    rows = [[name, fmt_rate(t.median * BATCH), f"{fmt_rate(t.min * BATCH)}–{fmt_rate(t.max * BATCH)}",
             f"{t.ms_per_step:,.1f}", f"{t.median / ref:.2f}×", f"{gemm_fraction(t.median, flops, peak):.0%}"]
            for name, t in timings.items()]
    return markdown_table(["system", "samples/s (median)", "samples/s (min–max)", "ms/step (median)",
                           f"vs {reference}", "of the GEMM peak"], rows)


def time_workload(w: Workload, args) -> dict:
    """Check that the systems agree, then time them round-robin; returns the timings, FLOPs and load."""
    flops = count_flops(w.key, args.seed)
    batches, model = make_batches(w.key, args.seed), make_model(w.key, args.seed)
    systems = {"nablab": sgd_step(make_model(w.key, args.seed), batches),
               TORCH: torch_step(model, batches, args.threads)}
    if w.key == "W3":
        systems[NUMPY] = numpy_step(model, batches)
    check = args.check_steps or w.check_steps
    losses = check_agreement(systems, check, w.key)
    print(f"{w.key}: first {check} losses agree: {', '.join(f'{v:.5f}' for v in losses['nablab'])}")
    repeats, steps = (args.vgg_repeats, args.vgg_steps) if w.large else (args.repeats, args.steps)
    print(f"{w.key}: timing {len(systems)} systems, {repeats} rounds × {steps} steps ...", flush=True)
    with OtherLoad() as load:
        timings = time_interleaved(systems, steps, repeats, min(args.warmup, 1) if w.large else args.warmup)
    print(f"{w.key}: {', '.join(f'{name} {t.median * BATCH:.1f}' for name, t in timings.items())} samples/s; "
          f"{load.describe()}")
    del systems
    gc.collect()
    return {"timings": timings, "flops": flops, "load": load.describe(), "repeats": repeats, "steps": steps,
            "checked": check}


def workload_report(w: Workload, result: dict, peak: float) -> str:
    """One workload's subsection: how it was timed, the table and the ratio lines."""
    timings = result["timings"]
    how = (f"{result['repeats']} rounds of {result['steps']} timed steps per system, after {result['checked']} "
           "steps whose losses are checked to agree.")
    lines = [f"- {ratio_line(timings, 'nablab', TORCH, target=TORCH_TARGET)}"]
    if NUMPY in timings:
        lines += [f"- {ratio_line(timings, 'nablab', NUMPY)}", f"- {ratio_line(timings, NUMPY, TORCH)}"]
    lines += [f"- Other load during the timing: {result['load']}", noisy_note(timings)]
    return "\n\n".join([w.heading, " ".join(filter(None, [how, w.about])),
                        timing_table(timings, TORCH, result["flops"], peak), "\n".join(filter(None, lines))])


def report(results: dict, memory: dict | None, spreads: dict, gemm_peak: dict, args, info: dict) -> str:
    """The Markdown section: method, one subsection per workload, W4's memory, the fresh processes, machine."""
    flops = ", ".join(f"{key} {r['flops'] / 1e9:.1f} GFLOP" for key, r in results.items())
    *others, last = results
    parts = [f"## Convolutional networks: {', '.join(others) + ' and ' if others else ''}{last}, batch {BATCH}", (
        f"One step = forward, cross-entropy loss, `zero_grad`, backward, SGD update (lr {LR}, momentum "
        f"{MOMENTUM}); float32, batch {BATCH}, {N_BATCHES} batches of random inputs (3×32×32; W6 1×28×28; "
        f"seed {args.seed}) cycled, the same initial weights (nablab's initialisation, copied) for all systems, "
        f"whose first losses are checked to agree. Systems are timed round-robin in one process with "
        f"{args.threads} threads (`nablab.set_num_threads` for nablab's kernels, threadpoolctl for NumPy's BLAS, "
        f"`torch.set_num_threads` for PyTorch), each "
        "block after an idle pause (0.25 s) and untimed warm-up steps. \"Of the GEMM peak\": the step's "
        "matrix-product FLOPs (convolutions and linear layers, counting only kernel taps that meet the input, "
        f"not the zero padding: {flops} per step) × steps/s over the machine's GEMM rate, "
        f"{gemm_peak_text(gemm_peak)}.")]
    for key, result in results.items():
        parts.append(workload_report(WORKLOADS[key], result, gemm_peak["peak"]))
        if key == "W4" and memory is not None:
            parts.append(memory_report(memory))
    if spreads:
        parts.append(spread_report(spreads, results, args.threads))
    parts.append(machine_lines(info))
    return "\n\n".join(parts)


# ----------------------------------------------------------------------------- memory (W4)
def resident_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_probe(system: str, threads: int, seed: int) -> dict:
    """Peak memory of one W4 training step of ``system``, measured in this (fresh) process.

    After 2 warm-up steps (momentum buffers, thread pools and kernel caches exist), the resident
    set is read, its high-water mark reset (``/proc/self/clear_refs``), one step run, and the
    high-water mark read: the step's peak is the rise above the resident set before it. With
    ``system == "nablab-tracemalloc"`` the same is measured for NumPy's allocations instead, which
    NumPy reports to tracemalloc (tracing from the start, so the baseline includes the model).
    """
    limit_threads(threads)
    if system == "nablab-tracemalloc":
        tracemalloc.start()
    batches = make_batches("W4", seed)[:1]
    model = make_model("W4", seed)
    step = torch_step(model, batches, threads) if system == "torch" else sgd_step(model, batches)
    for _ in range(2):
        step()
    gc.collect()
    if system == "nablab-tracemalloc":
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return {"before_mib": before / 2**20, "step_peak_mib": (tracemalloc.get_traced_memory()[1] - before) / 2**20}
    before = resident_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    step()
    peak = resident_kib("VmHWM")
    # nablab's scratch buffers (workspaces kept between steps) are part of the resident set before
    scratch = nablab.scratch.retained_bytes() / 2**20 if system == "nablab" else 0.0
    return {"before_mib": before / 1024, "peak_mib": peak / 1024, "step_peak_mib": (peak - before) / 1024,
            "scratch_mib": scratch}


def measure_memory(threads: int, seed: int, systems: list[str]) -> dict[str, dict]:
    """Run :func:`memory_probe` for each system in a fresh subprocess with :data:`MALLOC_ENV`."""
    results = {}
    for system in systems:
        cmd = [sys.executable, __file__, "--memory-probe", system, "--threads", str(threads), "--seed", str(seed)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **MALLOC_ENV}, check=False)
        if out.returncode != 0:
            sys.exit(f"bench_cnn: the memory probe for {system} failed:\n{out.stderr}")
        results[system] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def memory_summary(memory: dict) -> dict:
    """nablab's and PyTorch's W4 step peaks (nablab's with its scratch buffers), their ratio and the target."""
    mine = memory["nablab"]["step_peak_mib"] + memory["nablab"]["scratch_mib"]
    theirs = memory["torch"]["step_peak_mib"]
    return {"nablab_mib": mine, "torch_mib": theirs, "ratio": mine / theirs, "target": MEMORY_TARGET,
            "met": mine <= MEMORY_TARGET * theirs}


def memory_report(memory: dict) -> str:
    ours, summary = memory["nablab"], memory_summary(memory)
    rows = [[name, f"{r['before_mib']:,.0f}", f"{r['peak_mib']:,.0f}", f"{r['step_peak_mib']:,.0f}",
             f"{r['scratch_mib']:,.0f}", f"{r['step_peak_mib'] + r['scratch_mib']:,.0f}"]
            for name, r in ((TORCH, memory["torch"]), ("nablab", ours))]
    table = markdown_table(["system", "resident before the step (MiB)", "peak during the step (MiB)",
                            "rise (MiB)", "scratch kept between steps (MiB)", "step peak (MiB)"], rows)
    traced = memory.get("nablab-tracemalloc")
    cross = (f" Cross-check: tracemalloc, which sees NumPy's allocations, puts nablab's step peak at "
             f"{traced['step_peak_mib']:,.0f} MiB above the {traced['before_mib']:,.0f} MiB of arrays alive "
             "before the step." if traced else "")
    verdict = "met" if summary["met"] else "NOT met"
    env = " ".join(f"{k}={v}" for k, v in MALLOC_ENV.items())
    return "\n\n".join([
        "#### W4 peak memory of one training step",
        "Each system runs in a fresh subprocess (same threads, same batch), with glibc's malloc set to give "
        f"every block ≥ 128 KiB its own mmap and return it when freed (`{env}`)"
        ", so the resident set follows the live arrays of both. After 2 warm-up steps (momentum buffers, "
        "thread pools, kernel caches exist), the resident set (`VmRSS`) is read, its high-water mark reset "
        "(`echo 5 > /proc/self/clear_refs`), one step run, and the high-water mark (`VmHWM`) read: the "
        "step's peak is the rise above the resident set before it — activations saved for backward, "
        "gradients and workspaces, the same quantity for both systems — plus, for nablab, the scratch "
        "buffers (`nablab.scratch`: padded copies and column chunks) it keeps from one step to the next, "
        "which are workspaces of the step although they sit in the resident set before it." + cross,
        table,
        f"- **nablab / PyTorch step peak: {ratio_text(summary['ratio'], MEMORY_TARGET, at_least=False)}×**; "
        f"target ≤ {MEMORY_TARGET:g}×: {verdict}"])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS),
                        help="workloads to run (default all)")
    parser.add_argument("--repeats", type=int, default=7, help="W3, W6, W7 timed rounds per system (default 7)")
    parser.add_argument("--steps", type=int, default=10, help="W3, W6, W7 steps per timed round (default 10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps first, and before each round (default 2)")
    parser.add_argument("--vgg-repeats", type=int, default=3, help="W4 timed rounds per system (default 3)")
    parser.add_argument("--vgg-steps", type=int, default=2, help="W4 steps per timed round (default 2)")
    parser.add_argument("--check-steps", type=int, default=None,
                        help=f"steps whose losses must agree before the timing (default {CHECK_STEPS}, W4 2)")
    parser.add_argument("--processes", type=int, default=6,
                        help="fresh processes timing nablab's step, per workload (default 6; 0: none)")
    parser.add_argument("--spread-steps", type=int, default=None,
                        help="timed steps in each fresh process, after --warmup untimed ones (default: 10 after 3, "
                             "W4 4 after 2)")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the section into this Markdown file (e.g. BENCHMARKS.md)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON (for suite.py)")
    parser.add_argument("--gemm-peak", metavar="FILE", help="read the GEMM peak from this JSON file (suite.py "
                        "measures it once) instead of measuring it")
    parser.add_argument("--memory-probe", choices=["nablab", "nablab-tracemalloc", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--spread-probe", choices=list(WORKLOADS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = (args.repeats, args.steps, args.vgg_repeats, args.vgg_steps, args.threads, args.spread_steps or 1,
              args.check_steps or 1)
    if min(counts) < 1 or min(args.warmup, args.processes) < 0:
        parser.error("need --repeats, --steps, --vgg-repeats, --vgg-steps, --spread-steps, --check-steps, "
                     "--threads ≥ 1 and --warmup, --processes ≥ 0")
    return args


def probe_steps(w: Workload, args) -> tuple[int, int]:
    """(untimed, timed) steps of each fresh process of ``w``: its defaults, or --spread-steps with --warmup."""
    return w.spread_steps if args.spread_steps is None else (args.warmup, args.spread_steps)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.threads, args.seed)))
        return
    if args.spread_probe:
        steps = (args.warmup, args.spread_steps or 1)
        print(json.dumps(spread_probe(args.spread_probe, args.threads, args.seed, steps)))
        return
    limit_threads(args.threads)
    torch_info = torch_description(args.threads)
    if torch_info is None:
        sys.exit("bench_cnn: PyTorch is needed (its throughput is the yardstick)")
    print(f"NumPy BLAS: {blas_description()}")
    print(f"PyTorch:    {torch_info}")
    peak = load_or_measure_gemm_peak(args.gemm_peak, args.threads)
    print(f"GEMM peak {gemm_peak_text(peak)}")
    chosen = [WORKLOADS[key] for key in WORKLOADS if key in args.workload]

    results, memory, spreads = {}, None, {}
    for w in chosen:
        results[w.key] = time_workload(w, args)
        if w.key == "W4":
            print("W4: peak memory of a step, in fresh subprocesses ...", flush=True)
            memory = measure_memory(args.threads, args.seed, ["torch", "nablab", "nablab-tracemalloc"])
    for w in chosen if args.processes else ():
        print(f"{w.key}: nablab's step in {args.processes} fresh processes ...", flush=True)
        spreads[w.key] = measure_spread(w.key, args.processes, args.threads, args.seed, probe_steps(w, args))
        print(f"{w.key}: ms/step {', '.join(f'{ms:.1f}' for ms in spreads[w.key]['ms_per_step'])}; "
              f"slowest / median {spreads[w.key]['ratio']:.2f}")

    section = report(results, memory, spreads, peak, args, machine_info({"PyTorch": torch_info}))
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the section to {args.output}")
    if args.json:
        out = {}
        for w in chosen:
            r = results[w.key]
            out[w.key] = figures(w.key, w.title, BATCH, r["timings"], {TORCH: TORCH_TARGET}, r["flops"], peak)
            if w.key in spreads:
                out[w.key]["spread"] = spreads[w.key]
        if memory is not None:
            out["W4"]["memory"] = memory_summary(memory)
        write_json(args.json, out)


if __name__ == "__main__":
    main()
