"""CPU kernel for the negative log-likelihood of a classifier's batch: :class:`nablab.ops.NLLLoss`
(the reference, with the math) for (N, C) log-probabilities, N class indices, no class weights and
a mean or sum, where no target is ignored.

The reference serves every case (weights, ignored targets, any number of dimensions), so its
forward builds a mask, a weight per target and an index array whatever the call. Here, once the
targets are checked to lie in [0, C) (then none equals a negative ``ignore_index``), the loss is one
gather from the flattened input, x[n, y_n] = x.flat[n·C + y_n], and its sum:

    ℓ = −Σₙ x[n, yₙ]  (sum)   or   −(1/N) Σₙ x[n, yₙ]  (mean)
    dL/dx[n, c] = −g·[c = yₙ]   (g = dL/dℓ, divided by N for the mean)

A call whose targets fall outside [0, C) (an ignored target, or a wrong one) runs the reference's
forward and backward, which ignore the one and name the other in their error.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ... import kernels, ops


@lru_cache(maxsize=64)
def _row_starts(n: int, c: int):
    """0, C, 2C, …, (N − 1)·C: where each row starts in the flattened input (read-only, kept per shape)."""
    starts = np.arange(0, n * c, c)
    starts.setflags(write=False)
    return starts


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _plain_batch(x, target=None, weight=None, ignore_index=-100, reduction="mean"):
    return (type(x) is np.ndarray and x.ndim == 2 and x.shape[0] > 0 and x.dtype.kind == "f" and weight is None
            and reduction in ("mean", "sum") and ignore_index < 0 and type(target) is np.ndarray
            and target.shape == (x.shape[0],) and target.dtype.kind in "iu")


class NLLLossBatch(ops.NLLLoss):
    """:class:`nablab.ops.NLLLoss` for a plain (N, C) batch: one gather and one sum."""

    def forward(self, x):
        n, c = x.shape
        target = self.target
        # 0 ≤ y < C for all targets in one reduction: seen as unsigned, a negative target is huge
        self.plain = int(np.maximum.reduce(target.view(_UNSIGNED[target.dtype.itemsize]))) < c
        if not self.plain:
            return super().forward(x)
        self.flat_index = target + _row_starts(n, c)
        total = np.add.reduce(x.reshape(-1).take(self.flat_index))  # the method, without np.take's wrapper
        self.input_shape, self.dtype = x.shape, x.dtype
        return np.asarray(-total / n if self.reduction == "mean" else -total, dtype=x.dtype)

    def backward(self, gy):
        if not self.plain:
            return super().backward(gy)
        n = self.input_shape[0]
        grad = np.zeros(self.input_shape, dtype=self.dtype)
        grad.reshape(-1)[self.flat_index] = -(gy / n if self.reduction == "mean" else gy)
        return (grad,)


kernels.register(ops.NLLLoss, NLLLossBatch, when=_plain_batch)
