"""Training-step throughput of two CNNs: nablab vs PyTorch (CPU), and vs hand-written NumPy on the small one.

W3, the small CNN: conv3×3 3→32, 32→32, maxpool 2, conv 32→64, 64→64, maxpool 2, linear
4096→256→10 (every conv padding 1, ReLU after every conv and the hidden linear), i.e.
``nablab.models.SmallCNN(hidden=256)``, at batch 64, for three systems: nablab, PyTorch with the
same architecture and weights, and a hand-written NumPy im2col implementation (:class:`NumpyCNN`).
W4: ``nablab.models.VGGNet()`` (BatchNorm, 3×3 max pools with stride 2) at batch 64, nablab vs
PyTorch only, and the peak memory of one training step of each (measured in fresh subprocesses).

One step = forward, softmax cross-entropy loss, zero_grad, backward and an SGD update (lr 0.01,
momentum 0.9) on a float32 batch of random 3×32×32 inputs (fixed seed). The systems start from the
same weights (nablab's initialisation, copied), see the same batches, run in one process with the
same number of threads, and are first checked to compute the same losses. They are then timed
round-robin: warm-up steps, then ``--repeats`` rounds in which each system runs ``--steps`` steps.

    python benchmarks/bench_cnn.py --output BENCHMARKS.md

Targets: nablab ≥ 0.5× PyTorch's throughput on W3 and W4; nablab's peak step memory ≤ 2× PyTorch's
on W4. Each table also gives the fraction of the machine's float32 GEMM peak (measured) that the
step's matrix products (convolutions and linear layers) reach.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import subprocess
import sys
import tracemalloc
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
    time_interleaved,
    write_json,
    write_section,
)
from numpy.lib.stride_tricks import as_strided

import nablab
from nablab import nn
from nablab.models import SmallCNN, VGGNet

BATCH = 64
IMAGE = (3, 32, 32)
CLASSES = 10
N_BATCHES = 4  # distinct random batches, cycled through
CHECK_STEPS = 3  # W3 steps whose losses must agree across the systems before anything is timed
VGG_CHECK_STEPS = 2  # the same for W4 (they double as its warm-up)
SECTION_KEY = "bench_cnn"
TITLE = "## Convolutional networks: small CNN (W3) and VGGNet (W4), batch 64"
TARGETS = {"W3": 0.5, "W4": 0.5}  # nablab / PyTorch (CPU)
W3_TITLE, W4_TITLE = "W3: small CNN training step (batch 64)", "W4: VGGNet training step (batch 64)"
# glibc malloc settings for the memory probes: every block of 128 KiB or more is its own mmap,
# returned to the OS when freed, so that the resident set follows the live arrays of both systems
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def make_batches(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``N_BATCHES`` batches of standard-normal float32 images with uniform random labels."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((BATCH, *IMAGE), dtype=np.float32),
             rng.integers(0, CLASSES, size=BATCH, dtype=np.int64)) for _ in range(N_BATCHES)]


def make_model(name: str, seed: int) -> nn.Module:
    """A fresh nablab model with nablab's default (PyTorch-style) initialisation drawn from ``seed``."""
    nablab.manual_seed(seed)
    return SmallCNN(hidden=256) if name == "W3" else VGGNet()


# ----------------------------------------------------------------------------- nablab and PyTorch
def torch_mirror(model):
    """The same ``nn.Sequential`` built from ``torch.nn`` layers, holding a copy of the model's state."""
    import torch

    tnn, layers = torch.nn, []
    for layer in model:
        kind = type(layer).__name__
        if kind == "Conv2d":
            layers.append(tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                     layer.padding, layer.dilation, layer.groups, bias=layer.bias is not None))
        elif kind == "Linear":
            layers.append(tnn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None))
        elif kind == "BatchNorm2d":
            layers.append(tnn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum))
        elif kind == "MaxPool2d":
            layers.append(tnn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding))
        elif kind == "ReLU":
            layers.append(tnn.ReLU())
        elif kind == "Flatten":
            layers.append(tnn.Flatten(layer.start_dim, layer.end_dim))
        else:
            raise TypeError(f"bench_cnn: no PyTorch counterpart for {kind}")
    mirror = tnn.Sequential(*layers)
    mirror.load_state_dict({name: torch.tensor(np.array(t.data)) for name, t in model.state_dict().items()})
    return mirror


def torch_step(model, batches, threads: int):
    """A PyTorch training step of ``torch_mirror(model)``: F.cross_entropy, optim.SGD (defaults)."""
    import torch

    torch.set_num_threads(threads)
    mirror = torch_mirror(model)
    opt = torch.optim.SGD(mirror.parameters(), lr=LR, momentum=MOMENTUM)
    data = itertools.cycle([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches])

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


