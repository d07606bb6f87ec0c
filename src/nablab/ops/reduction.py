"""Reductions over axes: sum, mean, max and min (``axis`` None, an int or a tuple; ``keepdims``)."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


def normalize_axis(axis, ndim):
    """None, or a sorted tuple of non-negative axes; an out-of-range axis is an error.

    As in PyTorch, a 0-d tensor accepts axis 0 and −1, which reduce nothing: they give ``()``.
    """
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted({a % ndim for a in axes})) if ndim else ()


def _expand_reduced(g, axis, keepdims):
    """Re-insert the reduced axes (as size 1) so ``g`` broadcasts against the input."""
    if keepdims or axis is None:
        return g
    xp = get_array_module(g)
    return xp.expand_dims(g, axis)


class Sum(Function):
    """y = Σ_axis x;  dL/dx = dL/dy broadcast back over the summed axes."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (xp.broadcast_to(g, self.shape),)


class Mean(Function):
    """y = (1/n) Σ_axis x over the n reduced elements;  dL/dx = dL/dy / n, broadcast back."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        y = x.mean(axis=self.axis, keepdims=self.keepdims)
        self.count = x.size // max(y.size, 1) if x.size else 0
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (xp.broadcast_to(g / self.count, self.shape),)


class Max(Function):
    """y = max_axis x;  dL/dx = dL/dy at the maximal elements, shared equally among ties, else 0."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def _reduce(self, x):
        return x.max(axis=self.axis, keepdims=True)

    def forward(self, x):
        if x.size == 0:
            raise ValueError("max/min of an empty tensor")
        self.x = x
        self.y = self._reduce(x)
        return self.y if self.keepdims else self.y.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, gy):
        hit = self.x == self.y
        count = hit.sum(axis=self.axis, keepdims=True)
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (hit * (g / count).astype(gy.dtype, copy=False),)


class Min(Max):
    """y = min_axis x;  dL/dx = dL/dy at the minimal elements, shared equally among ties, else 0."""

    def _reduce(self, x):
        return x.min(axis=self.axis, keepdims=True)


def _reduced_shape(shape, axis):
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axis)
