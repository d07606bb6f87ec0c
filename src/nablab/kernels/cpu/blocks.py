"""Blocks for the optimizers' element-wise updates, with their temporaries in scratch memory.

An update such as momentum SGD is a handful of element-wise passes over the parameter, its
gradient and its state (b ← μb + g, then θ ← θ − ηb), and needs one or two temporaries (ηb; with
weight decay, dampening, Nesterov momentum or Adam a second one), since ``.grad`` is left as it
was, as in PyTorch. A fresh temporary per step is a fresh mapping that the kernel zero-fills
page by page; here the temporaries are scratch buffers (:mod:`nablab.scratch`) reused from step
to step. Large parameters are updated block by block, each block with the matching piece of the
scratch buffer, so the scratch memory stays at one block per temporary whatever the model, and a
block's arrays are still in the cache for the update's next pass. Every block sees the same
operations in the same order, so the result is identical to the whole-array update, element for
element.

:data:`BLOCK_BYTES` was chosen by timing the MLP benchmark's step (W2). On a 2-core Intel Xeon,
256 KiB blocks were the fastest of 64 KiB, 256 KiB and whole arrays with fresh temporaries; on a
2-core AMD EPYC, 256 KiB, 1 MiB and whole-array updates with scratch temporaries were within the
noise of each other, and with the per-block Python trimmed 1 MiB blocks (a 784×512 float32
weight in two) measured 1–3% ahead of 256 KiB ones (BENCHMARKS.md).

On a GPU (CuPy) one kernel per pass is already the right granularity: there the reference update
runs on the whole arrays.
"""

from __future__ import annotations

import numpy as np

from ...scratch import scratch

#: bytes of the first array per block
BLOCK_BYTES = 1 << 20

_PURPOSES = ("optimizer update 1", "optimizer update 2")


def cache_blocks(*arrays, temps: int = 0) -> list[tuple]:
    """Tuples of matching pieces of ``arrays`` (all of one shape), block by block, each followed
    by ``temps`` (at most two) scratch pieces of the same shape and dtype for the update's
    temporaries.

    NumPy arrays that are all C-contiguous come as flat views of at most :data:`BLOCK_BYTES`
    each; anything else (strided views) comes whole, as one tuple. Writing into a
    piece writes into the array; the scratch pieces hold garbage and last until the next call.
    """
    first = arrays[0]
    size, step = first.size, max(1, BLOCK_BYTES // first.itemsize)
    if size <= step or not all(a.flags.c_contiguous for a in arrays):
        return [(*arrays, *[scratch(np, purpose, first.shape, first.dtype) for purpose in _PURPOSES[:temps]])]
    flat = [a.reshape(-1) for a in arrays]
    scratches = [scratch(np, purpose, (step,), first.dtype) for purpose in _PURPOSES[:temps]]
    return [(*[a[start:start + step] for a in flat], *[t[:min(step, size - start)] for t in scratches])
            for start in range(0, size, step)]
