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
from .threads import parallel_blocks


def _last_axis(x, axis=-1):
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.ndim >= 1 and x.size > 0
            and axis in (-1, x.ndim - 1) and x.flags.c_contiguous)


def _rows(a):
    """``a`` as a C-contiguous (rows, n) matrix over its last axis."""
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def _row_map(step, *arrays):
    """A new array of the first's shape, written block of rows by block of rows on every thread by
    ``step(*blocks_of_arrays, block_of_result)``; the arrays are viewed as (rows, n) matrices."""
    mats = [_rows(a) for a in arrays]
    out = np.empty_like(mats[0])
    parallel_blocks(lambda lo, hi: step(*(m[lo:hi] for m in mats), out[lo:hi]), out.shape[0], out.shape[1],
                    out.itemsize)
    return out.reshape(arrays[0].shape)


def _shifted(xb, out):
    """x − max x per row, into ``out``."""
    return np.subtract(xb, xb.max(axis=1, keepdims=True), out=out)


def _softmax_block(xb, yb):
    _shifted(xb, yb)
    np.exp(yb, out=yb)
    yb /= yb.sum(axis=1, keepdims=True)


def _softmax_grad_block(yb, gyb, gb):
    dot = np.multiply(gyb, yb, out=gb).sum(axis=1, keepdims=True)
    np.subtract(gyb, dot, out=gb)
    gb *= yb


def _log_softmax_block(xb, yb):
    _shifted(xb, yb)
    e = np.exp(yb, out=scratch(np, "log-softmax-exp", yb.shape, yb.dtype))
    yb -= np.log(e.sum(axis=1, keepdims=True))


def _log_softmax_grad_block(yb, gyb, gb):
    np.exp(yb, out=gb)
    gb *= -gyb.sum(axis=1, keepdims=True)
    gb += gyb


class SoftmaxLastAxis(ops.Softmax):
    """:class:`nablab.ops.Softmax` over the last axis, blocked and threaded."""

    def forward(self, x):
        self.axis = x.ndim - 1
        self.y = _row_map(_softmax_block, x)
        return self.y

    def backward(self, gy):
        return (_row_map(_softmax_grad_block, self.y, gy),)


class LogSoftmaxLastAxis(ops.LogSoftmax):
    """:class:`nablab.ops.LogSoftmax` over the last axis, blocked and threaded."""

    def forward(self, x):
        self.axis = x.ndim - 1
        self.y = _row_map(_log_softmax_block, x)
        return self.y

    def backward(self, gy):
        return (_row_map(_log_softmax_grad_block, self.y, gy),)


kernels.register(ops.Softmax, SoftmaxLastAxis, when=_last_axis)
kernels.register(ops.LogSoftmax, LogSoftmaxLastAxis, when=_last_axis)
