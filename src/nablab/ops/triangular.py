"""Ops on the diagonals of matrices: ``tril``/``triu`` (keep one side of a diagonal), ``diagonal``
(read a diagonal) and ``diag`` of a vector (write one). Batched over leading dims where PyTorch is."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class Triangle(Function):
    """y = x on and below (``tril``) or on and above (``triu``) diagonal k of the last two dims, 0
    elsewhere: y[…, i, j] = x[…, i, j]·[j − i ≤ k] (tril) or ·[j − i ≥ k] (triu);  dL/dx = dL/dy masked
    the same way."""

    saves_inputs = False

    def __init__(self, diagonal=0, upper=False):
        self.diagonal, self.upper = diagonal, upper

    def _mask(self, a):
        xp = get_array_module(a)
        return (xp.triu if self.upper else xp.tril)(a, self.diagonal)

    def forward(self, x):
        return self._mask(x)

    def backward(self, gy):
        return (self._mask(gy),)


def _diagonal_positions(xp, shape, offset, dim1, dim2):
    """(rows, cols): the positions along dim1 and dim2 of diagonal ``offset`` (j − i = offset)."""
    length = max(0, min(shape[dim1] - max(-offset, 0), shape[dim2] - max(offset, 0)))
    steps = xp.arange(length)
    return steps + max(-offset, 0), steps + max(offset, 0)


class Diagonal(Function):
    """y[…, t] = x[…, i₀ + t, …, j₀ + t, …] along dims (dim1, dim2), the diagonal j − i = offset moved
    to the last dim (``diagonal``; ``diag`` of a matrix);  dL/dx = dL/dy written back on that diagonal,
    0 elsewhere."""

    saves_inputs = False

    def __init__(self, offset=0, dim1=0, dim2=1):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, x):
        xp = get_array_module(x)
        self.shape = x.shape
        rows, cols = _diagonal_positions(xp, x.shape, self.offset, self.dim1, self.dim2)
        return xp.moveaxis(x, (self.dim1, self.dim2), (-2, -1))[..., rows, cols]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        rows, cols = _diagonal_positions(xp, self.shape, self.offset, self.dim1, self.dim2)
        xp.moveaxis(gx, (self.dim1, self.dim2), (-2, -1))[..., rows, cols] = gy
        return (gx,)


class DiagEmbed(Function):
    """y = the (n + |k|)-square matrix with the vector x on diagonal k, 0 elsewhere (``diag`` of a
    1-D tensor): y[i, i + k] = x[i] (k ≥ 0), y[i − k, i] = x[i] (k < 0);  dL/dx = diagonal k of dL/dy."""

    saves_inputs = False

    def __init__(self, offset=0):
        self.offset = offset

    def forward(self, x):
        return get_array_module(x).diag(x, self.offset)

    def backward(self, gy):
        return (get_array_module(gy).diagonal(gy, self.offset).copy(),)
