"""Training-step throughput of a 784-512-512-10 ReLU MLP: nablab vs hand-written NumPy vs PyTorch (CPU).

One step = forward, softmax cross-entropy loss, zero_grad, backward and an SGD update
(lr 0.01, momentum 0.9) on a float32 batch of 128 random samples. The three systems start from the
same weights, see the same batches, run in the same process with the same number of threads, and
are first checked to compute the same losses. They are then timed round-robin: warm-up steps, then
``--repeats`` rounds in which each system runs ``--steps`` timed steps.

    python benchmarks/bench_mlp.py --output BENCHMARKS.md

The hand-written NumPy version is the yardstick for nablab: the same BLAS calls with every
buffer preallocated and no graph, so nablab / NumPy measures the framework's own overhead.
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import sys

import numpy as np
from common import (
    OtherLoad,
    available_cores,
    blas_description,
    fmt_rate,
    limit_threads,
    machine_info,
    machine_lines,
    markdown_table,
    time_interleaved,
    write_section,
)

import nablab
from nablab import nn

SIZES = (784, 512, 512, 10)
BATCH = 128
LR, MOMENTUM = 0.01, 0.9
N_BATCHES = 8  # distinct random batches, cycled through
CHECK_STEPS = 3  # steps whose losses must agree across the systems before anything is timed
SECTION_KEY = "bench_mlp"
TITLE = "## MLP training step (784-512-512-10, batch 128)"


def make_batches(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``N_BATCHES`` batches of standard-normal float32 inputs with uniform random labels."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32),
             rng.integers(0, SIZES[-1], size=BATCH, dtype=np.int64)) for _ in range(N_BATCHES)]


def initial_weights(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, W of shape (out, in), drawn by nablab's default (PyTorch-style) init."""
    nablab.manual_seed(seed)
    layers = [nn.Linear(n_in, n_out) for n_in, n_out in itertools.pairwise(SIZES)]
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in layers]


# ----------------------------------------------------------------------------- the three systems
def nablab_step(weights, batches):
    """A nablab training step: Sequential of Linear/ReLU, F.cross_entropy, optim.SGD."""
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.weight.data[...] = w
        linear.bias.data[...] = b
        layers += [linear] if i == len(weights) - 1 else [linear, nn.ReLU()]
    return sgd_step(nn.Sequential(*layers), batches)


def sgd_step(model, batches):
    """A nablab training step of ``model`` on the cycled ``batches``: F.cross_entropy, SGD with momentum
    (the step every benchmark times for nablab)."""
    opt = nablab.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    data = itertools.cycle([(nablab.Tensor(x), y) for x, y in batches])

    def step():
        x, y = next(data)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