def count_flops(key: str, seed: int, batches) -> int:
    """Matrix-product FLOPs of one training step of workload ``key``, counted on a model of its own;
    the scratch buffers that step grew are dropped again, so the timed systems start as they would."""
    flops = gemm_flops(sgd_step(make_model(key, seed), batches[:1]))["training"]
    nablab.scratch.clear()
    gc.collect()
    return flops


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
    batches = make_batches(seed)[:1]
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


def report(w3: dict, w4: dict | None, memory: dict | None, gemm: dict, args, loads: dict, info: dict) -> str:
    """The Markdown section: method, W3 table and ratios, W4 table, memory and machine."""
    peak, flops = gemm["peak"]["peak"], gemm["flops"]
    parts = [TITLE, (
        f"One step = forward, cross-entropy loss, `zero_grad`, backward, SGD update (lr {LR}, momentum "
        f"{MOMENTUM}); float32, batch {BATCH}, {N_BATCHES} batches of random 3×32×32 inputs (seed {args.seed}) "
        f"cycled, the same initial weights (nablab's initialisation, copied) for all systems, whose first "
        f"losses are checked to agree. Systems are timed round-robin in one process with {args.threads} threads "
        "(threadpoolctl for NumPy's BLAS, `torch.set_num_threads` for PyTorch), each block after an idle pause "
        "(0.25 s) and untimed warm-up steps. \"Of the GEMM peak\": the step's matrix-product FLOPs "
        "(convolutions and linear layers: " + ", ".join(f"{k} {v / 1e9:.1f} GFLOP" for k, v in flops.items())
        + f" per step) × steps/s over the machine's GEMM rate, {gemm_peak_text(gemm['peak'])}.")]
    parts += ["### W3: small CNN (`SmallCNN(hidden=256)`: conv 3→32, 32→32, pool, 32→64, 64→64, pool, "
              "fc 4096→256→10)",
              f"{args.repeats} rounds of {args.steps} timed steps per system; the first {CHECK_STEPS} "
              "losses agree. The hand-written NumPy version works channels-last: im2col is one copy of a "
              "strided 3×3-window view of a preallocated zero-padded input, each conv one GEMM whose "
              "output already is NHWC, dL/dx a transposed convolution (window copy of the padded output "
              "gradient + GEMM) instead of col2im, pools on strided quarters, every buffer preallocated "
              "and the update in place.",
              timing_table(w3, TORCH, flops["W3"], peak)]
    lines = [f"- {ratio_line(w3, 'nablab', TORCH, target=TARGETS['W3'])}", f"- {ratio_line(w3, 'nablab', NUMPY)}",
             f"- {ratio_line(w3, NUMPY, TORCH)}", f"- Other load during the timing: {loads['W3']}"]
    parts.append("\n".join(filter(None, [*lines, noisy_note(w3)])))
    if w4 is not None:
        parts += ["### W4: VGGNet (`VGGNet()`: 8 conv3×3 + BatchNorm + ReLU, 5 max pools 3×3/2, fc 512→10)",
                  f"{args.vgg_repeats} rounds of {args.vgg_steps} timed steps per system, after "
                  f"{VGG_CHECK_STEPS} steps whose losses are checked to agree.",
                  timing_table(w4, TORCH, flops["W4"], peak),
                  "\n".join(filter(None, [f"- {ratio_line(w4, 'nablab', TORCH, target=TARGETS['W4'])}",
                                          f"- Other load during the timing: {loads['W4']}", noisy_note(w4)]))]
    if memory is not None:
        parts.append(memory_report(memory))
    parts.append(machine_lines(info))
    return "\n\n".join(parts)


