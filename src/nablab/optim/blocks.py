"""Cache-sized blocks for the optimizers' element-wise updates.

An update such as momentum SGD is a handful of element-wise passes over the parameter, its
gradient and its state (b ← μb + g, then θ ← θ − ηb). Run over whole arrays, each pass streams
megabytes through the CPU caches and the next pass reads them back from further out: for a
784×512 weight (1.6 MB per array, four arrays) every pass misses the per-core cache. Run block
by block, the passes of one block find its data still in the core's cache, so the arrays
travel from memory about once per step. Every block sees the same operations in the same
order, so the result is identical to the whole-array update, element for element.

On a GPU (CuPy) one kernel per pass is already the right granularity: the arrays go whole.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..scratch import scratch

#: bytes of the first array per block: a block's arrays (four or five of these) stay within the
#: 1–2 MiB cache of one core, and the Python cost per block stays small against its work
BLOCK_BYTES = 256 * 1024


def cache_blocks(*arrays, temps: int = 0):
    """Yield tuples of matching pieces of ``arrays`` (all of one shape), block by block, each
    followed by ``temps`` (at most two) scratch pieces of the same shape and dtype for the
    update's temporaries.

    NumPy arrays that are all C-contiguous come as flat views of at most :data:`BLOCK_BYTES`
    each; anything else (CuPy arrays, strided views) comes whole, as one tuple. Writing into a
    piece writes into the array; the scratch pieces hold garbage and last until the next call.
    """
    first = arrays[0]
    xp = get_array_module(first)
    size, step = first.size, max(1, BLOCK_BYTES // first.itemsize)
    if size <= step or xp is not np or not all(a.flags.c_contiguous for a in arrays):
        yield arrays + tuple(scratch(xp, purpose, first.shape, first.dtype) for purpose in _PURPOSES[:temps])
        return
    flat = [a.reshape(-1) for a in arrays]
    scratches = [scratch(xp, purpose, (step,), first.dtype) for purpose in _PURPOSES[:temps]]
    for start in range(0, size, step):
        stop = min(start + step, size)
        yield tuple(a[start:stop] for a in flat) + tuple(t[:stop - start] for t in scratches)


_PURPOSES = ("optimizer update 1", "optimizer update 2")
