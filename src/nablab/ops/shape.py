"""Ops that move elements without changing them: reshape, permute, broadcast, concatenate and stack.
Their backward moves the gradient back the same way. Indexing is in :mod:`nablab.ops.indexing`."""

from __future__ import annotations

import numbers

import numpy as np

from ..backend import get_array_module
from ..errors import DimError, ShapeError
from ..function import Function, unbroadcast


def normalize_dim(dim, ndim: int, insert: bool = False) -> int:
    """``dim`` as an index in ``[0, ndim)``, PyTorch's rule: negative dims count from the end and a 0-d
    tensor accepts 0 and −1. With ``insert`` the dim is a place for a new dim, in ``[0, ndim]``.
    Anything else raises :class:`~nablab.errors.DimError`."""
    if type(dim) is not int:  # the common case first: this runs for every dim argument
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"a dim must be an int, got {type(dim).__name__} {dim!r}")
        dim = int(dim)
    n = ndim + 1 if insert else (ndim or 1)
    if not -n <= dim < n:
        raise DimError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def normalize_dims(dims, ndim: int) -> tuple:
    """A dim or a sequence of dims as a tuple of distinct indices in ``[0, ndim)`` (in the order given)."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    out = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise ShapeError(f"dims {dims} name a dimension twice")
    return out


class Reshape(Function):
    """y = x viewed with another shape;  dL/dx = dL/dy reshaped back."""

    saves_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ShapeError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into "
                             f"{tuple(self.shape)}") from None

    def backward(self, gy):
        return (gy.reshape(self.in_shape),)


class Transpose(Function):
    """y = x with its dims permuted: y.shape[i] = x.shape[axes[i]] (``permute``; ``transpose(d0, d1)``
    is the permutation that swaps two dims);  dL/dx = dL/dy with the inverse permutation."""

    saves_inputs = False

    def __init__(self, axes):
        self.axes = tuple(axes)

    def forward(self, x):
        if len(self.axes) != x.ndim:
            raise ShapeError(f"permute of a tensor of shape {x.shape} ({x.ndim} dims) needs {x.ndim} dims, "
                             f"got {self.axes}")
        self.axes = normalize_dims(self.axes, x.ndim)
        return x.transpose(self.axes)

    def backward(self, gy):
        return (gy.transpose(tuple(np.argsort(self.axes))),)


class Contiguous(Function):
    """y = a row-major copy of x (``contiguous`` of a tensor whose elements lie otherwise);  dL/dx = dL/dy."""

    saves_inputs = False

    def forward(self, x):
        return get_array_module(x).ascontiguousarray(x)

    def backward(self, gy):
        return (gy,)


class BroadcastTo(Function):
    """y = x repeated along new or size-1 dims to ``shape`` (``expand``);  dL/dx = dL/dy summed over them."""

    saves_inputs = False

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return get_array_module(x).broadcast_to(x, self.shape)
        except ValueError:
            raise ShapeError(f"a tensor of shape {x.shape} cannot be expanded to shape {self.shape}") from None

    def backward(self, gy):
        return (unbroadcast(gy, self.in_shape),)


class Concatenate(Function):
    """y = [x₁, x₂, …] joined along dim ``axis``;  dL/dxᵢ = the slice of dL/dy where xᵢ landed."""

    saves_inputs = False

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        first = xs[0]
        if first.ndim == 0:
            raise ShapeError("zero-dimensional tensor (at position 0) cannot be concatenated")
        self.axis = axis = normalize_dim(self.axis, first.ndim)
        def outside(shape):
            return shape[:axis] + shape[axis + 1:]

        for i, x in enumerate(xs):
            if x.ndim != first.ndim or outside(x.shape) != outside(first.shape):
                raise ShapeError(f"cat along dim {axis}: tensor {i} has shape {x.shape}, which does not fit "
                                 f"tensor 0's shape {first.shape} outside dim {axis}")
        self.sizes = [x.shape[axis] for x in xs]
        return get_array_module(*xs).concatenate(xs, axis=axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        cuts = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(gy, cuts, axis=self.axis))


class Stack(Function):
    """y = [x₁, x₂, …] stacked along a new dim ``axis``;  dL/dxᵢ = dL/dy indexed at i on that dim."""

    saves_inputs = False

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        self.axis = normalize_dim(self.axis, xs[0].ndim, insert=True)
        for i, x in enumerate(xs):
            if x.shape != xs[0].shape:
                raise ShapeError(f"stack expects tensors of one shape, but got {xs[0].shape} at entry 0 "
                                 f"and {x.shape} at entry {i}")
        return get_array_module(*xs).stack(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.moveaxis(gy, self.axis, 0))
