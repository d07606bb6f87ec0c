"""Shared helpers for the benchmark scripts: thread limits, timing, machine info and the report writer.

Every benchmark script times a few systems in one process and writes one section of
``BENCHMARKS.md``; this module keeps the parts they share in one place:

- :func:`limit_threads` makes NumPy's BLAS (and any OpenMP runtime) use a given number of threads,
- :func:`time_steps` runs warm-up steps and then repeats of N timed steps, giving a :class:`Timing`,
- :func:`machine_info` / :func:`machine_lines` describe the machine and library versions,
- :func:`gemm_peak` measures the machine's float32 GEMM rate and :func:`gemm_flops` counts the
  matrix-product FLOPs of a nablab step (:func:`conv_macs` those of a convolution), for the
  "fraction of the GEMM peak" figures,
- :func:`markdown_table` and :func:`write_section` produce the Markdown and replace one section of
  the report in place (atomically), leaving the other scripts' sections untouched, and
  :func:`write_json` leaves the figures for the suite's summary (``suite.py``).
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

REPO_ROOT = Path(__file__).resolve().parent.parent
#: the systems every benchmark compares nablab with
NUMPY, TORCH = "NumPy (hand-written)", "PyTorch (CPU)"


def available_cores() -> int:
    """The number of CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def limit_threads(n: int) -> threadpool_limits:
    """Limit every native thread pool threadpoolctl knows (OpenBLAS, MKL, OpenMP) and nablab's own
    kernel threads (``nablab.set_num_threads``) to ``n`` threads.

    Returns the threadpoolctl controller (it holds the BLAS limits until ``restore_original_limits``).
    """
    import nablab

    nablab.set_num_threads(n)
    return threadpool_limits(limits=n)


def blas_description() -> str:
    """NumPy's BLAS as threadpoolctl reports it.

    For example ``openblas 0.3.31 (SkylakeX kernels, pthreads, 2 threads)``.
    """
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    if not blas:
        return "unknown (threadpoolctl found no BLAS library)"
    parts = []
    for lib in blas:
        details = [f"{lib['architecture']} kernels"] if lib.get("architecture") else []
        if lib.get("threading_layer"):
            details.append(lib["threading_layer"])
        details.append(f"{lib['num_threads']} threads")
        name = " ".join(filter(None, [lib["internal_api"], lib.get("version")]))
        parts.append(f"{name} ({', '.join(details)})")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Throughput of repeated runs of ``steps`` steps each: one steps-per-second figure per repeat."""

    rates: list[float]  # steps per second, one per repeat

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def min(self) -> float:
        return min(self.rates)

    @property
    def max(self) -> float:
        return max(self.rates)

    @property
    def ms_per_step(self) -> float:
        """Median time of one step, in milliseconds."""
        return 1e3 / self.median


def time_block(step, steps: int) -> float:
    """Run ``step()`` ``steps`` times and return the rate in steps per second."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def time_steps(step, steps: int, repeats: int, warmup: int) -> Timing:
    """``warmup`` untimed calls of ``step()``, then ``repeats`` timed blocks of ``steps`` calls."""
    for _ in range(warmup):
        step()
    return Timing([time_block(step, steps) for _ in range(repeats)])


#: seconds of idle time before each timed block: longer than OpenBLAS's worker threads spin after
#: their last call (2**28 cycles by default, ≈ 0.1 s), so that no system's spinning threads take a
#: core from the next one; every block then starts from the same sleeping thread pools
SETTLE_SECONDS = 0.25


def time_interleaved(steps_by_name: dict, steps: int, repeats: int, warmup: int) -> dict[str, Timing]:
    """Time several systems round-robin: each repeat times every system once, in turn.

    Interleaving spreads slow drifts of the machine (other tenants, clock changes) over all systems
    instead of charging them to whichever ran last. Every system gets ``warmup`` untimed steps first.
    Before each of its timed blocks the machine idles for :data:`SETTLE_SECONDS` (the thread pools
    of the system that ran before it stop spinning: NumPy's OpenBLAS workers otherwise busy-wait
    on one of the cores through the next system's first ≈ 0.1 s) and then runs a few untimed steps
    (its own pools are awake again).
    """
    for step in steps_by_name.values():
        for _ in range(warmup):
            step()
    rates = {name: [] for name in steps_by_name}
    for _ in range(repeats):
        for name, step in steps_by_name.items():
            time.sleep(SETTLE_SECONDS)
            for _ in range(min(warmup, 3)):
                step()
            rates[name].append(time_block(step, steps))
    return {name: Timing(r) for name, r in rates.items()}


# ----------------------------------------------------------------------------- GEMM peak and FLOPs
GEMM_N, GEMM_REPEATS = 2048, 5  # the product gemm_peak times, and how often


