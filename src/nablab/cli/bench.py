"""``nablab bench``: the benchmark suite (W1–W9 against hand-written NumPy and PyTorch, and the hot single ops
against PyTorch) of a source checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "OPS")


def suite_dirs() -> list[Path]:
    """Where ``benchmarks/suite.py`` is looked for: the source tree's benchmarks/, then ./benchmarks."""
    return [Path(__file__).resolve().parents[3] / "benchmarks", Path.cwd() / "benchmarks"]


def add_parser(sub) -> None:
    bench = sub.add_parser("bench", help="time W1–W9 against hand-written NumPy and PyTorch, and the hot single ops "
                                         "against PyTorch (benchmarks/suite.py)")
    bench.add_argument("--workload", nargs="+", choices=WORKLOADS, default=list(WORKLOADS),
                       help="W1 TwoLayerNet, W2 MLP, W3 small CNN, W4 VGGNet, W5 MLP inference, W6 MNIST CNN, "
                            "W7 small ResNet, W8 character LSTM language model, W9 TinyGPT, OPS hot single ops "
                            "(softmax, log_softmax, nll_loss, layer_norm, embedding, gelu, conv1d) (default all)")
    bench.add_argument("--quick", action="store_true",
                       help="a few steps per system, the ops and the sequence models at tiny sizes: checks that "
                            "the suite runs")
    bench.add_argument("--processes", type=int, default=None, metavar="N",
                       help="fresh processes timing nablab's step per CNN workload (default 6, 2 with --quick)")
    bench.add_argument("--threads", type=int, default=None, metavar="N",
                       help="threads for BLAS and PyTorch (default: all cores)")
    bench.add_argument("--output", metavar="FILE", help="write the sections and the summary into FILE (BENCHMARKS.md)")
    bench.set_defaults(func=run)


def run(args) -> int:
    from .errors import CommandError, UsageError

    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    if args.processes is not None and args.processes < 1:
        raise UsageError(f"--processes must be at least 1, got {args.processes}")
    found = [d / "suite.py" for d in suite_dirs() if (d / "suite.py").is_file()]
    if not found:
        raise CommandError("nablab bench runs benchmarks/suite.py of a source checkout (with its hand-written NumPy "
                         f"and PyTorch counterparts); none found in {', '.join(str(d) for d in suite_dirs())}")
    cmd = [sys.executable, str(found[0]), "--workload", *args.workload]
    cmd += ["--quick"] if args.quick else []
    cmd += ["--threads", str(args.threads)] if args.threads is not None else []
    cmd += ["--processes", str(args.processes)] if args.processes is not None else []
    cmd += ["--output", str(Path(args.output).resolve())] if args.output else []
    return subprocess.run(cmd, cwd=found[0].parent.parent, check=False).returncode
