"""Orderings along one axis: the indices of sort, topk and the median along a dim (their values are picked
through :class:`~nablab.ops.selection.TakeAlong`, which carries the gradient to the picked elements)."""

from __future__ import annotations

from ..backend import get_array_module


def sort_indices(x, axis, descending=False):
    """The stable sorting permutation of x along ``axis``: equal elements keep their order, NaNs count
    as the largest (last ascending, first descending), as PyTorch's ``sort(stable=True)``.

    Descending: sort the reversed axis ascending (stably), then reverse the result; equal elements
    then come out in their original order.
    """
    xp = get_array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return (n - 1) - xp.flip(xp.argsort(xp.flip(x, axis), axis=axis, kind="stable"), axis)


def median_indices(x, axis):
    """The index of the lower median of x along ``axis`` (kept as a length-1 axis), as PyTorch's
    ``median(dim)``: the ⌈n/2⌉-th smallest in stable order, or the first NaN where a slice has one."""
    xp = get_array_module(x)
    order = sort_indices(x, axis)
    n = x.shape[axis]
    position = xp.full(x.shape[:axis] + (1,) + x.shape[axis + 1 :], (n - 1) // 2)
    if x.dtype.kind == "f":
        nans = xp.isnan(x).sum(axis=axis, keepdims=True)
        position = xp.where(nans > 0, n - nans, position)
    return xp.take_along_axis(order, position, axis=axis)
