"""Scratch memory that ops reuse from one call to the next.

A convolution's column matrix is the largest array of a CNN training step (75 MB for a 3×3
convolution of 32 channels on 64 images of 32×32) and it lives only inside one op. An array that
large is a fresh mapping from the kernel, which zero-fills every page when it is first touched:
on a 2-core machine that costs more than the copy that then fills it (≈ 20–30 ms against ≈ 11 ms
for 75 MB). Ops ask for such temporaries here instead. Each (purpose, shape, dtype) keeps one
buffer per thread; the most recently used buffers are kept up to a byte budget
(:func:`set_budget`, 512 MiB by default, 0 turns the reuse off) and the others are dropped.

The contract: a buffer is valid until the next request with the same purpose, shape and dtype
in the same thread, so an op may use it for its own temporaries but never return it or save it
for backward. A buffer asked for with ``fill`` is filled with it when created; a caller that
writes only the same interior region every time (a padded copy) can rely on the rest keeping it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

_DEFAULT_BUDGET = 512 * 2**20
_state = threading.local()
_budget = [_DEFAULT_BUDGET]


def set_budget(nbytes: int) -> None:
    """Keep at most ``nbytes`` of scratch buffers per thread (0: allocate fresh every time)."""
    if not isinstance(nbytes, int) or nbytes < 0:
        raise ValueError(f"scratch budget must be a whole number of bytes ≥ 0, got {nbytes!r}")
    _budget[0] = nbytes
    clear()


def clear() -> None:
    """Drop this thread's scratch buffers (their memory goes back when nothing else holds it)."""
    _state.buffers = OrderedDict()


def retained_bytes() -> int:
    """Bytes of scratch buffers this thread keeps between calls."""
    return sum(buffer.nbytes for buffer in _buffers().values())


def _buffers() -> OrderedDict:
    if not hasattr(_state, "buffers"):
        _state.buffers = OrderedDict()
    return _state.buffers


def scratch(xp, purpose: str, shape: tuple, dtype, fill=None):
    """An array of ``shape`` and ``dtype`` whose memory is reused by the next identical request."""
    key = (xp.__name__, purpose, tuple(shape), xp.dtype(dtype).str)
    buffers = _buffers()
    buffer = buffers.get(key)
    if buffer is not None:
        buffers.move_to_end(key)
        return buffer
    buffer = xp.empty(shape, dtype=dtype) if fill is None else xp.full(shape, fill, dtype=dtype)
    if buffer.nbytes <= _budget[0]:
        while buffers and retained_bytes() + buffer.nbytes > _budget[0]:
            buffers.popitem(last=False)  # the least recently used
        buffers[key] = buffer
    return buffer
