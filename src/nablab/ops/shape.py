"""Ops that move elements without changing them: reshape, transpose, broadcast, indexing,
concatenate and stack. Their backward moves the gradient back the same way."""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Reshape(Function):
    """y = x viewed with another shape;  dL/dx = dL/dy reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {x.shape} into {self.shape}") from None

    def backward(self, gy):
        return (gy.reshape(self.in_shape),)


class Transpose(Function):
    """y = x with its axes permuted (reversed when ``axes`` is None);  dL/dx = dL/dy with the
    inverse permutation."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        if self.axes is not None and sorted(a % x.ndim for a in self.axes) != list(range(x.ndim)):
            raise ValueError(f"axes {self.axes} are not a permutation of the {x.ndim} axes")
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return (gy.transpose(),)
        inverse = np.argsort([a % gy.ndim for a in self.axes])
        return (gy.transpose(tuple(inverse)),)


class BroadcastTo(Function):
    """y = x repeated along new or size-1 axes to ``shape``;  dL/dx = dL/dy summed over them."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return (unbroadcast(gy, self.in_shape),)


def normalize_index(index):
    """Replace tensors inside an index by their arrays (integer or boolean), keeping the structure."""
    from ..tensor import Tensor

    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "shape") and getattr(p, "ndim", 0) > 0 for p in parts)


class GetItem(Function):
    """y = x[index] for slices, integers, None, Ellipsis and integer/boolean arrays.

    dL/dx is zero except at the selected positions, which receive dL/dy; an element selected
    several times (repeated integer indices) receives the sum of its gradients (scatter-add).
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_advanced(self.index):
            xp.add.at(gx, self.index, gy)
        else:
            gx[self.index] = gy
        return (gx,)


class Concatenate(Function):
    """y = [x₁, x₂, …] joined along ``axis``;  dL/dxᵢ = the slice of dL/dy where xᵢ landed."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        cuts = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(gy, cuts, axis=self.axis))


class Stack(Function):
    """y = [x₁, x₂, …] stacked along a new ``axis``;  dL/dxᵢ = dL/dy indexed at i on that axis."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        return get_array_module(*xs).stack(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.moveaxis(gy, self.axis, 0))
