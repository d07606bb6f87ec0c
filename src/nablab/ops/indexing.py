"""Indexing with PyTorch's rules: ``x[index]`` (:class:`GetItem`) and ``x[index] = v`` (:class:`SetItem`).

PyTorch and NumPy agree on slices, None, Ellipsis, boolean masks and integer arrays, but not on
integers: PyTorch applies every integer (and every 0-d integer tensor) first, as a ``select`` that
removes its dim, and only then the integer arrays and masks (the advanced indices). So on a
(2, 3, 4) tensor ``x[0, :, [0, 1]]`` is ``x[0][:, [0, 1]]``, of shape (3, 2), where NumPy counts
the 0 as a third advanced index, separated from the list by the slice, and gives (2, 3).

:func:`torch_index` therefore splits an index into a basic part (integers, slices, None) and an
advanced part (integer arrays, masks and slices that keep the other dims), and
``x[index]`` is ``x[basic][advanced]``. Among themselves the advanced indices follow NumPy's
rule, which is PyTorch's: adjacent ones put their broadcast shape in their place, separated
ones put it first. Negative slice steps are an error, as in PyTorch.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import function
from ..backend import check, get_array_module
from ..backend import like as on_device_of
from ..function import Function, unbroadcast


def normalize_index(index):
    """An index with tensors replaced by their arrays (a 0-d integer tensor by its int) and sequences
    by arrays; a top-level list holding sequences, tensors, slices, None or Ellipsis is a tuple of
    indices (PyTorch's legacy rule: ``x[[[0, 1], [1, 0]]]`` is ``x[[0, 1], [1, 0]]``)."""
    if isinstance(index, tuple):
        return tuple(_element(i) for i in index)
    if isinstance(index, list) and any(isinstance(i, (list, tuple, slice)) or i is None or i is Ellipsis
                                       or hasattr(i, "shape") for i in index):
        return tuple(_element(i) for i in index)
    return _element(index)


def _element(part):
    """One element of an index in the form :func:`torch_index` takes."""
    if isinstance(part, (int, slice)) or part is None or part is Ellipsis:
        return part
    tensor = function.Tensor  # nablab.tensor sets it once the class exists
    if isinstance(part, tensor):
        part = part.data
    if isinstance(part, (list, tuple)):
        return np.asarray([p.data if isinstance(p, tensor) else p for p in part], dtype=None if part else np.int64)
    is_array = isinstance(part, (np.generic, np.ndarray)) or hasattr(part, "__array_namespace__")
    if is_array and part.ndim == 0 and part.dtype.kind in "iub":  # a 0-d index acts as a number
        return bool(part) if part.dtype.kind == "b" else int(part)
    return part


def _consumed(part) -> int:
    """How many dims of the tensor an index element uses up."""
    if part is None or part is Ellipsis or isinstance(part, bool):
        return 0
    if hasattr(part, "dtype") and part.dtype.kind == "b":
        return part.ndim
    return 1


def _check_in_range(values, dim: int, size: int) -> None:
    """IndexError naming the first index outside ``[-size, size)`` (on a GPU at the next read of the device)."""
    bad = (values < -size) | (values >= size)
    check(bad.any(), IndexError,
          lambda: f"index {int(values[bad].flatten()[0])} is out of bounds for dimension {dim} with size {size}")


def torch_index(index, shape, like=None) -> tuple:
    """``(basic, advanced)`` NumPy indices with ``x[basic + (...,)][advanced] == torch's x[index]``.

    ``basic`` holds the integers, slices and None (a view); ``advanced`` is None when the index has
    no integer array or mask, else the arrays, masks and bools with ``slice(None)`` for the dims
    the basic part kept. Out-of-range integers raise IndexError naming the index and the size.
    Index arrays from the host go to the device of the array ``like`` (the indexed one).
    """
    parts = normalize_index(index)
    parts = parts if isinstance(parts, tuple) else (parts,)
    for p in parts:
        if isinstance(p, slice):
            if p.step is not None and p.step <= 0:
                raise ValueError("step must be greater than zero")
        elif hasattr(p, "dtype"):
            if p.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {p.dtype}")
        elif not (p is None or p is Ellipsis or isinstance(p, numbers.Integral)):
            raise IndexError(f"only integers, slices, None, Ellipsis and integer or boolean tensors are valid "
                             f"indices, got {type(p).__name__}")
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(p) for p in parts)
    if used > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    at = next((i for i, p in enumerate(parts) if p is Ellipsis), None)
    if at is not None:
        parts = parts[:at] + (slice(None),) * (len(shape) - used) + parts[at + 1:]
    basic, advanced, dim = [], [], 0
    for p in parts:
        if p is None:
            basic.append(None)
            advanced.append(slice(None))
        elif isinstance(p, bool):
            advanced.append(p)
        elif isinstance(p, numbers.Integral):
            if not -shape[dim] <= p < shape[dim]:
                raise IndexError(f"index {p} is out of bounds for dimension {dim} with size {shape[dim]}")
            basic.append(int(p))
            dim += 1
        elif isinstance(p, slice):
            basic.append(p)
            advanced.append(slice(None))
            dim += 1
        elif p.dtype.kind == "b":
            if p.shape != tuple(shape[dim:dim + p.ndim]):
                raise IndexError(f"the shape of the mask {list(p.shape)} at index {dim} does not match the shape "
                                 f"of the indexed tensor {list(shape)} at index {dim}")
            basic.extend([slice(None)] * p.ndim)
            advanced.append(p)
            dim += p.ndim
        else:
            _check_in_range(p, dim, shape[dim])
            basic.append(slice(None))
            advanced.append(p)
            dim += 1
    has_advanced = any(not isinstance(a, slice) for a in advanced)
    if has_advanced and like is not None:
        advanced = [on_device_of(like, a) for a in advanced]
    return tuple(basic) + (Ellipsis,), (tuple(advanced) if has_advanced else None)