class NumpyMLP:
    """The same network and update written directly in NumPy, with hand-derived gradients.

    Layer i computes hᵢ = relu(hᵢ₋₁ Wᵢᵀ + bᵢ) (no ReLU on the logits). With p = softmax(logits),
    dL/dlogits = (p − onehot(y)) / N; then per layer dL/dWᵢ = gᵢᵀ hᵢ₋₁, dL/dbᵢ = 1ᵀ gᵢ and
    gᵢ₋₁ = (gᵢ Wᵢ) ⊙ [hᵢ₋₁ > 0]. Momentum SGD as PyTorch: v ← g on the first step, else μv + g;
    W ← W − ηv. Every activation, gradient and mask buffer is allocated once; the GEMMs write into
    them with ``out=`` and the update runs in place, so a step allocates only a few small vectors.
    """

    def __init__(self, weights, batch: int):
        self.W = [w.copy() for w, _ in weights]
        self.b = [b.copy() for _, b in weights]
        self.gW = [np.empty_like(w) for w in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        self.vW = [np.empty_like(w) for w in self.W]
        self.vb = [np.empty_like(b) for b in self.b]
        self.h = [np.empty((batch, w.shape[0]), np.float32) for w in self.W]  # layer outputs
        self.g = [np.empty((batch, w.shape[0]), np.float32) for w in self.W[:-1]]  # dL/d hidden
        self.mask = [np.empty((batch, w.shape[0]), bool) for w in self.W[:-1]]
        self.ones = np.ones(batch, np.float32)
        self.rows = np.arange(batch)
        self.first_step = True

    def step(self, x, y) -> np.float32:
        W, b, h, rows = self.W, self.b, self.h, self.rows
        # forward
        a = x
        for i in range(len(W)):
            np.matmul(a, W[i].T, out=h[i])
            h[i] += b[i]
            if i < len(W) - 1:
                np.maximum(h[i], 0, out=h[i])
            a = h[i]
        # fused softmax cross-entropy: loss and dL/dlogits, in the logits' buffer
        z = h[-1]
        z -= z.max(axis=1, keepdims=True)
        picked = z[rows, y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = (np.log(total[:, 0]) - picked).mean()
        z /= total
        z[rows, y] -= 1
        z *= np.float32(1 / len(x))
        # backward
        g = z
        for i in reversed(range(len(W))):
            a = h[i - 1] if i else x
            np.matmul(g.T, a, out=self.gW[i])
            np.matmul(self.ones, g, out=self.gb[i])
            if i:
                np.matmul(g, W[i], out=self.g[i - 1])
                np.greater(a, 0, out=self.mask[i - 1])
                g = np.multiply(self.g[i - 1], self.mask[i - 1], out=self.g[i - 1])
        # SGD with momentum, in place; the gradient buffer is reused for η·v
        for p, grad, v in zip(W + b, self.gW + self.gb, self.vW + self.vb, strict=True):
            if self.first_step:
                np.copyto(v, grad)
            else:
                v *= np.float32(MOMENTUM)
                v += grad
            np.multiply(v, np.float32(LR), out=grad)
            p -= grad
        self.first_step = False
        return loss


def numpy_step(weights, batches):
    """A training step of :class:`NumpyMLP`."""
    net = NumpyMLP(weights, BATCH)
    data = itertools.cycle(batches)

    def step():
        return net.step(*next(data))

    return step


def torch_step(weights, batches, threads: int):
    """A PyTorch training step: nn.Sequential of Linear/ReLU, F.cross_entropy, optim.SGD (defaults)."""
    import torch

    torch.set_num_threads(threads)
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear] if i == len(weights) - 1 else [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    data = itertools.cycle([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches])

    def step():
        x, y = next(data)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def torch_description(threads: int) -> str | None:
    """PyTorch's version, BLAS and CPU kernels, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return (f"{torch.__version__}, BLAS {blas.group(1) if blas else 'unknown'}, "
            f"{torch.backends.cpu.get_cpu_capability()} kernels, {threads} threads")


# ----------------------------------------------------------------------------- running
def build_systems(weights, batches, threads: int) -> dict:
    """Name → fresh step function for every system available."""
    systems = {"nablab": nablab_step(weights, batches), "NumPy (hand-written)": numpy_step(weights, batches)}
    if torch_description(threads) is not None:
        systems["PyTorch (CPU)"] = torch_step(weights, batches, threads)
    return systems


def check_agreement(systems: dict) -> dict[str, list[float]]:
    """Run ``CHECK_STEPS`` steps of each system and require the same losses (float32 tolerance)."""
    losses = {name: [float(step().item()) for _ in range(CHECK_STEPS)] for name, step in systems.items()}
    reference = losses["nablab"]
    for name, values in losses.items():
        if not np.allclose(values, reference, rtol=1e-3, atol=1e-5):
            sys.exit(f"bench_mlp: {name} computes different losses than nablab: {values} vs {reference}")
    return losses


def report(timings: dict, args, info: dict) -> str:
    """The Markdown section: results table, ratios, method and machine."""
    ref = timings["NumPy (hand-written)"].median
    rows = [[name, fmt_rate(t.median), f"{fmt_rate(t.min)}–{fmt_rate(t.max)}", fmt_rate(t.median * BATCH),
             f"{t.ms_per_step:.2f}", f"{t.median / ref:.2f}×"] for name, t in timings.items()]
    table = markdown_table(["system", "steps/s (median)", "steps/s (min–max)", "samples/s (median)",
                            "ms/step (median)", "vs NumPy"], rows)
    ratios = [ratio_line("NumPy (hand-written)", timings, target=0.9)]
    if "PyTorch (CPU)" in timings:
        ratios.append(ratio_line("PyTorch (CPU)", timings))
    method = (f"One step = forward, cross-entropy loss, `zero_grad`, backward, SGD update (lr {LR}, "
              f"momentum {MOMENTUM}); float32, {N_BATCHES} random batches (seed {args.seed}) cycled, "
              f"the same initial weights for all systems, whose first {CHECK_STEPS} losses are checked "
              f"to agree. {args.warmup} warm-up steps each, then {args.repeats} rounds of {args.steps} "
              f"timed steps per system (after 3 untimed ones), round-robin, in one process with {args.threads} threads "
              "(threadpoolctl for NumPy's BLAS, `torch.set_num_threads` for PyTorch). The hand-written "
              "NumPy version preallocates every buffer and updates in place.")
    noisy = [name for name, t in timings.items() if t.min < 0.8 * t.median]
    if noisy:
        ratios.append(f"- Noisy machine: some rounds of {', '.join(noisy)} ran at under 80% of the "
                      "median rate; the medians and per-round ratios are robust to a few such rounds.")
    return "\n\n".join([TITLE, method, table, "\n".join(ratios), machine_lines(info)])


def ratio_line(other: str, timings: dict, target: float | None = None) -> str:
    """``nablab / other``: the median of the per-round ratios, their range, and the ratio of the medians.

    The target is judged on the per-round ratios: the two blocks of one round run back to back, so
    a slow spell of the machine (another tenant, a clock change) slows both, where the ratio of
    two medians taken over different moments carries it into the result.
    """
    mine, theirs = timings["nablab"], timings[other]
    per_round = [a / b for a, b in zip(mine.rates, theirs.rates, strict=True)]
    paired = statistics.median(per_round)
    line = (f"- **nablab / {other}: {paired:.2f}** (median of the per-round ratios, which range over "
            f"{min(per_round):.2f}–{max(per_round):.2f}; ratio of the medians {mine.median / theirs.median:.2f})")
    if target is not None:
        line += f"; target ≥ {target}: {'met' if paired >= target else 'NOT met'}"
    return line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed rounds per system (default 30)")
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round (default 30)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (default 10)")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the section into this Markdown file (e.g. BENCHMARKS.md)")
    args = parser.parse_args(argv)
    if args.repeats < 5 or args.steps < 1 or args.threads < 1:
        parser.error("need --repeats ≥ 5, --steps ≥ 1 and --threads ≥ 1")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    limit_threads(args.threads)
    torch_info = torch_description(args.threads)
    print(f"NumPy BLAS: {blas_description()}")
    print(f"PyTorch:    {torch_info or 'not installed, skipped'}")

    weights, batches = initial_weights(args.seed), make_batches(args.seed)
    systems = build_systems(weights, batches, args.threads)
    losses = check_agreement(systems)
    print(f"first {CHECK_STEPS} losses agree: {', '.join(f'{v:.5f}' for v in losses['nablab'])}")
    print(f"timing {len(systems)} systems: {args.repeats} rounds × {args.steps} steps, "
          f"{args.threads} threads ...")
    with OtherLoad() as load:
        timings = time_interleaved(systems, args.steps, args.repeats, args.warmup)
    print(f"during the timing: {load.describe()}")

    extra = {"PyTorch": torch_info} if torch_info else {}
    extra["Other load during the timing"] = load.describe()
    section = report(timings, args, machine_info(extra))
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the section to {args.output}")


if __name__ == "__main__":
    main()
