"""Ops that repeat elements: ``repeat``/``tile`` (whole copies of the tensor) and
``repeat_interleave`` (each element several times in a row). Their backward sums the gradient of
every copy back onto its source element."""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module, like
from ..function import Function


class Tile(Function):
    """y = x tiled ``reps[k]`` times along dim k (PyTorch's ``repeat``, NumPy's ``tile``; reps has at
    least x.ndim entries, leading ones add dims): y[…, r·n + i, …] = x[…, i, …];
    dL/dx[i] = Σ_r dL/dy[r·n + i] over every copy r of every dim."""

    saves_inputs = False

    def __init__(self, reps):
        self.reps = tuple(reps)

    def forward(self, x):
        self.in_shape, self.shape = x.shape, (1,) * (len(self.reps) - x.ndim) + x.shape
        return get_array_module(x).tile(x.reshape(self.shape), self.reps)

    def backward(self, gy):
        split = [n for pair in zip(self.reps, self.shape) for n in pair]  # (r₀, n₀, r₁, n₁, …)
        return (gy.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(self.in_shape),)


class RepeatInterleave(Function):
    """y = each element of x along ``dim`` repeated ``repeats`` times in a row (``repeat_interleave``;
    repeats an int or one count per element): y[…, k, …] = x[…, src(k), …];
    dL/dx[…, i, …] = Σ_{k: src(k) = i} dL/dy[…, k, …]."""

    saves_inputs = False

    def __init__(self, repeats, dim):
        self.repeats, self.dim = repeats, dim

    def forward(self, x):
        xp = get_array_module(x)
        n = x.shape[self.dim]
        self.shape = x.shape
        self.source = xp.repeat(xp.arange(n), like(x, self.repeats))  # src(k) for every output position k
        return xp.take(x, self.source, axis=self.dim)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        xp.add.at(xp.moveaxis(gx, self.dim, 0), self.source, xp.moveaxis(gy, self.dim, 0))
        return (gx,)


def repeat_counts(repeats, size: int):
    """``repeats`` (an int, or one count per element) as NumPy's ``np.repeat`` takes it, checked."""
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeats must be integers, got dtype {counts.dtype}")
    if counts.ndim > 1 or (counts.ndim == 1 and len(counts) not in (1, size)):
        raise ValueError(f"repeats must be an int or hold one count for each of the {size} elements, "
                         f"got shape {counts.shape}")
    if (counts < 0).any():
        raise ValueError("repeats can not be negative")
    return int(counts) if counts.ndim == 0 else counts.reshape(-1) if len(counts) == size else int(counts[0])
