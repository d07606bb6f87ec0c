"""Hot single ops: nablab against PyTorch (CPU), forward + backward and forward alone (workload OPS).

Seven functions of ``nn.functional`` that a transformer or a 1-D CNN runs on every step, each at
a size it meets in practice, called through the same PyTorch-style spelling in both libraries:

- ``softmax(x, dim=-1)`` and ``log_softmax(x, dim=-1)`` of (256, 10000): a language model's output
  over a 10k-word vocabulary for 256 tokens;
- ``nll_loss(logp, target)`` of (1024, 1000) log-probabilities and 1024 class indices (mean): an
  ImageNet classifier's loss at batch 1024;
- ``layer_norm(x, (768,), weight, bias)`` of (64, 128, 768): BERT-base's activations, batch 64 of
  128 tokens;
- ``embedding(idx, weight)`` of (64, 128) indices into a (30000, 512) table: a word embedding;
- ``gelu(x)`` (exact, with erf) of (64, 128, 3072): BERT-base's feed-forward hidden layer;
- ``conv1d(x, weight, bias, padding=1)`` of (32, 64, 512) with a (128, 64, 3) kernel: a 1-D CNN
  layer on sequences (audio, text) of length 512.

"Forward + backward" is one call with a graph recorded and ``backward`` of a fixed random
upstream gradient dL/dy (of the scalar loss itself for ``nll_loss``), every input's ``.grad``
reset first; "forward" is the call under ``no_grad``. Both libraries get the same float32 inputs
and upstream gradient, run in one process with the same number of threads, and are first checked
to agree (the output and every input's gradient, at float32 tolerances). They are then timed
round-robin with the suite's helpers; the figure per op is PyTorch's time over nablab's (the
median of the per-round ratios, so > 1 means nablab is faster), against the target ≥ 0.5×.

    python benchmarks/bench_ops.py --output BENCHMARKS.md
    python benchmarks/bench_ops.py --op gelu conv1d --tiny       # a smoke run at tiny sizes

An op that ``nablab.nn.functional`` does not have, that raises, or whose numbers differ from
PyTorch's is reported as such in the table and not timed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from common import (
    SETTLE_SECONDS,
    TORCH,
    OtherLoad,
    available_cores,
    blas_description,
    limit_threads,
    machine_info,
    machine_lines,
    markdown_table,
    paired_ratio,
    ratio_text,
    time_interleaved,
    write_json,
    write_section,
)

import nablab

KEY, SECTION_KEY = "OPS", "bench_ops"
TITLE = "OPS: hot single ops against PyTorch (CPU)"
TARGET = 0.5  # PyTorch's time / nablab's, per op and mode
MODES = {"forward+backward": "train", "forward": "forward"}  # mode → the System call it times
RTOL, ATOL = 1e-4, 3e-5  # float32 agreement: |a − b| ≤ ATOL·max|b| + RTOL·|b|
MAX_STEPS = 1000  # calls per timed block at the most
MIN_ROUNDS = 3  # timed rounds per op and mode at the least (unless --repeats asks for fewer)


@dataclass(frozen=True)
class Input:
    """One argument of an op: its float32 (or index) data and whether it gets a gradient."""

    name: str
    data: np.ndarray
    grad: bool


@dataclass(frozen=True)
class Op:
    """One benchmarked function: ``call(F, *inputs)`` with ``F`` nablab's or PyTorch's
    ``nn.functional``; ``make(rng, **size)`` draws its inputs; ``size`` is the realistic size and
    ``tiny`` the size of a smoke run; ``shape(**size)`` says the size in the table."""

    name: str
    call: Callable
    make: Callable
    size: dict
    tiny: dict
    shape: Callable


def _normal(rng, *shape, scale=1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)


def _rows(rng, n, c):
    return [Input("x", _normal(rng, n, c, scale=3.0), True)]


def _log_probabilities(rng, n, c):
    z = _normal(rng, n, c, scale=2.0)
    z -= z.max(axis=1, keepdims=True)
    logp = (z - np.log(np.exp(z).sum(axis=1, keepdims=True))).astype(np.float32)
    return [Input("logp", logp, True), Input("target", rng.integers(0, c, size=n, dtype=np.int64), False)]


def _tokens(rng, b, t, d):
    return [Input("x", _normal(rng, b, t, d), True), Input("weight", 1 + _normal(rng, d, scale=0.1), True),
            Input("bias", _normal(rng, d, scale=0.1), True)]


def _lookup(rng, b, t, v, d):
    indices = rng.integers(0, v, size=(b, t), dtype=np.int64)
    return [Input("idx", indices, False), Input("weight", _normal(rng, v, d), True)]


def _hidden(rng, b, t, h):
    return [Input("x", _normal(rng, b, t, h), True)]


def _sequences(rng, n, ci, co, length, k):
    return [Input("x", _normal(rng, n, ci, length), True),
            Input("weight", _normal(rng, co, ci, k, scale=1 / math.sqrt(ci * k)), True),
            Input("bias", _normal(rng, co, scale=0.1), True)]


OPS = (
    Op("softmax", lambda F, x: F.softmax(x, dim=-1), _rows, dict(n=256, c=10000), dict(n=8, c=50),
       lambda n, c: f"({n}, {c}), dim=-1"),
    Op("log_softmax", lambda F, x: F.log_softmax(x, dim=-1), _rows, dict(n=256, c=10000), dict(n=8, c=50),
       lambda n, c: f"({n}, {c}), dim=-1"),
    Op("nll_loss", lambda F, logp, target: F.nll_loss(logp, target), _log_probabilities, dict(n=1024, c=1000),
       dict(n=16, c=10), lambda n, c: f"({n}, {c}) log-probabilities, mean"),
    Op("layer_norm", lambda F, x, w, b: F.layer_norm(x, tuple(w.shape), w, b), _tokens, dict(b=64, t=128, d=768),
       dict(b=2, t=4, d=16), lambda b, t, d: f"({b}, {t}, {d}) over the last dim, affine"),
    Op("embedding", lambda F, idx, w: F.embedding(idx, w), _lookup, dict(b=64, t=128, v=30000, d=512),
       dict(b=2, t=4, v=50, d=8), lambda b, t, v, d: f"({b}, {t}) indices into ({v}, {d})"),
    Op("gelu", lambda F, x: F.gelu(x), _hidden, dict(b=64, t=128, h=3072), dict(b=2, t=4, h=32),
       lambda b, t, h: f"({b}, {t}, {h}), exact (erf)"),
    Op("conv1d", lambda F, x, w, b: F.conv1d(x, w, b, padding=w.shape[-1] // 2), _sequences,
       dict(n=32, ci=64, co=128, length=512, k=3), dict(n=2, ci=3, co=4, length=16, k=3),
       lambda n, ci, co, length, k: f"({n}, {ci}, {length}) → {co} channels, k={k}, padding={k // 2}"),
)
BY_NAME = {op.name: op for op in OPS}


# ----------------------------------------------------------------------------- the two systems
@dataclass
class System:
    """One library's calls of an op on its own copies of the inputs: ``train`` (forward + backward)
    and ``forward`` (no graph) for the timing, ``results`` (output and gradients) for the check."""

    train: Callable
    forward: Callable
    results: Callable


def nablab_system(op: Op, inputs: list[Input], gy: np.ndarray | None) -> System:
    """The op through ``nablab.nn.functional`` on nablab tensors (copies of the inputs)."""
    F = nablab.nn.functional
    tensors = [nablab.Tensor(i.data.copy(), requires_grad=i.grad) for i in inputs]
    leaves = [t for t, i in zip(tensors, inputs, strict=True) if i.grad]

    def train():
        for t in leaves:
            t.grad = None
        out = op.call(F, *tensors)
        out.backward(gy)
        return out

    def forward():
        with nablab.no_grad():
            return op.call(F, *tensors)

    def results():
        out = train()
        grads = {f"grad of {i.name}": None if t.grad is None else t.grad.data
                 for t, i in zip(tensors, inputs, strict=True) if i.grad}
        return {"output": out.data, **grads, "output without a graph": forward().data}

    return System(train, forward, results)


def torch_system(op: Op, inputs: list[Input], gy: np.ndarray | None) -> System:
    """The op through ``torch.nn.functional`` on torch tensors (copies of the inputs)."""
    import torch

    F = torch.nn.functional
    tensors = [torch.from_numpy(i.data.copy()).requires_grad_(i.grad) for i in inputs]
    leaves = [t for t, i in zip(tensors, inputs, strict=True) if i.grad]
    upstream = None if gy is None else torch.from_numpy(gy)

    def train():
        for t in leaves:
            t.grad = None
        out = op.call(F, *tensors)
        out.backward(upstream)
        return out

    def forward():
        with torch.no_grad():
            return op.call(F, *tensors)

    def results():
        out = train()
        return {"output": out.detach().numpy(), **{f"grad of {i.name}": t.grad.numpy()
                                                   for t, i in zip(tensors, inputs, strict=True) if i.grad},
                "output without a graph": forward().numpy()}

    return System(train, forward, results)


def upstream_gradient(op: Op, inputs: list[Input], rng) -> np.ndarray | None:
    """A fixed random dL/dy of the op's output shape (PyTorch's, the yardstick), or None for a
    scalar output (its backward starts from 1)."""
    import torch

    with torch.no_grad():
        shape = tuple(op.call(torch.nn.functional, *[torch.from_numpy(i.data) for i in inputs]).shape)
    return _normal(rng, *shape) if shape else None


def disagreement(mine: dict, theirs: dict) -> str | None:
    """None when every array agrees (shape, dtype, values at float32 tolerance), else what differs."""
    for name, ref in theirs.items():
        if mine[name] is None:
            return f"{name}: none computed (backward did not reach it)"
        got = np.asarray(mine[name])
        if got.shape != ref.shape or got.dtype != ref.dtype:
            return f"{name} is {got.dtype} of shape {got.shape}, PyTorch's {ref.dtype} of shape {ref.shape}"
        scale = float(np.abs(ref).max()) if ref.size else 1.0
        if not np.allclose(got, ref, rtol=RTOL, atol=ATOL * scale):
            error = float(np.abs(got.astype(np.float64) - ref).max())
            return f"{name} differs from PyTorch's by up to {error:.3g} (largest |value| {scale:.3g})"
    return None


# ----------------------------------------------------------------------------- timing
def plan(calls: list[Callable], args) -> tuple[int, int]:
    """(calls per timed block, rounds) for the systems' ``calls``, from one untimed call of each.

    A block is as many calls as make the slower system's last about ``--block-seconds`` (at least
    one, at most ``MAX_STEPS``). The rounds are ``--repeats``, fewer where a round (both systems'
    settling, untimed and timed calls) would make the op's timing outlast ``--op-seconds``, but at
    least ``MIN_ROUNDS`` (and never more than ``--repeats``).
    """
    slowest = 0.0
    for call in calls:
        start = time.perf_counter()
        call()
        slowest = max(slowest, time.perf_counter() - start)
    steps = max(1, min(MAX_STEPS, math.ceil(args.block_seconds / slowest))) if slowest > 0 else MAX_STEPS
    per_round = len(calls) * (SETTLE_SECONDS + (min(args.warmup, 3) + steps) * slowest)
    rounds = min(args.repeats, max(MIN_ROUNDS, math.floor(args.op_seconds / per_round)))
    return steps, rounds


def bench_op(op: Op, size: dict, args) -> dict:
    """Check one op against PyTorch, then time both modes; its JSON record."""
    rng = np.random.default_rng(args.seed)
    inputs = op.make(rng, **size)
    record = {"op": op.name, "shape": op.shape(**size), "status": "timed", "note": None, "modes": {}}
    if not hasattr(nablab.nn.functional, op.name):
        return {**record, "status": "missing", "note": "missing in nablab"}
    gy = upstream_gradient(op, inputs, rng)
    theirs = torch_system(op, inputs, gy)
    try:
        mine = nablab_system(op, inputs, gy)
        mine_results = mine.results()
    except Exception as error:  # noqa: BLE001 - any failure of nablab's op is reported in its row
        return {**record, "status": "fails", "note": f"fails in nablab: {type(error).__name__}: {error}"}
    differs = disagreement(mine_results, theirs.results())
    if differs:
        return {**record, "status": "differs", "note": differs}
    for mode, call in MODES.items():
        systems = {"nablab": getattr(mine, call), TORCH: getattr(theirs, call)}
        steps, rounds = plan(list(systems.values()), args)
        timings = time_interleaved(systems, steps, rounds, args.warmup)
        ratio, per_round = paired_ratio(timings, "nablab", TORCH)  # nablab's rate / PyTorch's
        record["modes"][mode] = {"nablab_ms": timings["nablab"].ms_per_step, "torch_ms": timings[TORCH].ms_per_step,
                                 "ratio": ratio, "ratio_range": [min(per_round), max(per_round)],
                                 "calls_per_block": steps, "rounds": rounds,
                                 "met": ratio >= TARGET}
        print(f"  {op.name:12} {mode:17} nablab {timings['nablab'].ms_per_step:9.3f} ms, PyTorch "
              f"{timings[TORCH].ms_per_step:9.3f} ms: {ratio:.2f}×", flush=True)
    return record


# ----------------------------------------------------------------------------- report
def verdict(record: dict, mode: str) -> str:
    if record["status"] != "timed":
        return record["note"]
    return "met" if record["modes"][mode]["met"] else "NOT met"


def mode_table(records: list[dict], mode: str) -> str:
    rows = []
    for r in records:
        m = r["modes"].get(mode)
        cells = ([f"{m['nablab_ms']:.4g}", f"{m['torch_ms']:.4g}", f"**{ratio_text(m['ratio'], TARGET)}×**",
                  f"{m['ratio_range'][0]:.2f}–{m['ratio_range'][1]:.2f}", f"{m['rounds']} × {m['calls_per_block']}"]
                 if m else ["–"] * 5)
        rows.append([f"`{r['op']}`", r["shape"], *cells, f"≥ {TARGET}×: {verdict(r, mode)}"])
    return markdown_table(["op", "shape", "nablab ms", "PyTorch ms", "PyTorch time / nablab time",
                           "per-round range", "rounds × calls", "target"], rows, align="llrrrrrl")


def report(records: list[dict], args, info: dict) -> str:
    """The Markdown section: method, a table per mode, the count of ops meeting the target, machine."""
    met = [r["op"] for r in records if r["status"] == "timed" and all(r["modes"][m]["met"] for m in MODES)]
    block = (f"as many calls as make the slower library's block last about {args.block_seconds:g} s"
             if args.block_seconds else "one call")
    method = (
        f"Each op called through `nablab.nn.functional` and `torch.nn.functional` with the same float32 inputs "
        f"(seed {args.seed}). Forward + backward: a call with the graph recorded and `backward` of a fixed random "
        "upstream gradient (of the loss itself for `nll_loss`), every input's `.grad` reset before; forward: the "
        "call under `no_grad`. Before timing, the output (with and without a graph) and every input's gradient "
        f"are checked to agree with PyTorch's (|a − b| ≤ {ATOL:g}·max|b| + {RTOL:g}·|b|). Then {args.warmup} "
        f"warm-up call(s) each and up to {args.repeats} rounds, round-robin, of one timed block per library "
        f"(after {SETTLE_SECONDS} s idle and {min(args.warmup, 3)} untimed call(s)) of {block}; fewer rounds "
        f"(≥ {MIN_ROUNDS}) where an op's rounds would take over {args.op_seconds:g} s. One process, "
        f"{args.threads} threads (`nablab.set_num_threads` for nablab's kernels, threadpoolctl for NumPy's BLAS, "
        f"`torch.set_num_threads` for PyTorch). ms: "
        "the median time of one call; the ratio is the median over the rounds of PyTorch's time over nablab's "
        "in the same round (> 1: nablab is faster).")
    if args.tiny:
        method += " **Tiny sizes** (`--tiny`): a smoke test, not a measurement."
    not_met = [r["op"] for r in records if r["op"] not in met]
    summary = f"- {len(met)} of {len(records)} ops meet ≥ {TARGET}× in both modes" + (
        f" (not: {', '.join(not_met)})" if not_met else "")
    return "\n\n".join([f"## {TITLE}", method, "### Forward + backward", mode_table(records, "forward+backward"),
                        "### Forward (no graph)", mode_table(records, "forward"), summary, machine_lines(info)])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--op", nargs="+", choices=list(BY_NAME), default=list(BY_NAME), help="ops (default all)")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds per op and mode (default 15)")
    parser.add_argument("--block-seconds", type=float, default=0.2,
                        help="length of the slower library's timed block, in seconds (default 0.2; 0: one call)")
    parser.add_argument("--op-seconds", type=float, default=30,
                        help=f"fewer rounds (but ≥ {MIN_ROUNDS}) where an op's timing would take longer (default 30)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls first (default 1)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the inputs (default 0)")
    parser.add_argument("--output", metavar="FILE", help="also write the section into this Markdown file")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON (for suite.py)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or args.warmup < 0 or args.block_seconds < 0 or args.op_seconds < 0:
        parser.error("need --repeats ≥ 1, --threads ≥ 1, --warmup ≥ 0, --block-seconds ≥ 0 and --op-seconds ≥ 0")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("bench_ops: PyTorch (the yardstick of these ops) is not installed")
    limit_threads(args.threads)
    torch.set_num_threads(args.threads)
    torch_info = f"{torch.__version__}, {torch.backends.cpu.get_cpu_capability()} kernels, {args.threads} threads"
    print(f"{TITLE}\nNumPy BLAS: {blas_description()}\nPyTorch:    {torch_info}", flush=True)
    with OtherLoad() as load:
        records = [bench_op(BY_NAME[name], BY_NAME[name].tiny if args.tiny else BY_NAME[name].size, args)
                   for name in args.op]
    print(f"during the timing: {load.describe()}")
    info = machine_info({"PyTorch": torch_info, "Other load during the timing": load.describe()})
    section = report(records, args, info)
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the section to {args.output}")
    if args.json:
        write_json(args.json, {"workload": KEY, "title": TITLE, "target": TARGET, "tiny": args.tiny, "ops": records})


if __name__ == "__main__":
    main()
