"""Padding (``F.pad``): each axis of x grows by (lo, hi) elements on its two sides; a negative lo or hi
crops that many instead (first, before any padding).

For one axis of x of size n (after cropping), padded by lo ≥ 0 before and hi ≥ 0 after, y has
n + lo + hi elements, y[lo + i] = x[i], and the new ones are

    constant    y[j] = value
    reflect     y[lo − 1 − j] = x[1 + j]          y[lo + n + j] = x[n − 2 − j]      (the edge not repeated)
    replicate   y[j] = x[0] (j < lo)              y[lo + n + j] = x[n − 1]
    circular    y[j] = x[n − lo + j] (j < lo)     y[lo + n + j] = x[j]

Every element of y is a copy of one element of x (or the constant), so dL/dx[i] is the sum of dL/dy
over the positions that copy x[i]: the middle dL/dy[lo : lo + n], plus the mirrored strips (reflect),
the summed strips onto the first and last element (replicate), or the wrapped strips (circular).
Axes are padded one after another, last axis first in the backward.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


def along(axis: int, index) -> tuple:
    """The index that applies ``index`` (a slice) to one axis."""
    return (slice(None),) * axis + (index,)


def _grow(xp, x, axis, lo, hi, mode):
    """x with lo elements before and hi after along ``axis``, copied by the rule of ``mode``."""
    n = x.shape[axis]
    if mode == "reflect":
        before = xp.flip(x[along(axis, slice(1, lo + 1))], axis)
        after = xp.flip(x[along(axis, slice(n - 1 - hi, n - 1))], axis)
    elif mode == "replicate":
        before = xp.repeat(x[along(axis, slice(0, 1))], lo, axis=axis)
        after = xp.repeat(x[along(axis, slice(n - 1, n))], hi, axis=axis)
    else:  # circular
        before, after = x[along(axis, slice(n - lo, n))], x[along(axis, slice(0, hi))]
    return xp.concatenate([before, x, after], axis=axis)


def _fold(g, axis, lo, hi, mode):
    """dL/dx along ``axis`` from dL/dy: the middle of g plus what the new elements copied back."""
    n = g.shape[axis] - lo - hi
    gx = g[along(axis, slice(lo, lo + n))].copy()
    before, after = g[along(axis, slice(0, lo))], g[along(axis, slice(lo + n, lo + n + hi))]
    if mode == "reflect":
        gx[along(axis, slice(1, lo + 1))] += before[along(axis, slice(None, None, -1))]
        gx[along(axis, slice(n - 1 - hi, n - 1))] += after[along(axis, slice(None, None, -1))]
    elif mode == "replicate":
        gx[along(axis, slice(0, 1))] += before.sum(axis=axis, keepdims=True)
        gx[along(axis, slice(n - 1, n))] += after.sum(axis=axis, keepdims=True)
    else:  # circular
        gx[along(axis, slice(n - lo, n))] += before
        gx[along(axis, slice(0, hi))] += after
    return gx


class Pad(Function):
    """y = x padded by ``pads`` ((lo, hi) for every axis of x, in axis order) in ``mode``:
    'constant' (with ``value``), 'reflect', 'replicate' or 'circular'; see the module docstring."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, pads, mode="constant", value=0.0):
        self.pads, self.mode, self.value = tuple(pads), mode, value

    def _crop(self, shape):
        """The slices that crop x by the negative pads, and the padding that remains (lo, hi ≥ 0)."""
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(shape, self.pads))
        grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in self.pads)
        return crop, grow

    def forward(self, x):
        xp = get_array_module(x)
        crop, grow = self._crop(x.shape)
        self.x_shape, self.crop, self.grow = x.shape, crop, grow
        x = x[crop]
        if self.mode == "constant":
            y = xp.full(tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, grow)), self.value, dtype=x.dtype)
            y[tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, grow))] = x
            return y
        if not any(lo or hi for lo, hi in grow):
            return x.copy()  # only cropped (or nothing at all): a new array, never a view of the input
        for axis, (lo, hi) in enumerate(grow):
            if lo or hi:
                x = _grow(xp, x, axis, lo, hi, self.mode)
        return x

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.mode == "constant":
            g = gy[tuple(slice(lo, gy.shape[axis] - hi) for axis, (lo, hi) in enumerate(self.grow))]
        else:
            g = gy
            for axis in reversed(range(len(self.grow))):
                lo, hi = self.grow[axis]
                if lo or hi:
                    g = _fold(g, axis, lo, hi, self.mode)
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        gx[self.crop] = g
        return (gx,)
