"""The benchmark suite: W1–W5 on this machine, each in a fresh process, and a summary against the targets.

    python benchmarks/suite.py --output BENCHMARKS.md        # or: nablab bench --output BENCHMARKS.md
    python benchmarks/suite.py --workload W1 W5 --quick      # a short smoke run of two workloads

Workloads (samples/s of nablab, hand-written NumPy and PyTorch on the CPU):

- W1: the TwoLayerNet 3072-70-10, batch 600 (``bench_mlp.py --workload W1``);
- W2: the MLP 784-512-512-10, batch 128, SGD momentum (``bench_mlp.py --workload W2``);
- W3 and W4: the small CNN and the VGGNet, batch 64, with W4's step peak memory (``bench_cnn.py``);
- W5: inference of the W2 network at batch 1024 (``bench_mlp.py --workload W5``).

Each script runs in its own process (so no workload inherits another's memory or thread pools),
writes its own section of the report when ``--output`` is given, and leaves its figures as JSON;
this script then writes the summary section: every workload's throughput, nablab's ratio to
each target system, the verdict, and the fraction of the machine's GEMM peak each system reaches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import available_cores, fmt_rate, machine_info, machine_lines, markdown_table, write_section

ROOT = Path(__file__).resolve().parent.parent  # the scripts run from the repository root
SECTION_KEY = "bench_suite"
ALL = ("W1", "W2", "W3", "W4", "W5")
NUMPY, TORCH = "NumPy (hand-written)", "PyTorch (CPU)"
QUICK = {"bench_mlp.py": ["--repeats", "2", "--steps", "3", "--warmup", "2"],
         "bench_cnn.py": ["--repeats", "1", "--steps", "1", "--warmup", "1", "--vgg-repeats", "1", "--vgg-steps", "1"]}


def runs(workloads: list[str]) -> list[tuple[str, list[str]]]:
    """(script, arguments) for each process the chosen workloads need; W3 and W4 share one."""
    planned = [("bench_mlp.py", ["--workload", w]) for w in workloads if w in ("W1", "W2", "W5")]
    if "W3" in workloads or "W4" in workloads:
        planned.append(("bench_cnn.py", [] if "W4" in workloads else ["--skip-vgg"]))
    return planned


def shown_path(path: Path) -> str:
    """``path`` relative to the repository root when it lies inside it (as the command is recorded)."""
    return os.path.relpath(path, ROOT) if path.is_relative_to(ROOT) else str(path)


def run_all(workloads: list[str], args) -> dict[str, dict]:
    """Run every script in a subprocess; returns workload → its JSON figures."""
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (script, extra) in enumerate(runs(workloads)):
            out = Path(tmp) / f"{i}.json"
            cmd = [sys.executable, f"benchmarks/{script}", *extra, "--threads", str(args.threads)]
            cmd += QUICK[script] if args.quick else []
            cmd += ["--output", shown_path(args.output)] if args.output else []
            print(f"+ python {' '.join(cmd[1:])}", flush=True)
            done = subprocess.run([*cmd, "--json", str(out)], cwd=ROOT, check=False)
            if done.returncode != 0:
                sys.exit(f"suite: {script} {' '.join(extra)} failed (exit status {done.returncode})")
            data = json.loads(out.read_text())
            figures.update(data if "workload" not in data else {data["workload"]: data})
    return {w: figures[w] for w in workloads if w in figures}


def summary(figures: dict[str, dict], quick: bool, info: dict) -> str:
    """The summary section: one row per workload, then the verdicts."""
    rows, verdicts = [], []
    for key, f in figures.items():
        rates, fractions = f["samples_per_s"], f["gemm_fraction"]
        cells = [f["title"]] + [fmt_rate(rates[s]) if s in rates else "–" for s in ("nablab", NUMPY, TORCH)]
        cells += [f"{f['ratios'][s]:.2f}×" if s in f["ratios"] else "–" for s in (NUMPY, TORCH)]
        cells += [f"{fractions[s]:.0%}" if s in fractions else "–" for s in ("nablab", TORCH)]
        rows.append(cells)
        for other, t in f["targets"].items():
            verdicts.append(f"- {key}: nablab / {other} {t['ratio']:.2f}, target ≥ {t['target']}: "
                            f"{'met' if t['met'] else 'NOT met'}")
        if "memory" in f:
            m = f["memory"]
            verdicts.append(f"- {key}: step peak memory nablab / PyTorch {m['ratio']:.2f}× ({m['nablab_mib']:,.0f} "
                            f"against {m['torch_mib']:,.0f} MiB), target ≤ {m['target']:g}×: "
                            f"{'met' if m['met'] else 'NOT met'}")
    table = markdown_table(["workload", "nablab samples/s", "NumPy samples/s", "PyTorch samples/s",
                            "nablab / NumPy", "nablab / PyTorch", "nablab of GEMM peak",
                            "PyTorch of GEMM peak"], rows)
    peak = next(iter(figures.values()))["gemm_peak_gflops"]
    intro = ("Every workload in a fresh process (the sections below give each one's method and spread); "
             "samples/s are medians over the timed rounds, ratios the medians of the per-round ratios. "
             f"GEMM peak: {peak['peak']:.0f} GFLOP/s (float32 2048×2048 products; "
             + ", ".join(f"{k} {v:.0f}" for k, v in peak.items() if k != "peak") + ")."
             + (" **Quick run** (a few steps per system): a smoke test, not a measurement." if quick else ""))
    return "\n\n".join(["## The benchmark suite (CPU)", intro, table, "\n".join(verdicts), machine_lines(info)])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", nargs="+", choices=ALL, default=list(ALL), help="workloads to run (default all)")
    parser.add_argument("--quick", action="store_true", help="a few steps per system: checks the suite runs")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for BLAS and PyTorch (default: all available cores)")
    parser.add_argument("--output", metavar="FILE", type=Path,
                        help="write every section and the summary into this Markdown file (e.g. BENCHMARKS.md)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.output:
        args.output = args.output.resolve()
    workloads = [w for w in ALL if w in args.workload]
    section = summary(run_all(workloads, args), args.quick, machine_info())
    print()
    print(section)
    if args.output:
        write_section(args.output, SECTION_KEY, section)
        print(f"\nwrote the summary to {args.output}")


if __name__ == "__main__":
    main()
