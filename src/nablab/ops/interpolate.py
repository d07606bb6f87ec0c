"""Resampling (``F.interpolate``) of the trailing spatial axes of (N, C, d₁, …, d_k): nearest neighbour and
(bi/tri)linear interpolation, separable, one axis at a time, with PyTorch's source-index rules.

For one axis of input size n and output size m, output position j reads the source coordinate

    nearest         i = min(⌊j · r⌋, n − 1)
    nearest-exact   i = min(⌊max(r·(j + ½) − ½, 0) + ½⌋, n − 1)
    linear          t = r·j (align_corners)  or  t = max(r·(j + ½) − ½, 0);  i₀ = min(⌊t⌋, n − 1),
                    i₁ = min(i₀ + 1, n − 1),  λ = t − i₀,  y[j] = (1 − λ)·x[i₀] + λ·x[i₁]

with the ratio r = 1/scale_factor when a scale factor is given (and not recomputed), else n/m; for
align_corners r = (n − 1)/(m − 1) (0 when m = 1), the corner pixels' centres on each other. The
nearest rules round as PyTorch's CPU kernels do, so the same indices come out. (PyTorch's own
nearest backward uses another rule, which disagrees with its forward for some scale factors, e.g. 1.1
on 6 elements; here the backward is the exact gradient of the forward.)

y is a linear map of x along each axis, so its backward scatters dL/dy back to the source
positions: dL/dx[i] = Σ_{j: i(j) = i} dL/dy[j] (nearest), and
dL/dx[i] = Σ_{j: i₀(j) = i} (1 − λⱼ)·dL/dy[j] + Σ_{j: i₁(j) = i} λⱼ·dL/dy[j] (linear).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..function import Function
from .padding import along


def nearest_indices(in_size: int, out_size: int, scale, exact: bool, dtype):
    """The source index of every output position along one axis (the rules of the module docstring),
    evaluated as PyTorch's CPU kernels do: in the input's precision ``dtype``, rounded to float32
    before the floor."""
    real = np.dtype(dtype).type
    ratio = real(1.0 / scale) if scale else real(in_size) / real(out_size)
    j = np.arange(out_size)
    if exact:  # r·(j + ½) − ½ rounded once (PyTorch's fused multiply-add), clamped at 0, then + ½
        source = np.maximum((np.float64(ratio) * (j + 0.5) - 0.5).astype(dtype), real(0)) + real(0.5)
    else:
        source = ratio * j.astype(dtype)
    return np.minimum(np.floor(source.astype(np.float32)).astype(np.int64), in_size - 1)


def linear_taps(in_size: int, out_size: int, scale, align_corners: bool, dtype):
    """(i₀, i₁, λ) of every output position along one axis, computed in ``dtype`` (float32 or float64)."""
    j = np.arange(out_size)
    if out_size == in_size:
        return j, j, np.zeros(out_size, dtype=dtype)
    real = np.dtype(dtype).type
    if align_corners:
        ratio = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
        source = ratio * j.astype(dtype)
    else:
        ratio = real(1.0 / scale) if scale else real(in_size) / real(out_size)
        source = np.maximum(ratio * (j.astype(dtype) + real(0.5)) - real(0.5), real(0))
    i0 = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    lam = np.clip(source - i0.astype(dtype), 0, 1).astype(dtype)
    return i0, np.minimum(i0 + 1, in_size - 1), lam


def _scatter_add(xp, g, index, size, axis):
    """The backward of ``take(x, index, axis)`` for an x of ``size`` along axis: Σ of g onto each source."""
    out = xp.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1 :], dtype=g.dtype)
    xp.add.at(out, along(axis, index), g)
    return out


class ResizeNearest(Function):
    """y = x at the source indices ``indices`` (one index array per trailing axis); dL/dx sums dL/dy
    over the outputs that copy each element (see the module docstring)."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, indices):
        self.indices = tuple(indices)

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        first = x.ndim - len(self.indices)
        for k, index in enumerate(self.indices):
            x = xp.take(x, xp.asarray(index), axis=first + k)
        return x

    def backward(self, gy):
        xp = get_array_module(gy)
        first = gy.ndim - len(self.indices)
        g = gy
        for k in reversed(range(len(self.indices))):
            g = _scatter_add(xp, g, xp.asarray(self.indices[k]), self.x_shape[first + k], first + k)
        return (g,)


class ResizeLinear(Function):
    """y = (1 − λ)·x[i₀] + λ·x[i₁] along each trailing axis in turn, ``taps`` = ((i₀, i₁, λ), …) one per
    axis (linear, bilinear, trilinear); dL/dx scatters (1 − λ)·dL/dy to i₀ and λ·dL/dy to i₁."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, taps):
        self.taps = tuple(taps)

    @staticmethod
    def _weights(xp, lam, ndim, axis, dtype):
        """λ shaped to broadcast along ``axis`` of an ndim array."""
        return xp.asarray(lam, dtype=dtype).reshape((-1,) + (1,) * (ndim - 1 - axis))

    def forward(self, x):
        xp = get_array_module(x)
        self.shapes = []  # the input shape of each axis's step, for the backward
        first = x.ndim - len(self.taps)
        for k, (i0, i1, lam) in enumerate(self.taps):
            axis = first + k
            self.shapes.append(x.shape)
            w1 = self._weights(xp, lam, x.ndim, axis, x.dtype)
            x = xp.take(x, xp.asarray(i0), axis=axis) * (1 - w1) + xp.take(x, xp.asarray(i1), axis=axis) * w1
        return x

    def backward(self, gy):
        xp = get_array_module(gy)
        first = gy.ndim - len(self.taps)
        g = gy
        for k in reversed(range(len(self.taps))):
            axis, (i0, i1, lam), shape = first + k, self.taps[k], self.shapes[k]
            w1 = self._weights(xp, lam, g.ndim, axis, g.dtype)
            g = (_scatter_add(xp, g * (1 - w1), xp.asarray(i0), shape[axis], axis)
                 + _scatter_add(xp, g * w1, xp.asarray(i1), shape[axis], axis))
        return (g,)
