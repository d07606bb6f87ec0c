"""Training-step throughput of two sequence models: nablab vs PyTorch (CPU), the same threads for both.

- W8, a character LSTM language model: ``nablab.models.CharRNN(65, embed_dim=64, hidden_size=256)``
  (embedding 64 → one LSTM layer of 256 → Linear to a 65-character vocabulary), batches of 32
  windows of 64 characters, Adam (lr 3e-3, as experiments/char-lstm.toml).
- W9, a GPT-style decoder: ``nablab.models.TinyGPT(65, block_size=64, n_layer=4, n_head=4,
  n_embd=128)`` (pre-norm blocks, causal scaled-dot-product attention, GELU MLP, head tied to the
  token embedding), batches of 32 windows of 64 characters, AdamW (lr 1e-3, weight decay 0.01).

One step = forward, cross-entropy over every position, ``zero_grad``, backward, optimizer step.
The models are used as a user would (``nablab.models``, ``nablab.nn``, ``nablab.optim``), so the
figures follow whatever kernels those pick. The PyTorch side is the same architecture written
with ``torch.nn`` (``benchmarks/lm_torch_reference.py``'s ``TorchCharRNN`` and ``TorchTinyGPT``:
``torch.nn.LSTM``; a pre-norm decoder on ``scaled_dot_product_attention(is_causal=True)`` with a
tied head), holding the nablab model's initial weights (``nablab.io.to_torch``). Before anything is
timed, the first step's loss and every parameter's gradient are checked to agree, and then the
losses of a few more steps. The systems are then timed round-robin in one process with the same
threads (``nablab.set_num_threads``, ``torch.set_num_threads``, and NumPy's BLAS through
threadpoolctl): warm-up steps, then ``--repeats`` rounds in which each system runs ``--steps`` steps.

    python benchmarks/bench_sequence.py --output BENCHMARKS.md
    python benchmarks/bench_sequence.py --workload W8 --threads 1
    python benchmarks/bench_sequence.py --quick          # a smoke run: tiny models, one step per round

Target: nablab ≥ 0.5× PyTorch's throughput (PyTorch's time per step over nablab's) on each.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
from dataclasses import dataclass

import numpy as np
from bench_mlp import torch_description
from common import (
    TORCH,
    OtherLoad,
    available_cores,
    blas_description,
    figures,
    fmt_rate,
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

import nablab
from nablab import optim
from nablab.io import to_torch
from nablab.models import CharRNN, TinyGPT
from nablab.nn import functional as F

VOCAB = 65  # characters (Tiny Shakespeare's alphabet size)
N_BATCHES = 4  # distinct random batches, cycled through
CHECK_STEPS = 3  # steps whose losses must agree before anything is timed
SECTION_KEY = "bench_sequence"
TORCH_TARGET = 0.5  # nablab / PyTorch (CPU) throughput, each workload
# float32 agreement (both systems differ by ≈ 1e-7 in the losses and ≈ 3e-6 in the gradients here)
LOSS_RTOL = 1e-5  # first loss: relative difference
GRAD_RTOL = 1e-4  # each gradient: max |difference| over max |PyTorch's gradient|
STEPS_RTOL = 1e-4  # the losses of the steps after the first (the optimizer has moved the weights)


@dataclass(frozen=True)
class Size:
    """One size of a workload: the batch (windows × characters) and the model's keyword arguments."""

    batch: int
    seq: int
    model: dict

    @property
    def tokens(self) -> int:
        """Characters predicted per step."""
        return self.batch * self.seq


@dataclass(frozen=True)
class Workload:
    """A sequence model of the benchmark: its sizes, optimizer and learning rate."""

    key: str
    name: str
    full: Size
    tiny: Size
    optimizer: str  # the class name, the same in nablab.optim and torch.optim
    lr: float

    def title(self, size: Size) -> str:
        """The suite summary's row."""
        return f"{self.key}: {self.name} training step (batch {size.batch} windows of {size.seq} characters)"

    def heading(self, size: Size) -> str:
        m = size.model
        if self.key == "W8":
            arch = f"embedding {m['embed_dim']} → LSTM {m['hidden_size']} → Linear {VOCAB}"
        else:
            arch = f"{m['n_layer']} blocks × {m['n_head']} heads, n_embd {m['n_embd']}, block {size.seq}, tied head"
        return f"### {self.key}: {self.name} ({arch}; {self.optimizer} lr {self.lr:g})"


