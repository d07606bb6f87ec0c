"""Values picked by index along one axis: what max/min/median along a dim, sort, topk, cummax and cummin
return, and the one op they differentiate through."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class TakeAlong(Function):
    """y = x picked at ``indices`` along ``axis`` (``take_along_axis``: y[…, j, …] = x[…, indices[…, j, …], …]);
    dL/dx = dL/dy added at the picked positions (an index picked twice gets both), 0 elsewhere.

    ``indices`` is a constant integer array with x's number of dimensions; with ``squeeze`` the
    picking axis (then of length 1) is dropped from y, as a reduction without keepdim drops it.
    ``distinct`` promises that no index repeats along the axis (a permutation, a top-k, one pick per
    slice): the backward then writes dL/dy in place of adding it up (much faster than ``add.at``).
    """

    saves_inputs = False

    def __init__(self, indices, axis, squeeze=False, distinct=False):
        self.indices, self.axis, self.squeeze, self.distinct = indices, axis, squeeze, distinct

    def forward(self, x):
        self.shape = x.shape
        y = get_array_module(x).take_along_axis(x, self.indices, axis=self.axis)
        return y.squeeze(self.axis) if self.squeeze else y

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.squeeze:
            gy = xp.expand_dims(gy, self.axis)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if self.distinct:
            xp.put_along_axis(gx, self.indices, gy, axis=self.axis)
            return (gx,)
        index = list(xp.indices(self.indices.shape, sparse=True))
        index[self.axis] = self.indices
        xp.add.at(gx, tuple(index), gy)
        return (gx,)
