"""Throughput of fully connected networks: nablab vs hand-written NumPy vs PyTorch (CPU).

Three workloads of the benchmark suite, chosen with ``--workload``:

- **W1**, the HLCV report's tuned TwoLayerNet: 3072-70-10 with ReLU, batch 600, plain SGD
  (lr 1e-3) on cross-entropy + the L2 penalty 0.25·Σ‖W‖²;
- **W2** (the default): a 784-512-512-10 ReLU MLP, batch 128, SGD with momentum 0.9 (lr 0.01);
- **W5**: inference of the W2 network at batch 1024 (forward only, no graph recorded).

A training step is forward, softmax cross-entropy loss (+ penalty), zero_grad, backward and the
update, on float32 batches of random samples. The three systems start from the same weights, see
the same batches, run in the same process with the same number of threads, and are first checked
to compute the same losses (or logits). They are then timed round-robin: warm-up steps, then
``--repeats`` rounds in which each system runs ``--steps`` timed steps.

    python benchmarks/bench_mlp.py --workload W2 --output BENCHMARKS.md

The hand-written NumPy version is the yardstick for nablab's own overhead: the same BLAS calls
with every buffer preallocated and no graph. Each report also gives the fraction of the machine's
float32 GEMM peak (measured) that the matrix products of a step reach.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from dataclasses import dataclass, field

import numpy as np
from common import (
    NUMPY,
    SETTLE_SECONDS,
    TORCH,
    OtherLoad,
    available_cores,
    blas_description,
    figures,
    fmt_rate,
    gemm_flops,
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

import nablab
from nablab import nn

N_BATCHES = 8  # distinct random batches, cycled through
CHECK_STEPS = 3  # steps whose losses must agree across the systems before anything is timed
# the W2 settings, which the CNN benchmark shares
LR, MOMENTUM = 0.01, 0.9


@dataclass(frozen=True)
class Workload:
    """One network, batch and update rule; ``targets`` maps a system to nablab's minimum ratio."""

    key: str
    title: str
    sizes: tuple[int, ...]
    batch: int
    lr: float = LR
    momentum: float = MOMENTUM
    l2: float = 0.0
    training: bool = True
    targets: dict[str, float] = field(default_factory=dict)

    @property
    def section_key(self) -> str:
        return f"bench_mlp_{self.key}"

    def describe_step(self) -> str:
        if not self.training:
            return "One step = the forward pass to the logits without recording a graph (`no_grad`)"
        update = f"SGD (lr {self.lr}" + (f", momentum {self.momentum})" if self.momentum else ", no momentum)")
        penalty = f" + L2 penalty {self.l2}·Σ‖W‖² (weights only)" if self.l2 else ""
        return f"One step = forward, cross-entropy loss{penalty}, `zero_grad`, backward, {update}"


WORKLOADS = {
    "W1": Workload("W1", "W1: TwoLayerNet training step (3072-70-10, batch 600)", (3072, 70, 10), 600,
                   lr=1e-3, momentum=0.0, l2=0.25, targets={TORCH: 1.1}),
    "W2": Workload("W2", "W2: MLP training step (784-512-512-10, batch 128)", (784, 512, 512, 10), 128,
                   targets={NUMPY: 0.9, TORCH: 1.0}),
    "W5": Workload("W5", "W5: MLP inference (784-512-512-10, batch 1024)", (784, 512, 512, 10), 1024,
                   training=False),
}


def make_batches(w: Workload, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``N_BATCHES`` batches of standard-normal float32 inputs with uniform random labels."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((w.batch, w.sizes[0]), dtype=np.float32),
             rng.integers(0, w.sizes[-1], size=w.batch, dtype=np.int64)) for _ in range(N_BATCHES)]


def initial_weights(w: Workload, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, W of shape (out, in), drawn by nablab's default (PyTorch-style) init."""
    nablab.manual_seed(seed)
    layers = [nn.Linear(n_in, n_out) for n_in, n_out in itertools.pairwise(w.sizes)]
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in layers]


