"""CPU kernel for the embedding lookup: :class:`nablab.ops.Embedding` (the reference, with the
math) with its scatter-add done by sorting, and the gather on every thread.

The reference's dL/dW is ``np.add.at``: an unbuffered scatter-add that visits the gradient one
index at a time. Here the positions are sorted by the row they name (a stable sort, so each row's
gradients keep their order), the gradients of each run of equal rows are summed in one
``np.add.reduceat``, and each row's sum is written once:

    dL/dW[r] = Σ_{i : idx[i] = r} dL/dy[i]        (rows named nowhere stay 0)

The sums add the same numbers as the reference (NumPy's reduceat may group them differently), so
the gradient is the reference's up to float rounding, and bit for bit for rows named once.
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from .threads import parallel_ranges


def _numpy_rows(weight, indices=None, padding_idx=None):
    return type(weight) is np.ndarray and weight.ndim == 2 and weight.flags.c_contiguous


class EmbeddingSorted(ops.Embedding):
    """:class:`nablab.ops.Embedding` with a threaded gather and a sort-and-reduce scatter-add."""

    def forward(self, weight):
        self.rows, self.dtype = weight.shape[0], weight.dtype
        flat = self.indices.reshape(-1)
        if flat.size and not (flat.min() >= -self.rows and flat.max() < self.rows):
            return weight[self.indices]  # the reference's IndexError
        out = np.empty((flat.size, weight.shape[1]), dtype=weight.dtype)
        # with out=, take's default mode ("raise") copies through a buffer; the range is checked above
        parallel_ranges(lambda lo, hi: np.take(weight, flat[lo:hi], axis=0, out=out[lo:hi], mode="wrap"),
                        flat.size, cost_per_item=weight.shape[1])
        return out.reshape(*self.indices.shape, weight.shape[1])

    def backward(self, gy):
        dim = gy.shape[-1]
        gy2 = gy.reshape(-1, dim)
        flat = self.indices.reshape(-1)
        gw = np.zeros((self.rows, dim), dtype=gy.dtype)
        if flat.size == 0:
            return (gw,)
        order = np.argsort(flat, kind="stable")
        sorted_rows = flat[order]
        starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
        ends = np.r_[starts[1:], flat.size]

        def work(lo, hi):  # the runs lo..hi of equal rows, summed and written by one thread
            if lo == hi:
                return
            first, last = starts[lo], ends[hi - 1]
            picked = np.take(gy2, order[first:last], axis=0)
            gw[sorted_rows[starts[lo:hi]]] = np.add.reduceat(picked, starts[lo:hi] - first, axis=0)

        parallel_ranges(work, starts.size, cost_per_item=max(1, flat.size * dim // max(starts.size, 1)))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return (gw,)


kernels.register(ops.Embedding, EmbeddingSorted, when=_numpy_rows)
