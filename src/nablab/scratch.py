"""Scratch memory that ops reuse from one call to the next.

The padded copies and column matrices of a convolution or a pooling live only inside one op, and
a fresh array for each of them every step costs more than it seems: large blocks are fresh
mappings from the kernel, which zero-fills every page when it is first touched (on the 2-core
benchmark machine the small CNN's step took ≈ 300 ms of CPU with fresh arrays, ≈ 235 ms with
these buffers). Ops ask for such temporaries here instead. Each purpose (and dtype) keeps one
flat buffer per thread, grown to the largest size asked for, and hands out views of its start;
the buffers kept stay within a byte budget (:func:`set_budget`, 256 MiB by default; a request
that does not fit gets a new array that is not kept).

The contract: a view is valid until the next request for the same purpose in the same thread,
so an op may use it for its own temporaries but must never return it or save it for backward,
and two arrays it needs at once must have different purposes. Contents are left from earlier
use: the caller writes everything it reads (for a padded copy, the border too).
"""

from __future__ import annotations

import threading
from math import prod

_DEFAULT_BUDGET = 256 * 2**20
_budget = [_DEFAULT_BUDGET]


class _PerThread(threading.local):
    """This thread's buffers, keyed by (array module, purpose, dtype); each thread starts empty."""

    def __init__(self):
        self.buffers = {}


_state = _PerThread()


def set_budget(nbytes: int) -> None:
    """Keep at most ``nbytes`` of scratch buffers per thread (0: allocate fresh every time)."""
    if not isinstance(nbytes, int) or nbytes < 0:
        raise ValueError(f"scratch budget must be a whole number of bytes ≥ 0, got {nbytes!r}")
    _budget[0] = nbytes
    clear()


def clear() -> None:
    """Drop this thread's scratch buffers (their memory goes back when nothing else holds it)."""
    _state.buffers = {}


def retained_bytes() -> int:
    """Bytes of scratch buffers this thread keeps between calls."""
    return sum(buffer.nbytes for buffer in _state.buffers.values())


def buffers() -> list:
    """This thread's scratch buffers (flat arrays): what no array saved for backward may share memory with."""
    return list(_state.buffers.values())


def scratch(xp, purpose: str, shape: tuple, dtype):
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``, in memory that the next
    request for ``purpose`` reuses."""
    dtype = xp.dtype(dtype)
    size = prod(shape)
    key = (xp, purpose, dtype)
    buffers = _state.buffers
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        kept = retained_bytes() - (0 if buffer is None else buffer.nbytes)
        if kept + size * dtype.itemsize > _budget[0]:
            return xp.empty(shape, dtype=dtype)
        buffer = buffers[key] = xp.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)
