"""Ops that reorder elements along dims: ``flip`` and ``roll``. Each is a permutation of the
elements, so its backward applies the inverse permutation to the gradient."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class Flip(Function):
    """y = x reversed along ``dims``: y[…, i, …] = x[…, n−1−i, …];  dL/dx = dL/dy reversed the same way."""

    saves_inputs = False

    def __init__(self, dims):
        self.dims = tuple(dims)

    def forward(self, x):
        return get_array_module(x).flip(x, self.dims).copy() if self.dims else x.copy()

    def backward(self, gy):
        return (get_array_module(gy).flip(gy, self.dims) if self.dims else gy,)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims``: y[…, (i + s) mod n, …] = x[…, i, …]
    (the flattened tensor when ``dims`` is None);  dL/dx = dL/dy rolled by −s."""

    saves_inputs = False

    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return get_array_module(x).roll(x, self.shifts, self.dims)

    def backward(self, gy):
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return (get_array_module(gy).roll(gy, back, self.dims),)