# ----------------------------------------------------------------------------- the three systems
def nablab_model(weights) -> nn.Sequential:
    """Sequential of Linear/ReLU (no ReLU after the last Linear) holding copies of ``weights``."""
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.weight.data[...] = w
        linear.bias.data[...] = b
        layers += [linear] if i == len(weights) - 1 else [linear, nn.ReLU()]
    return nn.Sequential(*layers)


def nablab_step(w: Workload, weights, batches):
    """A nablab step of the workload: nn.Sequential, F.cross_entropy (+ F.l2_penalty), optim.SGD."""
    model = nablab_model(weights)
    if not w.training:
        data = itertools.cycle([nablab.Tensor(x) for x, _ in batches])

        def infer():
            with nablab.no_grad():
                return model(next(data)).data

        return infer
    return sgd_step(model, batches, lr=w.lr, momentum=w.momentum, l2=w.l2)


def sgd_step(model, batches, lr: float = LR, momentum: float = MOMENTUM, l2: float = 0.0, device=None):
    """A nablab training step of ``model`` on the cycled ``batches``: F.cross_entropy (+ the L2
    penalty), SGD (the step every benchmark times for nablab). With ``device`` the batches are moved
    there first (the model must be there already)."""
    opt = nablab.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    if device is None:
        data = itertools.cycle([(nablab.Tensor(x), y) for x, y in batches])
    else:
        data = itertools.cycle([(nablab.tensor(x).to(device), nablab.tensor(y).to(device)) for x, y in batches])

    def step():
        x, y = next(data)
        loss = nn.functional.cross_entropy(model(x), y)
        if l2:
            loss = loss + nn.functional.l2_penalty(model, reg=l2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


class NumpyMLP:
    """The same network and update written directly in NumPy, with hand-derived gradients.

    Layer i computes hᵢ = relu(hᵢ₋₁ Wᵢᵀ + bᵢ) (no ReLU on the logits). With p = softmax(logits),
    dL/dlogits = (p − onehot(y)) / N; then per layer dL/dWᵢ = gᵢᵀ hᵢ₋₁ (+ 2·reg·Wᵢ with the L2
    penalty reg·Σ‖Wᵢ‖²), dL/dbᵢ = 1ᵀ gᵢ and gᵢ₋₁ = (gᵢ Wᵢ) ⊙ [hᵢ₋₁ > 0]. SGD as PyTorch: with
    momentum μ, v ← g on the first step, else μv + g, and W ← W − ηv; without, W ← W − ηg. Every
    activation, gradient and mask buffer is allocated once; the GEMMs write into them with
    ``out=`` and the update runs in place, so a step allocates only a few small vectors.
    """

    def __init__(self, weights, batch: int, lr: float, momentum: float, l2: float):
        self.lr, self.momentum, self.l2 = np.float32(lr), np.float32(momentum), np.float32(l2)
        self.W = [w.copy() for w, _ in weights]
        self.b = [b.copy() for _, b in weights]
        self.gW = [np.empty_like(w) for w in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        self.v = [np.empty_like(p) for p in self.W + self.b] if momentum else None  # momentum buffers
        self.h = [np.empty((batch, w.shape[0]), np.float32) for w in self.W]  # layer outputs
        self.g = [np.empty((batch, w.shape[0]), np.float32) for w in self.W[:-1]]  # dL/d hidden
        self.mask = [np.empty((batch, w.shape[0]), bool) for w in self.W[:-1]]
        self.ones = np.ones(batch, np.float32)
        self.rows = np.arange(batch)
        self.first_step = True

    def forward(self, x) -> np.ndarray:
        """The logits, in the last layer's buffer."""
        W, b, h = self.W, self.b, self.h
        a = x
        for i in range(len(W)):
            np.matmul(a, W[i].T, out=h[i])
            h[i] += b[i]
            if i < len(W) - 1:
                np.maximum(h[i], 0, out=h[i])
            a = h[i]
        return h[-1]

    def step(self, x, y) -> np.float32:
        W, h, rows = self.W, self.h, self.rows
        # fused softmax cross-entropy: loss and dL/dlogits, in the logits' buffer
        z = self.forward(x)
        z -= z.max(axis=1, keepdims=True)
        picked = z[rows, y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = (np.log(total[:, 0]) - picked).mean()
        if self.l2:
            loss += self.l2 * sum(np.vdot(w, w) for w in W)
        z /= total
        z[rows, y] -= 1
        z *= np.float32(1 / len(x))
        # backward
        g = z
        for i in reversed(range(len(W))):
            a = h[i - 1] if i else x
            np.matmul(g.T, a, out=self.gW[i])
            if self.l2:
                self.gW[i] += (2 * self.l2) * W[i]
            np.matmul(self.ones, g, out=self.gb[i])
            if i:
                np.matmul(g, W[i], out=self.g[i - 1])
                np.greater(a, 0, out=self.mask[i - 1])
                g = np.multiply(self.g[i - 1], self.mask[i - 1], out=self.g[i - 1])
        # SGD, in place; the gradient buffer is reused for η·v (or η·g)
        for i, (p, grad) in enumerate(zip(W + self.b, self.gW + self.gb, strict=True)):
            if self.momentum:
                v = self.v[i]
                if self.first_step:
                    np.copyto(v, grad)
                else:
                    v *= self.momentum
                    v += grad
                np.multiply(v, self.lr, out=grad)
            else:
                grad *= self.lr
            p -= grad
        self.first_step = False
        return loss


def numpy_step(w: Workload, weights, batches):
    """A step of :class:`NumpyMLP` (its forward alone for an inference workload)."""
    net = NumpyMLP(weights, w.batch, w.lr, w.momentum, w.l2)
    data = itertools.cycle(batches)
    if not w.training:
        return lambda: net.forward(next(data)[0])
    return lambda: net.step(*next(data))


def torch_step(w: Workload, weights, batches, threads: int):
    """A PyTorch step: nn.Sequential of Linear/ReLU, F.cross_entropy (+ the same penalty), optim.SGD;
    for inference the forward under ``torch.no_grad()``."""
    import torch

    torch.set_num_threads(threads)
    layers = []
    for i, (weight, bias) in enumerate(weights):
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers += [linear] if i == len(weights) - 1 else [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers)
    data = itertools.cycle([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches])
    if not w.training:
        def infer():
            with torch.no_grad():
                return model(next(data)[0])

        return infer
    opt = torch.optim.SGD(model.parameters(), lr=w.lr, momentum=w.momentum)
    weights_only = [m.weight for m in model if isinstance(m, torch.nn.Linear)]

    def step():
        x, y = next(data)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        if w.l2:
            loss = loss + w.l2 * sum((p * p).sum() for p in weights_only)
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
def build_systems(w: Workload, weights, batches, threads: int) -> dict:
    """Name → fresh step function for every system available."""
    systems = {"nablab": nablab_step(w, weights, batches), NUMPY: numpy_step(w, weights, batches)}
    if torch_description(threads) is not None:
        systems[TORCH] = torch_step(w, weights, batches, threads)
    return systems


def as_numpy(value) -> np.ndarray:
    """A step's result (loss or logits, from any of the systems) as a NumPy array."""
    value = value.detach() if hasattr(value, "detach") else value
    value = value.numpy() if hasattr(value, "numpy") else value
    return np.asarray(value, dtype=np.float64)


def check_agreement(systems: dict, label: str) -> list[float]:
    """Run ``CHECK_STEPS`` steps of each system and require the same losses or logits (float32
    tolerance); returns nablab's losses (or the mean logit of each inference step)."""
    results = {name: [as_numpy(step()) for _ in range(CHECK_STEPS)] for name, step in systems.items()}
    reference = results["nablab"]
    for name, values in results.items():
        if not all(np.allclose(v, r, rtol=1e-3, atol=1e-4) for v, r in zip(values, reference, strict=True)):
            sys.exit(f"bench_mlp {label}: {name} computes different results than nablab")
    return [float(r.mean()) for r in reference]


def report(w: Workload, timings: dict, result: dict, args, info: dict) -> str:
    """The Markdown section: results table, ratios, GEMM fractions, method and machine."""
    ref = timings[NUMPY].median
    fractions = result["gemm_fraction"]
    rows = [[name, fmt_rate(t.median * w.batch), f"{fmt_rate(t.min * w.batch)}–{fmt_rate(t.max * w.batch)}",
             f"{t.ms_per_step:.2f}", f"{t.median / ref:.2f}×", f"{fractions[name]:.0%}"] for name, t in timings.items()]
    table = markdown_table(["system", "samples/s (median)", "samples/s (min–max)", "ms/step (median)",
                            "vs NumPy", "of the GEMM peak"], rows)
    lines = [f"- {ratio_line(timings, 'nablab', other, w.targets.get(other))}" for other in (NUMPY, TORCH)
             if other in timings]
    lines += [f"- nablab / {other}: not measured ({other} is not installed); target ≥ {t}"
              for other, t in w.targets.items() if other not in timings]
    lines.append(noisy_note(timings))
    lines.append(f"- GEMM peak of this machine: {gemm_peak_text(result['gemm_peak_gflops'])}; a step's matrix "
                 f"products are {result['gemm_flops_per_step'] / 1e6:.0f} MFLOP")
    method = (f"{w.describe_step()}; float32, batch {w.batch}, {N_BATCHES} random batches (seed {args.seed}) cycled, "
              f"the same initial weights for all systems, whose first {CHECK_STEPS} results are checked "
              f"to agree. {args.warmup} warm-up steps each, then {args.repeats} rounds of {args.steps} "
              f"timed steps per system, each block after {SETTLE_SECONDS} s idle and {min(args.warmup, 3)} untimed "
              f"steps, round-robin, in one process with {args.threads} threads (threadpoolctl for NumPy's BLAS, "
              "`torch.set_num_threads` for PyTorch). The hand-written NumPy version preallocates every buffer "
              "and updates in place. \"Of the GEMM peak\": the step's matrix-product FLOPs × steps/s over the "
              "machine's GEMM rate.")
    return "\n\n".join([f"## {w.title}", method, table, "\n".join(filter(None, lines)), machine_lines(info)])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="W2", help="which network (default W2)")
    parser.add_argument("--repeats", type=int, default=30, help="timed rounds per system (default 30)")
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round (default 30)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (default 10)")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the section into this Markdown file (e.g. BENCHMARKS.md)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON (for suite.py)")
    parser.add_argument("--gemm-peak", metavar="FILE", help="read the GEMM peak from this JSON file (suite.py "
                        "measures it once) instead of measuring it")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.steps < 1 or args.threads < 1 or args.warmup < 0:
        parser.error("need --repeats ≥ 1, --steps ≥ 1, --threads ≥ 1 and --warmup ≥ 0")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    w = WORKLOADS[args.workload]
    limit_threads(args.threads)
    torch_info = torch_description(args.threads)
    print(f"{w.title}\nNumPy BLAS: {blas_description()}")
    print(f"PyTorch:    {torch_info or 'not installed, skipped'}")

    weights, batches = initial_weights(w, args.seed), make_batches(w, args.seed)
    systems = build_systems(w, weights, batches, args.threads)
    checked = check_agreement(systems, w.key)
    print(f"first {CHECK_STEPS} results agree: {', '.join(f'{v:.5f}' for v in checked)}")
    flops = gemm_flops(nablab_step(w, weights, batches))["training" if w.training else "forward"]
    peak = load_or_measure_gemm_peak(args.gemm_peak, args.threads)
    print(f"GEMM peak {gemm_peak_text(peak)}; {flops / 1e6:.0f} MFLOP of matrix products per step")
    print(f"timing {len(systems)} systems: {args.repeats} rounds × {args.steps} steps, {args.threads} threads ...")
    with OtherLoad() as load:
        timings = time_interleaved(systems, args.steps, args.repeats, args.warmup)
    print(f"during the timing: {load.describe()}")

    extra = {"PyTorch": torch_info} if torch_info else {}
    extra["Other load during the timing"] = load.describe()
    result = figures(w.key, w.title, w.batch, timings, w.targets, flops, peak)
    section = report(w, timings, result, args, machine_info(extra))
    print()
    print(section)
    if args.output:
        write_section(args.output, w.section_key, section)
        print(f"\nwrote the section to {args.output}")
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