def gemm_peak(threads: int, n: int = GEMM_N, repeats: int = GEMM_REPEATS, with_torch: bool = True) -> dict[str, float]:
    """The float32 GEMM rate of this machine in GFLOP/s: an n×n by n×n product (2n³ FLOPs), best of
    ``repeats`` after one warm-up, through NumPy's BLAS and, where installed (and ``with_torch``),
    PyTorch's.

    Returns ``{"NumPy": …, "PyTorch": …, "peak": the larger}``; the fractions the benchmarks
    report are of ``peak``, the most this machine did in the ideal case of one large square GEMM.
    """
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    with threadpool_limits(limits=threads):
        rates = {"NumPy": _best_rate(lambda: np.matmul(a, b, out=out), 2 * n**3, repeats)}
    torch = None
    if with_torch:
        with contextlib.suppress(ImportError):
            import torch
    if torch is not None:
        torch.set_num_threads(threads)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        tout = torch.empty(n, n)
        rates["PyTorch"] = _best_rate(lambda: torch.matmul(ta, tb, out=tout), 2 * n**3, repeats)
    rates["peak"] = max(rates.values())
    return rates


def gemm_peak_text(peak: dict[str, float]) -> str:
    """``"190 GFLOP/s (float32 2048×2048 products, best of 5: NumPy 190, PyTorch 181)"``."""
    parts = ", ".join(f"{k} {v:.0f}" for k, v in peak.items() if k != "peak")
    return f"{peak['peak']:.0f} GFLOP/s (float32 {GEMM_N}×{GEMM_N} products, best of {GEMM_REPEATS}: {parts})"


def load_or_measure_gemm_peak(path, threads: int) -> dict[str, float]:
    """The GEMM peak from the JSON file ``path`` (the suite measures it once for all its scripts),
    or measured now when ``path`` is None."""
    return json.loads(Path(path).read_text()) if path else gemm_peak(threads)


