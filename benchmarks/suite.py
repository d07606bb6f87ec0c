"""The benchmark suite: W1–W9 and the hot single ops on this machine, each in a fresh process, and a summary
against the targets.

    python benchmarks/suite.py --output BENCHMARKS.md        # or: nablab bench --output BENCHMARKS.md
    python benchmarks/suite.py --workload W1 W5 --quick      # a short smoke run of two workloads

Workloads (samples/s of nablab, hand-written NumPy and PyTorch on the CPU):

- W1: the TwoLayerNet 3072-70-10, batch 600 (``bench_mlp.py --workload W1``);
- W2: the MLP 784-512-512-10, batch 128, SGD momentum (``bench_mlp.py --workload W2``);
- W3 and W4: the small CNN and the VGGNet, batch 64, with W4's step peak memory;
- W5: inference of the W2 network at batch 1024 (``bench_mlp.py --workload W5``);
- W6 and W7: the MNIST network of pytorch/examples (1×28×28) and a small residual network
  (3×32×32), batch 64;
- W8 and W9: training steps of a character LSTM language model (``CharRNN``: embedding 64 → LSTM
  256 → 65 characters, Adam) and of ``TinyGPT`` (4 blocks × 4 heads, n_embd 128, AdamW), batch 32
  windows of 64 characters, against the same architectures in ``torch.nn`` (``bench_sequence.py``;
  needs PyTorch);
- OPS: hot single ops (softmax, log_softmax, nll_loss, layer_norm, embedding, gelu, conv1d) at
  realistic sizes, forward + backward and forward, against PyTorch (``bench_ops.py``; needs PyTorch).

The CNN workloads (W3, W4, W6, W7) run in one process of ``bench_cnn.py``, need PyTorch (their
yardstick), and each also runs nablab's step in ``--processes`` fresh processes (default 6), a few
seconds each: the slowest process's median step against the median process's.

The GEMM peak is measured once, here, and handed to every script. Each script runs in its own
process (so no workload inherits another's memory or thread pools), writes its own section of the
report when ``--output`` is given, and leaves its figures as JSON; this script then writes the
summary section: every workload's throughput, nablab's ratio to each target system, the verdict,
and the fraction of the machine's GEMM peak each system reaches. Targets: W1 ≥ 1.1× PyTorch; W2
≥ 1.0× PyTorch and ≥ 0.9× hand-written NumPy; W3, W4, W6, W7 ≥ 0.6× PyTorch, each with its slowest
fresh process within 1.25× of the median one; W4's step peak memory ≤ 2× PyTorch's; W8, W9 ≥ 0.5×
PyTorch; each op of OPS ≥ 0.5× PyTorch (PyTorch's time over nablab's) in both modes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    NUMPY,
    TORCH,
    available_cores,
    command_line,
    fmt_rate,
    gemm_peak,
    gemm_peak_text,
    machine_info,
    machine_lines,
    markdown_table,
    ratio_text,
    write_json,
    write_section,
)

ROOT = Path(__file__).resolve().parent.parent  # the scripts run from the repository root
SECTION_KEY = "bench_suite"
ALL = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "OPS")
CNN = ("W3", "W4", "W6", "W7")  # bench_cnn.py's, in one process
SEQUENCE = ("W8", "W9")  # bench_sequence.py's, in one process
OPS = "OPS"  # bench_ops.py's
NEEDS_TORCH = (*CNN, *SEQUENCE, OPS)  # the workloads whose only yardstick is PyTorch
PROCESSES, QUICK_PROCESSES = 6, 2  # fresh processes per CNN workload (default, and under --quick)
QUICK = {"bench_mlp.py": ["--repeats", "2", "--steps", "3", "--warmup", "2"],
         "bench_cnn.py": ["--repeats", "1", "--steps", "1", "--warmup", "0", "--vgg-repeats", "1", "--vgg-steps", "1",
                          "--check-steps", "1", "--spread-steps", "1"],
         "bench_sequence.py": ["--quick"],
         "bench_ops.py": ["--repeats", "1", "--block-seconds", "0", "--warmup", "1", "--tiny"]}
#: the scripts that report fractions of the GEMM peak
USES_GEMM_PEAK = ("bench_mlp.py", "bench_cnn.py", "bench_sequence.py")


def runs(workloads: list[str], processes: int) -> list[tuple[str, list[str]]]:
    """(script, arguments) for each process the chosen workloads need; the CNN workloads share one, and so
    do the sequence models."""
    planned = [("bench_mlp.py", ["--workload", w]) for w in workloads if w not in NEEDS_TORCH]
    cnn = [w for w in workloads if w in CNN]
    if cnn:
        planned.append(("bench_cnn.py", ["--workload", *cnn, "--processes", str(processes)]))
    sequence = [w for w in workloads if w in SEQUENCE]
    if sequence:
        planned.append(("bench_sequence.py", ["--workload", *sequence]))
    if OPS in workloads:
        planned.append(("bench_ops.py", []))
    return planned


def shown_path(path: Path) -> str:
    """``path`` relative to the repository root when it lies inside it (as the command is recorded)."""
    return os.path.relpath(path, ROOT) if path.is_relative_to(ROOT) else str(path)


def run_all(workloads: list[str], peak: dict, args) -> dict[str, dict]:
    """Run every script in a subprocess; returns workload → its JSON figures."""
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "gemm_peak.json"
        write_json(peak_file, peak)
        for i, (script, extra) in enumerate(runs(workloads, args.processes)):
            out = Path(tmp) / f"{i}.json"
            cmd = [sys.executable, f"benchmarks/{script}", *extra, "--threads", str(args.threads)]
            cmd += ["--gemm-peak", str(peak_file)] if script in USES_GEMM_PEAK else []
            cmd += QUICK[script] if args.quick else []
            cmd += ["--output", shown_path(args.output)] if args.output else []
            print(f"+ {command_line(cmd[1:])}", flush=True)
            done = subprocess.run([*cmd, "--json", str(out)], cwd=ROOT, check=False)
            if done.returncode != 0:
                sys.exit(f"suite: {script} {' '.join(extra)} failed (exit status {done.returncode})")
            data = json.loads(out.read_text())
            figures.update(data if "workload" not in data else {data["workload"]: data})
    return {w: figures[w] for w in workloads if w in figures}


def summary(figures: dict[str, dict], peak: dict, skipped: list[str], quick: bool, info: dict) -> str:
    """The summary section: one row per workload, the table of hot single ops, then the verdicts (and
    what was skipped)."""
    rows, verdicts = [], [f"- {key}: skipped (needs PyTorch, which is not installed)" for key in skipped]
    ops = None
    for key, f in figures.items():
        if "ops" in f:
            ops = ops_table(f)
            verdicts.append(ops_verdict(key, f))
            continue
        rates, fractions = f["samples_per_s"], f["gemm_fraction"]
        cells = [f["title"]] + [fmt_rate(rates[s]) if s in rates else "–" for s in ("nablab", NUMPY, TORCH)]
        cells += [f"{f['ratios'][s]:.2f}×" if s in f["ratios"] else "–" for s in (NUMPY, TORCH)]
        cells += [f"{fractions[s]:.0%}" if s in fractions else "–" for s in ("nablab", TORCH)]
        rows.append(cells)
        for other, t in f["targets"].items():
            if t["ratio"] is None:
                verdicts.append(f"- {key}: nablab / {other} not measured ({other} is not installed), "
                                f"target ≥ {t['target']}")
            else:
                verdicts.append(f"- {key}: nablab / {other} {ratio_text(t['ratio'], t['target'])}, "
                                f"target ≥ {t['target']}: "
                                f"{'met' if t['met'] else 'NOT met'}")
        if "spread" in f:
            s = f["spread"]
            verdicts.append(f"- {key}: slowest of {len(s['ms_per_step'])} fresh processes "
                            f"{ratio_text(s['ratio'], s['target'], at_least=False)}× the "
                            f"median one ({s['slowest_ms']:,.0f} against {s['median_ms']:,.0f} ms per step), target "
                            f"≤ {s['target']:g}×: {'met' if s['met'] else 'NOT met'}")
        if "memory" in f:
            m = f["memory"]
            verdicts.append(f"- {key}: step peak memory nablab / PyTorch "
                            f"{ratio_text(m['ratio'], m['target'], at_least=False)}× ({m['nablab_mib']:,.0f} "
                            f"against {m['torch_mib']:,.0f} MiB), target ≤ {m['target']:g}×: "
                            f"{'met' if m['met'] else 'NOT met'}")
    table = markdown_table(["workload", "nablab samples/s", "NumPy samples/s", "PyTorch samples/s",
                            "nablab / NumPy", "nablab / PyTorch", "nablab of GEMM peak",
                            "PyTorch of GEMM peak"], rows) if rows else None
    intro = ("Every workload in a fresh process, all from the one run of the suite recorded here (the "
             "sections below give each one's method and spread); samples/s are medians over the timed rounds, "
             f"ratios the medians of the per-round ratios. GEMM peak: {gemm_peak_text(peak)}, measured once "
             "for all workloads."
             + (" **Quick run** (a few steps per system, the ops and the sequence models at tiny sizes): a smoke "
                "test, not a measurement."
                if quick else ""))
    parts = ["## The benchmark suite (CPU)", intro, table, ops, "\n".join(verdicts), machine_lines(info)]
    return "\n\n".join(filter(None, parts))


def ops_table(f: dict) -> str:
    """bench_ops.py's figures as one row per op: PyTorch's time over nablab's in each mode, and the
    verdict against the target (or why the op was not timed)."""
    rows = []
    for r in f["ops"]:
        modes = r["modes"]
        cells = [f"{ratio_text(modes[m]['ratio'], f['target'])}×" if m in modes else "–"
                 for m in ("forward+backward", "forward")]
        met = all(m["met"] for m in modes.values())
        rows.append([f"`{r['op']}`", r["shape"], *cells, r["note"] if r["status"] != "timed"
                     else ("met" if met else "NOT met")])
    return (f"{f['title']} (PyTorch's time / nablab's: > 1 means nablab is faster):\n\n"
            + markdown_table(["op", "shape", "forward + backward", "forward", f"target ≥ {f['target']}× in both"],
                             rows, align="llrrl"))


def ops_verdict(key: str, f: dict) -> str:
    """``- OPS: 5 of 7 ops ≥ 0.5× PyTorch in both modes: NOT met (not: gelu, conv1d)``."""
    met = [r["op"] for r in f["ops"] if r["status"] == "timed" and all(m["met"] for m in r["modes"].values())]
    not_met = [r["op"] for r in f["ops"] if r["op"] not in met]
    return (f"- {key}: {len(met)} of {len(f['ops'])} ops ≥ {f['target']}× PyTorch in both modes: "
            + ("met" if not not_met else f"NOT met (not: {', '.join(not_met)})"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", nargs="+", choices=ALL, default=list(ALL), help="workloads to run (default all)")
    parser.add_argument("--quick", action="store_true", help="a few steps per system: checks the suite runs")
    parser.add_argument("--processes", type=int, default=None,
                        help=f"fresh processes timing nablab's step per CNN workload (default {PROCESSES}, "
                             f"{QUICK_PROCESSES} with --quick)")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--output", metavar="FILE", type=Path,
                        help="write every section and the summary into this Markdown file (e.g. BENCHMARKS.md)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.processes is not None and args.processes < 1:
        parser.error(f"--processes must be at least 1, got {args.processes}")
    if args.processes is None:
        args.processes = QUICK_PROCESSES if args.quick else PROCESSES
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.output:
        args.output = args.output.resolve()
    workloads = [w for w in ALL if w in args.workload]
    skipped = []
    if importlib.util.find_spec("torch") is None:
        skipped = [w for w in workloads if w in NEEDS_TORCH]
        workloads = [w for w in workloads if w not in skipped]
        if skipped:
            print(f"suite: {', '.join(skipped)} need PyTorch (their yardstick), which is not installed: skipped")
    # the peak is the faster of NumPy's and PyTorch's GEMM: measured without PyTorch, PyTorch's own steps could
    # show above 100% of it (a quick run of NumPy-only workloads need not wait for PyTorch's import)
    with_torch = not args.quick or any(w in NEEDS_TORCH for w in workloads)
    peak = gemm_peak(args.threads, with_torch=with_torch)
    print(f"GEMM peak: {gemm_peak_text(peak)}", flush=True)
    section = summary(run_all(workloads, peak, args), peak, skipped, args.quick, machine_info())
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the summary to {args.output}")


if __name__ == "__main__":
    main()
