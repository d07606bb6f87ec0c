"""CPU kernels for softmax and log-softmax over the last axis: :class:`nablab.ops.Softmax` and
:class:`nablab.ops.LogSoftmax` (the references, with the math) in blocks of rows on every thread.

The arithmetic is the reference's, operation for operation (m = max x; y = e^(x−m) / Σ e^(x−m),
or (x − m) − log Σ e^(x−m); dL/dx = y ⊙ (dL/dy − Σ dL/dy ⊙ y), or dL/dy − e^y · Σ dL/dy), and
every sum runs along one row as NumPy's sum over the last axis does, so the results are the
reference's bit for bit. What differs is the order of the work: each thread takes its share of
the rows, and goes through it a few rows at a time, so that the block's intermediates stay in the
core's cache instead of making five trips to memory.
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from ...scratch import scratch
from .threads import BLOCK_BYTES, blocks, parallel_ranges


def _last_axis(x, axis=-1):
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.ndim >= 1 and x.size > 0
            and axis in (-1, x.ndim - 1) and x.flags.c_contiguous)


def _rows(a):
    """``a`` as a C-contiguous (rows, n) matrix over its last axis."""
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def _by_rows(work, rows):
    """``work(lo, hi)`` over blocks of rows of the (rows, n) matrix ``rows``, on every thread."""
    count, n = rows.shape
    per_block = max(1, BLOCK_BYTES // (n * rows.itemsize))

    def part(start, stop):
        for lo, hi in blocks(start, stop, per_block):
            work(lo, hi)

    parallel_ranges(part, count, cost_per_item=n)


class SoftmaxLastAxis(ops.Softmax):
    """:class:`nablab.ops.Softmax` over the last axis, blocked and threaded."""

    def forward(self, x):
        self.axis = x.ndim - 1
        x2 = _rows(x)
        y2 = np.empty_like(x2)

        def work(lo, hi):
            yb = np.subtract(x2[lo:hi], x2[lo:hi].max(axis=1, keepdims=True), out=y2[lo:hi])
            np.exp(yb, out=yb)
            yb /= yb.sum(axis=1, keepdims=True)

        _by_rows(work, x2)
        self.y = y2.reshape(x.shape)
        return self.y

    def backward(self, gy):
        y2, gy2 = _rows(self.y), _rows(gy)
        g2 = np.empty_like(y2)

        def work(lo, hi):
            yb, gyb, gb = y2[lo:hi], gy2[lo:hi], g2[lo:hi]
            dot = np.multiply(gyb, yb, out=gb).sum(axis=1, keepdims=True)
            np.subtract(gyb, dot, out=gb)
            gb *= yb

        _by_rows(work, y2)
        return (g2.reshape(gy.shape),)


class LogSoftmaxLastAxis(ops.LogSoftmax):
    """:class:`nablab.ops.LogSoftmax` over the last axis, blocked and threaded."""

    def forward(self, x):
        self.axis = x.ndim - 1
        x2 = _rows(x)
        y2 = np.empty_like(x2)

        def work(lo, hi):
            yb = np.subtract(x2[lo:hi], x2[lo:hi].max(axis=1, keepdims=True), out=y2[lo:hi])
            e = np.exp(yb, out=scratch(np, "log-softmax-exp", yb.shape, yb.dtype))
            yb -= np.log(e.sum(axis=1, keepdims=True))

        _by_rows(work, x2)
        self.y = y2.reshape(x.shape)
        return self.y

    def backward(self, gy):
        y2, gy2 = _rows(self.y), _rows(gy)
        g2 = np.empty_like(y2)

        def work(lo, hi):
            gyb, gb = gy2[lo:hi], g2[lo:hi]
            np.exp(y2[lo:hi], out=gb)
            gb *= -gyb.sum(axis=1, keepdims=True)
            gb += gyb

        _by_rows(work, y2)
        return (g2.reshape(gy.shape),)


kernels.register(ops.Softmax, SoftmaxLastAxis, when=_last_axis)
kernels.register(ops.LogSoftmax, LogSoftmaxLastAxis, when=_last_axis)