def _best_rate(fn, flops: int, repeats: int) -> float:
    fn()
    best = min(_seconds(fn) for _ in range(repeats))
    return flops / best / 1e9


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gemm_flops(step) -> dict[str, int]:
    """Matrix-product FLOPs of one call of ``step`` (a nablab forward, or forward + backward).

    Every linear layer (also one fused with its ReLU), matrix product and convolution that
    ``step`` runs is counted from its shapes: 2·(multiply-adds) forward, the same again for dL/dW
    when the weight wants a gradient and for dL/dx when the input does (the first layer's input,
    the data, does not). A convolution's multiply-adds are those of the kernel taps that meet the
    input (:func:`conv_macs`): taps on the zero padding add nothing, and direct convolutions
    (PyTorch's oneDNN) skip them. Element-wise work (activations, pooling, normalisation, the loss,
    the update) is not counted: the figure is what a GEMM-bound step has to do at the least.
    Returns ``{"forward": …, "training": …}``.

    The products are caught where the layers call them, ``F.linear``, ``F.linear_relu`` and
    ``F.conv2d`` (a kernel may run them without going through ``Function.apply`` of an op
    class), and, outside those calls, at ``Function.apply`` of ``ops.Linear``, ``ops.MatMul`` and
    ``ops.Conv2d`` or a subclass (``a @ b``, ops called directly): each product once.
    """
    from nablab import function, ops
    from nablab.nn import functional as F

    totals = {"forward": 0, "training": 0}
    depth = [0]  # > 0 inside a counted F call, whose ops are not counted again

    def count(kind, x, w, out, stride=1, padding=0, dilation=1, **_):
        xs, ws = np.shape(getattr(x, "data", x)), np.shape(getattr(w, "data", w))
        if kind == "conv":
            macs = conv_macs(xs, ws, out.data.shape, stride, padding, dilation)
        else:
            macs = out.data.size * (ws[-1] if kind == "linear" else xs[-1])
        # backward products only where the graph was recorded (not under no_grad)
        wants = sum(bool(out.requires_grad and getattr(t, "requires_grad", False)) for t in (x, w))
        totals["forward"] += 2 * macs
        totals["training"] += 2 * macs * (1 + wants)

    def layer(kind, fn):
        signature = inspect.signature(fn)

        def counted(*args, **kwargs):
            depth[0] += 1
            try:
                out = fn(*args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                params = dict(bound.arguments)
                count(kind, params.pop("x"), params.pop("weight"), out, **params)
            return out

        return counted

    bases = ((ops.Conv2d, "conv"), (ops.Linear, "linear"), (ops.MatMul, "matmul"))
    kinds: dict[type, str | None] = {}
    original = function.Function.__dict__["apply"]

    def apply(cls, *inputs, **params):
        out = original.__func__(cls, *inputs, **params)
        if depth[0] == 0:
            if cls not in kinds:
                kinds[cls] = next((kind for base, kind in bases if issubclass(cls, base)), None)
            if kinds[cls] is not None:
                count(kinds[cls], inputs[0], inputs[1], out, **params)
        return out

    with contextlib.ExitStack() as patches:
        patches.enter_context(_patched(function.Function, "apply", classmethod(apply)))
        for name, kind in (("linear", "linear"), ("linear_relu", "linear"), ("conv2d", "conv")):
            patches.enter_context(_patched(F, name, layer(kind, F.__dict__[name])))
        step()
    return totals


def conv_macs(x_shape, w_shape, out_shape, stride=1, padding=0, dilation=1) -> int:
    """Multiply-adds of a convolution of an (N, C, H, W) input with an (O, C/groups, kh, kw) weight
    into an (N, O, Ho, Wo) output, counting only the kernel taps that fall on the input, not on
    its zero padding. Without padding this is (output elements)·(C/groups)·kh·kw; with it, less
    (a 3×3 kernel with padding 1 on a 4×4 map meets the input at 100 of its 144 tap positions)."""
    n, _, *size = x_shape
    o, cg, *kernel = w_shape
    pairs = [v if isinstance(v, (tuple, list)) else (v, v) for v in (stride, padding, dilation)]
    taps = 1
    for axis in (0, 1):
        s, p, d = (v[axis] for v in pairs)
        positions = range(out_shape[2 + axis])
        taps *= sum(0 <= i * s - p + u * d < size[axis] for i in positions for u in range(kernel[axis]))
    return n * o * cg * taps


@contextlib.contextmanager
def _patched(owner, name, value):
    old = owner.__dict__[name]
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


# ----------------------------------------------------------------------------- ratios and figures
def paired_ratio(timings: dict, mine: str, other: str) -> tuple[float, list[float]]:
    """``mine`` / ``other`` as the median of the per-round ratios, and those ratios.

    The per-round ratio pairs two blocks that ran back to back, so a slow spell of the machine
    (another tenant, a clock change) slows both, where the ratio of two medians taken over
    different moments carries it into the result; targets are judged on it.
    """
    per_round = [a / b for a, b in zip(timings[mine].rates, timings[other].rates, strict=True)]
    return statistics.median(per_round), per_round


def ratio_text(value: float, target: float, at_least: bool = True) -> str:
    """``value`` with two decimals, or more where two would put it on the other side of ``target``
    (0.4968 against ≥ 0.5 reads "0.497", not "0.50", beside its "NOT met")."""
    def meets(x: float) -> bool:
        return x >= target if at_least else x <= target
    for decimals in range(2, 7):
        text = f"{value:.{decimals}f}"
        if meets(float(text)) == meets(value):
            return text
    return repr(float(value))  # closer than 6 decimals: every digit


def ratio_line(timings: dict, mine: str, other: str, target: float | None = None) -> str:
    """``mine / other``: the median of the per-round ratios, their range, the ratio of the medians,
    and the verdict against ``target``."""
    paired, per_round = paired_ratio(timings, mine, other)
    shown = ratio_text(paired, target) if target is not None else f"{paired:.2f}"
    line = (f"**{mine} / {other}: {shown}** (median of the per-round ratios, which range over "
            f"{min(per_round):.2f}–{max(per_round):.2f}; ratio of the medians "
            f"{timings[mine].median / timings[other].median:.2f})")
    if target is not None:
        line += f"; target ≥ {target}: {'met' if paired >= target else 'NOT met'}"
    return line


def figures(key: str, title: str, batch: int, timings: dict, targets: dict[str, float], flops: int,
            peak: dict[str, float]) -> dict:
    """The figures of one workload as the scripts' ``--json`` writes them and suite.py reads them:
    samples/s, nablab's paired ratio to each system, the targets with their verdicts (a system
    that was not timed gets ``"ratio": None``), FLOPs per step and the fractions of the GEMM peak."""
    ratios = {other: paired_ratio(timings, "nablab", other)[0] for other in timings if other != "nablab"}
    return {
        "workload": key, "title": title, "batch": batch,
        "samples_per_s": {name: t.median * batch for name, t in timings.items()}, "ratios": ratios,
        "targets": {other: {"target": t, "ratio": ratios.get(other),
                            "met": other in ratios and ratios[other] >= t} for other, t in targets.items()},
        "gemm_flops_per_step": flops, "gemm_peak_gflops": peak,
        "gemm_fraction": {name: gemm_fraction(t.median, flops, peak["peak"]) for name, t in timings.items()},
    }


def gemm_fraction(steps_per_s: float, flops: int, peak_gflops: float) -> float:
    """The share of the GEMM peak that ``flops`` matrix-product FLOPs per step reach at this rate."""
    return steps_per_s * flops / (peak_gflops * 1e9)


def noisy_note(timings: dict) -> str | None:
    """A line naming the systems some of whose rounds ran at under 80% of their median rate."""
    noisy = [name for name, t in timings.items() if t.min < 0.8 * t.median]
    if not noisy:
        return None
    return (f"- Noisy machine: some rounds of {', '.join(noisy)} ran at under 80% of the median rate; "
            "the per-round ratios pair blocks that ran back to back.")


class OtherLoad:
    """Context manager: how much CPU other processes (and the hypervisor) took while it was open.

    Compares the machine's busy time in /proc/stat with this process's own CPU time, so a report
    can say whether its timings shared the cores with something else. Linux only; elsewhere
    :meth:`describe` says it is unknown.
    """

    def __enter__(self) -> OtherLoad:
        self._start = self._sample()
        self.others = self.steal = None
        return self

    def __exit__(self, *exc) -> None:
        end = self._sample()
        if self._start is None or end is None:
            return
        (busy0, steal0, own0, t0), (busy1, steal1, own1, t1) = self._start, end
        capacity = (t1 - t0) * available_cores()
        self.others = max(0.0, (busy1 - busy0) - (own1 - own0)) / capacity
        self.steal = (steal1 - steal0) / capacity

    @staticmethod
    def _sample():
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        tick = os.sysconf("SC_CLK_TCK")
        own = os.times()
        return ((user + nice + system + irq + softirq) / tick, steal / tick, own.user + own.system,
                time.perf_counter())

    def describe(self) -> str:
        if self.others is None:
            return "unknown"
        text = f"{self.others:.0%} of the cores used by other processes, {self.steal:.0%} stolen by the host"
        return text + (" (timings disturbed: rerun on a quiet machine)" if self.others > 0.1 else "")


# ----------------------------------------------------------------------------- machine
def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or what ``platform`` knows elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.machine()


def git_revision() -> str:
    """``git describe --always --dirty`` of the repository, or a note when there is none."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "no commit yet"


def machine_info(extra: dict | None = None) -> dict[str, str]:
    """Machine, library versions, BLAS and date, as an ordered name → text mapping."""
    import nablab

    info = {
        "CPU": f"{cpu_model()} ({available_cores()} cores available, {os.cpu_count()} logical CPUs)",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "NumPy": np.__version__,
        "NumPy BLAS": blas_description(),
        "nablab": f"{nablab.__version__} (git {git_revision()})",
    }
    info.update(extra or {})
    info["Date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    info["Command"] = f"`{command_line()}`"
    return info


def machine_lines(info: dict[str, str]) -> str:
    """The machine info as a Markdown bullet list."""
    return "\n".join(f"- **{key}:** {value}" for key, value in info.items())


#: options through which suite.py hands temporary files to the scripts (left out of the recorded command)
HANDOVER_OPTIONS = ("--json", "--gemm-peak")


def command_line(argv: list[str] | None = None) -> str:
    """The command that started this process, as it could be typed again (without the suite's
    hand-over options and their files)."""
    args = list(sys.argv if argv is None else argv)
    for option in HANDOVER_OPTIONS:
        if option in args[:-1]:
            i = args.index(option)
            del args[i : i + 2]
    return " ".join(shlex.quote(arg) for arg in ["python", *args])


# ----------------------------------------------------------------------------- report
def fmt_rate(value: float) -> str:
    """A rate with three significant figures (``1234.5`` → ``1,235``, ``12.34`` → ``12.3``)."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def markdown_table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A GitHub Markdown table; ``align`` has one of ``l``/``r`` per column (default: first left)."""
    align = align or "l" + "r" * (len(headers) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = [headers, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


REPORT_HEADER = """# Benchmarks

Measured by the scripts in [`benchmarks/`](benchmarks/) (all of them, and the summary: `nablab bench
--output BENCHMARKS.md`, i.e. `python benchmarks/suite.py`). Each script rewrites only its own section
(between its `BEGIN`/`END` markers), so sections may come from different runs and machines: each
records its machine, date and command.
"""


def write_json(path: str | os.PathLike, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` atomically (nablab's temporary-file-and-rename writer)."""
    from nablab.atomic import write_text

    write_text(path, json.dumps(data, indent=2))


def write_section(path: str | os.PathLike, key: str, body: str) -> None:
    """Put ``body`` into the report at ``path`` between the markers of section ``key``.

    An existing section with that key is replaced in place, otherwise the section is appended;
    everything else in the file is kept. The file is written to a temporary file in the same
    folder and then moved over the old one, so a crash never leaves half a report.
    """
    path = Path(path)
    begin, end = f"<!-- BEGIN {key} -->", f"<!-- END {key} -->"
    section = f"{begin}\n{body.strip()}\n{end}"
    old = path.read_text() if path.exists() else REPORT_HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(old):
        new = pattern.sub(lambda _: section, old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(new)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