class GetItem(Function):
    """y = x[index] with PyTorch's rules (:func:`torch_index`): x[basic][advanced].

    dL/dx is zero except at the selected positions, which receive dL/dy; an element selected
    several times (repeated integer indices) receives the sum of its gradients (scatter-add).
    """

    saves_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.shape = x.shape
        self.basic, self.advanced = torch_index(self.index, x.shape, like=x)
        y = x[self.basic]
        return y if self.advanced is None else y[self.advanced]

    def backward(self, gy):
        gx = get_array_module(gy).zeros(self.shape, dtype=gy.dtype)
        selected = gx[self.basic]  # a view of gx
        if self.advanced is None:
            selected[...] = gy
        else:
            get_array_module(gy).add.at(selected, self.advanced, gy)
        return (gx,)


def write(x, index, v) -> None:
    """x[index] = v into the array x, with PyTorch's indexing rules (v broadcast to the selection)."""
    basic, advanced = torch_index(index, x.shape, like=x)
    target = x[basic]
    if advanced is None:
        target[...] = v
    else:
        target[advanced] = v


class SetItem(Function):
    """y = x with y[index] = v (``x[index] = v`` while the graph is recorded; v broadcast to the
    selected shape, in x's dtype).

    dL/dx = dL/dy with the overwritten positions set to 0;  dL/dv = dL/dy at those positions,
    summed over the dims v was broadcast along.
    """

    saves_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        self.v_shape = v.shape
        self.basic, self.advanced = torch_index(self.index, x.shape, like=x)
        y = x.copy()
        write(y, self.index, v)
        return y

    def backward(self, gy):
        gx = gv = None
        if self.needs_input_grad[1]:
            picked = gy[self.basic]
            picked = picked if self.advanced is None else picked[self.advanced]
            extra = len(self.v_shape) - picked.ndim  # v may carry leading size-1 dims
            gv = unbroadcast(picked, self.v_shape[max(extra, 0):]).reshape(self.v_shape)
        if self.needs_input_grad[0]:
            gx = gy.copy()
            write(gx, self.index, 0)
        return gx, gv


class IndexPutAdd(Function):
    """y = x with v added at x[index], repeated positions adding up (``index_put(..., accumulate=True)``);
    dL/dx = dL/dy,  dL/dv = dL/dy at the indexed positions, summed over the dims v was broadcast along."""

    saves_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        xp = get_array_module(x)
        self.v_shape = v.shape
        self.basic, self.advanced = torch_index(self.index, x.shape, like=x)
        y = x.copy()
        target = y[self.basic]
        if self.advanced is None:
            target += v
        else:
            selected = target[self.advanced]
            xp.add.at(target, self.advanced, xp.broadcast_to(v, selected.shape))
        return y

    def backward(self, gy):
        gv = None
        if self.needs_input_grad[1]:
            picked = gy[self.basic]
            picked = picked if self.advanced is None else picked[self.advanced]
            extra = len(self.v_shape) - picked.ndim
            gv = unbroadcast(picked, self.v_shape[max(extra, 0):]).reshape(self.v_shape)
        return gy, gv