WORKLOADS = {w.key: w for w in (
    Workload("W8", "character LSTM language model",
             Size(32, 64, {"embed_dim": 64, "hidden_size": 256}), Size(4, 8, {"embed_dim": 8, "hidden_size": 16}),
             "Adam", 3e-3),
    Workload("W9", "TinyGPT",
             Size(32, 64, {"n_layer": 4, "n_head": 4, "n_embd": 128}), Size(4, 8, {"n_layer": 1, "n_head": 2,
                                                                                   "n_embd": 16}),
             "AdamW", 1e-3),
)}


def make_model(w: Workload, size: Size, seed: int):
    """A fresh nablab model with its own initialisation drawn from ``seed`` (dropout 0)."""
    nablab.manual_seed(seed)
    if w.key == "W8":
        return CharRNN(VOCAB, **size.model)
    return TinyGPT(VOCAB, block_size=size.seq, **size.model)


def make_batches(size: Size, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``N_BATCHES`` (input, target) pairs of uniform random character ids, each (batch, seq) int64."""
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, VOCAB, (size.batch, size.seq)), rng.integers(0, VOCAB, (size.batch, size.seq)))
            for _ in range(N_BATCHES)]


def gemm_macs(w: Workload, size: Size) -> int:
    """Multiply-adds of the forward's matrix products, counted from the shapes.

    W8: per character, the LSTM's input and recurrent projections E·4H and H·4H and the decoder
    H·V. W9: per character and block, the qkv projection C·3C, the output projection C·C, the MLP
    2·C·4C and the attention's two products q·kᵀ and weights·v, T·C each (all T × T scores,
    though the causal mask needs only half); then the head C·V.
    """
    m = size.model
    if w.key == "W8":
        e, h = m["embed_dim"], m["hidden_size"]
        per_token = e * 4 * h + h * 4 * h + h * VOCAB
    else:
        c = m["n_embd"]
        per_token = m["n_layer"] * (3 * c * c + c * c + 8 * c * c + 2 * size.seq * c) + c * VOCAB
    return size.tokens * per_token


def gemm_flops(w: Workload, size: Size) -> int:
    """Matrix-product FLOPs of one training step: 2 per multiply-add, and three products for each of
    the forward's (forward, dL/d(one operand), dL/d(the other)): every operand wants a gradient,
    the embeddings' outputs too (their tables are parameters)."""
    return 3 * 2 * gemm_macs(w, size)


# ----------------------------------------------------------------------------- the two systems
def nablab_step(model, w: Workload, batches):
    """A nablab training step of ``model`` (cycling through ``batches``); returns the loss Tensor."""
    opt = getattr(optim, w.optimizer)(model.parameters(), lr=w.lr)
    data = itertools.cycle([(nablab.tensor(x), nablab.tensor(y)) for x, y in batches])

    def step():
        x, y = next(data)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def torch_twin(w: Workload, size: Size, model):
    """The same network in ``torch.nn`` (lm_torch_reference's twins), holding ``model``'s weights."""
    from lm_torch_reference import TorchCharRNN, TorchTinyGPT

    m = size.model
    if w.key == "W8":
        twin = TorchCharRNN(VOCAB, m["embed_dim"], m["hidden_size"], 1, 0.0, False)
    else:
        twin = TorchTinyGPT(VOCAB, size.seq, m["n_layer"], m["n_head"], m["n_embd"], 0.0, True)
    missing, unexpected = twin.load_state_dict(to_torch(model), strict=False)
    if unexpected or set(missing) - {"lm_head.weight"}:  # the tied head is the embedding, loaded once
        sys.exit(f"bench_sequence {w.key}: the PyTorch twin does not fit the nablab model: missing {missing}, "
                 f"unexpected {unexpected}")
    return twin