def memory_summary(memory: dict) -> dict:
    """nablab's and PyTorch's W4 step peaks (nablab's with its scratch buffers), their ratio and the target."""
    mine = memory["nablab"]["step_peak_mib"] + memory["nablab"]["scratch_mib"]
    theirs = memory["torch"]["step_peak_mib"]
    return {"nablab_mib": mine, "torch_mib": theirs, "ratio": mine / theirs, "target": 2.0, "met": mine <= 2 * theirs}


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
        f"- **nablab / PyTorch step peak: {summary['ratio']:.2f}×**; target ≤ 2×: {verdict}"])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="W3 timed rounds per system (default 7)")
    parser.add_argument("--steps", type=int, default=10, help="W3 steps per timed round (default 10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps first, and before each round (default 2)")
    parser.add_argument("--vgg-repeats", type=int, default=3, help="W4 timed rounds per system (default 3)")
    parser.add_argument("--vgg-steps", type=int, default=2, help="W4 steps per timed round (default 2)")
    parser.add_argument("--skip-vgg", action="store_true", help="time W3 only (no W4 timing, no memory)")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the section into this Markdown file (e.g. BENCHMARKS.md)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON (for suite.py)")
    parser.add_argument("--gemm-peak", metavar="FILE", help="read the GEMM peak from this JSON file (suite.py "
                        "measures it once) instead of measuring it")
    parser.add_argument("--memory-probe", choices=["nablab", "nablab-tracemalloc", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.repeats, args.steps, args.vgg_repeats, args.vgg_steps, args.threads) < 1 or args.warmup < 0:
        parser.error("need --repeats, --steps, --vgg-repeats, --vgg-steps, --threads ≥ 1 and --warmup ≥ 0")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.threads, args.seed)))
        return
    limit_threads(args.threads)
    torch_info = torch_description(args.threads)
    if torch_info is None:
        sys.exit("bench_cnn: PyTorch is needed (its throughput is the yardstick)")
    print(f"NumPy BLAS: {blas_description()}")
    print(f"PyTorch:    {torch_info}")
    batches, loads = make_batches(args.seed), {}
    gemm = {"peak": load_or_measure_gemm_peak(args.gemm_peak, args.threads), "flops": {}}
    print(f"GEMM peak {gemm_peak_text(gemm['peak'])}")

    gemm["flops"]["W3"] = count_flops("W3", args.seed, batches)
    model = make_model("W3", args.seed)
    w3_systems = {"nablab": sgd_step(make_model("W3", args.seed), batches),
                  TORCH: torch_step(model, batches, args.threads), NUMPY: numpy_step(model, batches)}
    losses = check_agreement(w3_systems, CHECK_STEPS, "W3")
    print(f"W3: first {CHECK_STEPS} losses agree: {', '.join(f'{v:.5f}' for v in losses['nablab'])}")
    print(f"W3: timing {len(w3_systems)} systems, {args.repeats} rounds × {args.steps} steps ...", flush=True)
    with OtherLoad() as load:
        w3 = time_interleaved(w3_systems, args.steps, args.repeats, args.warmup)
    loads["W3"] = load.describe()
    print(f"W3: {', '.join(f'{name} {t.median * BATCH:.0f}' for name, t in w3.items())} samples/s; {loads['W3']}")
    del w3_systems
    gc.collect()

    w4 = memory = None
    if not args.skip_vgg:
        gemm["flops"]["W4"] = count_flops("W4", args.seed, batches)
        model = make_model("W4", args.seed)
        w4_systems = {"nablab": sgd_step(make_model("W4", args.seed), batches),
                      TORCH: torch_step(model, batches, args.threads)}
        losses = check_agreement(w4_systems, VGG_CHECK_STEPS, "W4")
        print(f"W4: first {VGG_CHECK_STEPS} losses agree: {', '.join(f'{v:.5f}' for v in losses['nablab'])}")
        print(f"W4: timing, {args.vgg_repeats} rounds × {args.vgg_steps} steps ...", flush=True)
        with OtherLoad() as load:
            w4 = time_interleaved(w4_systems, args.vgg_steps, args.vgg_repeats, min(args.warmup, 1))
        loads["W4"] = load.describe()
        print(f"W4: {', '.join(f'{name} {t.median * BATCH:.1f}' for name, t in w4.items())} samples/s; "
              f"{loads['W4']}")
        del w4_systems
        gc.collect()
        print("W4: peak memory of a step, in fresh subprocesses ...", flush=True)
        memory = measure_memory(args.threads, args.seed, ["torch", "nablab", "nablab-tracemalloc"])

    extra = {"PyTorch": torch_info}
    section = report(w3, w4, memory, gemm, args, loads, machine_info(extra))
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the section to {args.output}")
    if args.json:
        results = {"W3": figures("W3", W3_TITLE, BATCH, w3, {TORCH: TARGETS["W3"]}, gemm["flops"]["W3"], gemm["peak"])}
        if w4 is not None:
            results["W4"] = figures("W4", W4_TITLE, BATCH, w4, {TORCH: TARGETS["W4"]}, gemm["flops"]["W4"],
                                    gemm["peak"])
            results["W4"]["memory"] = memory_summary(memory)
        write_json(args.json, results)


if __name__ == "__main__":
    main()
