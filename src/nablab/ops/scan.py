"""Running reductions along one axis: cumsum and cumprod (ops), and the indices of the running max and min
(their values are picked through :class:`~nablab.ops.selection.TakeAlong`)."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .reduction import integer_dtype


class CumSum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along ``axis``;  dL/dxⱼ = Σ_{i≥j} dL/dyᵢ (the running sum from the end)."""

    saves_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return x.cumsum(axis=self.axis, dtype=integer_dtype(x))

    def backward(self, gy):
        xp = get_array_module(gy)
        return (xp.flip(xp.flip(gy, self.axis).cumsum(axis=self.axis), self.axis),)


class CumProd(Function):
    """yᵢ = Π_{j≤i} xⱼ along ``axis``;  dL/dxₖ = Σ_{i≥k} dL/dyᵢ · Π_{j≤i, j≠k} xⱼ, exact with zeros in x.

    Without zeros that is (Σ_{i≥k} dL/dyᵢ · yᵢ) / xₖ. With zeros, write it as Pₖ · Sₖ, where
    Pₖ = Π_{j<k} xⱼ (the product before k) and Sₖ = Σ_{i≥k} dL/dyᵢ Π_{k<j≤i} xⱼ, which runs back
    from the end as Sₖ = dL/dyₖ + xₖ₊₁ · Sₖ₊₁: one pass along the axis, no division.
    """

    saves_output = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.x = x
        self.y = x.cumprod(axis=self.axis, dtype=integer_dtype(x))
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        x, axis = self.x, self.axis
        if xp.all(x != 0):
            return (xp.flip(xp.flip(gy * self.y, axis).cumsum(axis=axis), axis) / x,)
        x, g = xp.moveaxis(x, axis, 0), xp.moveaxis(gy, axis, 0)
        n = x.shape[0]
        before = xp.concatenate([xp.ones_like(x[:1]), xp.cumprod(x[:-1], axis=0)], axis=0)
        after = xp.empty_like(g)
        after[n - 1] = g[n - 1]
        for k in range(n - 2, -1, -1):
            after[k] = g[k] + x[k + 1] * after[k + 1]
        return (xp.moveaxis(before * after, 0, axis),)


def running_extreme_indices(x, values, axis):
    """The index along ``axis`` of each running max or min ``values`` of x (``cummax``/``cummin``), PyTorch's
    choice: the last index among ties (a later equal element takes over), and the last NaN so far once
    there is one (the running value is NaN from there on).

    Element i takes over where xᵢ equals the running value or is NaN; the index is the running max
    of the positions where that happens.
    """
    xp = get_array_module(x)
    positions = xp.arange(x.shape[axis]).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    takes_over = (x == values) | (positions == 0)
    if x.dtype.kind == "f":
        takes_over |= xp.isnan(x)
    return xp.maximum.accumulate(xp.where(takes_over, positions, 0), axis=axis)
