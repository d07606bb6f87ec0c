"""The CPU kernels' threads: one op's work split over the cores, as PyTorch's intra-op pool does.

NumPy runs each call on one core, but it lets go of Python's global lock while its loops run, so
threads that each call NumPy on their own part of an array run at the same time. A kernel splits
its rows (or its elements) into one contiguous part per thread with :func:`parallel_ranges`; the
calling thread works on the first part itself while the pool's threads take the others, and the
call returns when all are done. Each part is then worked through in blocks small enough that the
block's temporaries stay in the core's cache (:data:`BLOCK_BYTES`).

The number of threads is PyTorch's setting, with PyTorch's names: ``nablab.get_num_threads()`` and
``nablab.set_num_threads(n)``; by default the cores this process may run on, or
``NABLAB_NUM_THREADS`` (then ``OMP_NUM_THREADS``) when set. It governs nablab's own kernels; the
matrix products run in NumPy's BLAS, whose threads its own settings govern (``OPENBLAS_NUM_THREADS``,
threadpoolctl).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

#: bytes of one array's block. On the 2-core AMD host (1 MiB of L2 per core, 32 MiB of L3) blocks of
#: 1 MiB ran softmax, log-softmax, layer norm and GELU 25–40% faster on two threads than blocks of
#: 256 KiB, whose extra NumPy calls per element cost more than the closer cache saved (A/B in one
#: process, medians of 7 interleaved rounds); 2 MiB was no faster than 1 MiB.
BLOCK_BYTES = 1 << 20
#: below this many elements of work a part costs more to hand over than to run here
MIN_PART = 1 << 16


def _default_threads() -> int:
    for name in ("NABLAB_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                raise ValueError(f"{name} must be a whole number of threads ≥ 1, got {value!r}") from None
            if n < 1:
                raise ValueError(f"{name} must be a whole number of threads ≥ 1, got {value!r}")
            return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Pool:
    """The thread count and the executor for all but the calling thread (made when first needed)."""

    def __init__(self):
        self.threads = _default_threads()
        self.executor = None
        self.lock = threading.Lock()

    def get_executor(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="nablab-kernel")
            return self.executor

    def reset(self, threads: int) -> None:
        with self.lock:
            if self.executor is not None:
                self.executor.shutdown(wait=True)
            self.threads, self.executor = threads, None


_pool = _Pool()
# a forked child has none of the parent's threads: it starts a pool of its own when it needs one
os.register_at_fork(after_in_child=lambda: setattr(_pool, "executor", None))


def get_num_threads() -> int:
    """The number of threads nablab's CPU kernels split an op's work over (``torch.get_num_threads``)."""
    return _pool.threads


def set_num_threads(n: int) -> None:
    """Split each op's work over ``n`` threads from now on (``torch.set_num_threads``; 1: none)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: the number of threads must be a whole number ≥ 1, got {n!r}")
    if n != _pool.threads:
        _pool.reset(n)


def parallel_ranges(work, count: int, cost_per_item: int = 1) -> None:
    """Call ``work(start, stop)`` over ``range(count)`` cut into one contiguous part per thread.

    ``cost_per_item`` is the elements each item stands for (a row's length), which decides how
    many parts are worth their hand-over (:data:`MIN_PART` elements each at the least). Parts run
    at the same time; an exception in any of them is raised here once all have ended.
    """
    parts = min(_pool.threads, count, max(1, count * cost_per_item // MIN_PART))
    if parts <= 1:
        work(0, count)
        return
    bounds = [count * i // parts for i in range(parts + 1)]
    executor = _pool.get_executor()
    futures = [executor.submit(work, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    try:
        work(bounds[0], bounds[1])
    finally:
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def blocks(start: int, stop: int, items_per_block: int):
    """The ``(lo, hi)`` blocks of at most ``items_per_block`` items that cover ``range(start, stop)``."""
    step = max(1, items_per_block)
    for lo in range(start, stop, step):
        yield lo, min(lo + step, stop)


def parallel_blocks(work, count: int, row_length: int = 1, itemsize: int = 4) -> list:
    """Call ``work(lo, hi)`` over ``range(count)`` in blocks of rows (each ``row_length`` elements of
    ``itemsize`` bytes; at most :data:`BLOCK_BYTES` of one array per block), each thread going
    through its own contiguous part block by block (:func:`parallel_ranges`). Returns what the
    blocks returned, in block order (so sums of them come out the same in every run)."""
    per_block = max(1, BLOCK_BYTES // (row_length * itemsize))
    results = {}

    def part(start, stop):
        for lo, hi in blocks(start, stop, per_block):
            results[lo] = work(lo, hi)

    parallel_ranges(part, count, cost_per_item=row_length)
    return [results[lo] for lo in sorted(results)]