def torch_step(twin, w: Workload, batches):
    """The PyTorch training step of ``twin``: the same loss and optimizer."""
    import torch

    opt = getattr(torch.optim, w.optimizer)(twin.parameters(), lr=w.lr)
    data = itertools.cycle([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches])

    def step():
        x, y = next(data)
        logits = twin(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def worst_gap(ours: np.ndarray, theirs: np.ndarray) -> float:
    """max |ours − theirs| over max |theirs| (the largest gap relative to the array's scale)."""
    return float(np.max(np.abs(ours - theirs)) / max(float(np.max(np.abs(theirs))), 1e-30))


def disagreement(model, twin, losses: tuple[float, float]) -> str | None:
    """What differs after the first step of both systems (its loss, a gradient), or None.

    ``losses``: the first step's loss of nablab and of PyTorch. The gradients are those the first
    step's backward left in ``.grad`` (the optimizer step does not clear them).
    """
    ours, theirs = losses
    if abs(ours - theirs) > LOSS_RTOL * abs(theirs):
        return f"the first loss differs: nablab {ours:.7g}, PyTorch {theirs:.7g}"
    twins = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        gap = worst_gap(p.grad.numpy(), twins[name].grad.numpy())
        if not gap <= GRAD_RTOL:
            return f"the gradient of {name} differs from PyTorch's by {gap:.2g} of its largest entry"
    return None


def check_agreement(w: Workload, systems: dict, model, twin, steps: int) -> tuple[list[float], float]:
    """Run ``steps`` steps of both systems; require the first loss and gradients, then the losses, to agree.

    Returns nablab's losses and the largest relative gradient gap of the first step.
    """
    losses = {name: [float(step().item())] for name, step in systems.items()}
    problem = disagreement(model, twin, (losses["nablab"][0], losses[TORCH][0]))
    if problem:
        sys.exit(f"bench_sequence {w.key}: {problem}")
    twins = dict(twin.named_parameters())
    gap = max(worst_gap(p.grad.numpy(), twins[name].grad.numpy()) for name, p in model.named_parameters())
    for name, step in systems.items():
        losses[name] += [float(step().item()) for _ in range(steps - 1)]
    if not np.allclose(losses["nablab"], losses[TORCH], rtol=STEPS_RTOL, atol=0):
        sys.exit(f"bench_sequence {w.key}: PyTorch computes different losses than nablab: {losses[TORCH]} "
                 f"vs {losses['nablab']}")
    return losses["nablab"], gap


# ----------------------------------------------------------------------------- timing and report
def counted(n: int, noun: str) -> str:
    """``1 step``, ``5 steps``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def time_workload(w: Workload, args) -> dict:
    """Check that the systems agree, then time them round-robin; returns the timings and what the report says."""
    size = w.tiny if args.tiny else w.full
    batches, model = make_batches(size, args.seed), make_model(w, size, args.seed)
    twin = torch_twin(w, size, model)
    systems = {"nablab": nablab_step(model, w, batches), TORCH: torch_step(twin, w, batches)}
    losses, gap = check_agreement(w, systems, model, twin, args.check_steps)
    print(f"{w.key}: losses of the first {counted(len(losses), 'step')} agree: "
          f"{', '.join(f'{v:.5f}' for v in losses)}; gradients within {gap:.1e} of their largest entry")
    print(f"{w.key}: timing {len(systems)} systems, {args.repeats} rounds × {args.steps} steps ...", flush=True)
    with OtherLoad() as load:
        timings = time_interleaved(systems, args.steps, args.repeats, args.warmup)
    print(f"{w.key}: {', '.join(f'{name} {t.median * size.tokens:,.0f}' for name, t in timings.items())} tokens/s; "
          f"{load.describe()}")
    del systems
    gc.collect()
    return {"size": size, "timings": timings, "flops": gemm_flops(w, size), "load": load.describe(),
            "checked": len(losses), "grad_gap": gap}


def fmt_steps(rate: float) -> str:
    """Steps/s with three significant figures, trailing zeros kept (``3.00``, ``0.450``, ``1,235``)."""
    return fmt_rate(rate) if rate >= 100 else f"{rate:#.3g}".rstrip(".")


def timing_table(timings: dict, size: Size, flops: int, peak: float) -> str:
    ref = timings[TORCH].median
    rows = [[name, fmt_steps(t.median), fmt_rate(t.median * size.tokens),
             f"{fmt_rate(t.min * size.tokens)}–{fmt_rate(t.max * size.tokens)}", f"{t.ms_per_step:,.1f}",
             f"{t.median / ref:.2f}×", f"{gemm_fraction(t.median, flops, peak):.0%}"]
            for name, t in timings.items()]
    return markdown_table(["system", "steps/s (median)", "tokens/s (median)", "tokens/s (min–max)",
                           "ms/step (median)", f"vs {TORCH}", "of the GEMM peak"], rows)


def workload_report(w: Workload, result: dict, args, peak: float) -> str:
    """One workload's subsection: how it was checked and timed, the table and the ratio line."""
    timings, size = result["timings"], result["size"]
    how = (f"{counted(args.repeats, 'round')} of {counted(args.steps, 'timed step')} per system, after "
           f"{counted(args.warmup, 'warm-up step')}; {size.tokens:,} characters per step. Checked first: the "
           f"losses of {counted(result['checked'], 'step')} agree, "
           f"and the first step's gradients within {result['grad_gap']:.1e} of each one's largest entry.")
    lines = [f"- {ratio_line(timings, 'nablab', TORCH, target=TORCH_TARGET)}",
             f"- Other load during the timing: {result['load']}", noisy_note(timings)]
    return "\n\n".join([w.heading(size), how, timing_table(timings, size, result["flops"], peak),
                        "\n".join(filter(None, lines))])


def report(results: dict, gemm_peak: dict, args, info: dict) -> str:
    """The Markdown section: method, one subsection per workload, machine."""
    flops = ", ".join(f"{key} {r['flops'] / 1e9:.2f} GFLOP" for key, r in results.items())
    method = (
        "One step = forward, cross-entropy over every position, `zero_grad`, backward, optimizer step; float32, "
        f"{N_BATCHES} batches of random character ids (vocabulary {VOCAB}, seed {args.seed}) cycled. The PyTorch "
        "side is the same architecture in `torch.nn` (`torch.nn.LSTM`; a pre-norm decoder on "
        "`scaled_dot_product_attention(is_causal=True)` with a tied head) holding nablab's initial weights "
        "(`nablab.io.to_torch`); the first step's loss and gradients, then a few steps' losses, are checked to "
        f"agree before the timing. Both run round-robin in one process with {counted(args.threads, 'thread')} "
        "(`nablab.set_num_threads`, `torch.set_num_threads`, threadpoolctl for NumPy's BLAS), each block after an "
        "idle pause (0.25 s) and untimed warm-up steps. Target: nablab / PyTorch ≥ "
        f"{TORCH_TARGET} (PyTorch's time per step over nablab's). \"Of the GEMM peak\": the step's matrix-product "
        f"FLOPs (counted from the shapes, forward and both gradients: {flops} per step) × steps/s over the "
        f"machine's GEMM rate, {gemm_peak_text(gemm_peak)}.")
    if args.tiny:
        method += " **Tiny sizes** (`--tiny`): a smoke test, not a measurement."
    parts = [f"## Sequence models: {' and '.join(results)}, training steps against PyTorch", method]
    parts += [workload_report(WORKLOADS[key], result, args, gemm_peak["peak"]) for key, result in results.items()]
    parts.append(machine_lines(info))
    return "\n\n".join(parts)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS),
                        help="workloads to run (default both)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per system (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first, and before each round (default 2)")
    parser.add_argument("--check-steps", type=int, default=CHECK_STEPS,
                        help=f"steps whose losses must agree before the timing (default {CHECK_STEPS})")
    parser.add_argument("--tiny", action="store_true", help="tiny models and batches: a smoke test, not a measurement")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: --tiny, one round of one step, no warm-up, one checked step")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for nablab, BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the section into this Markdown file (e.g. BENCHMARKS.md)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON (for suite.py)")
    parser.add_argument("--gemm-peak", metavar="FILE", help="read the GEMM peak from this JSON file (suite.py "
                        "measures it once) instead of measuring it")
    args = parser.parse_args(argv)
    if args.quick:
        args.tiny, args.repeats, args.steps, args.warmup, args.check_steps = True, 1, 1, 0, 1
    if min(args.repeats, args.steps, args.check_steps, args.threads) < 1 or args.warmup < 0:
        parser.error("need --repeats, --steps, --check-steps, --threads ≥ 1 and --warmup ≥ 0")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    limit_threads(args.threads)
    nablab.set_num_threads(args.threads)
    torch_info = torch_description(args.threads)
    if torch_info is None:
        sys.exit("bench_sequence: PyTorch is needed (its throughput is the yardstick)")
    import torch

    torch.set_num_threads(args.threads)
    print(f"NumPy BLAS: {blas_description()}")
    print(f"PyTorch:    {torch_info}")
    peak = load_or_measure_gemm_peak(args.gemm_peak, args.threads)
    print(f"GEMM peak {gemm_peak_text(peak)}")
    chosen = [WORKLOADS[key] for key in WORKLOADS if key in args.workload]
    results = {w.key: time_workload(w, args) for w in chosen}

    section = report(results, peak, args, machine_info({"PyTorch": torch_info}))
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the section to {args.output}")
    if args.json:
        out = {}
        for w in chosen:
            r, size = results[w.key], results[w.key]["size"]
            out[w.key] = figures(w.key, w.title(size), size.batch, r["timings"], {TORCH: TORCH_TARGET}, r["flops"],
                                 peak)
            out[w.key].update({"tokens_per_step": size.tokens, "tiny": args.tiny,
                               "tokens_per_s": {name: t.median * size.tokens for name, t in r["timings"].items()}})
        write_json(args.json, out)


if __name__ == "__main__":
    main()
