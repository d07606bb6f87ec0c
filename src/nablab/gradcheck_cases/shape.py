"""The gradient checks of shape moves, indexing, gather/scatter and the linear-algebra products."""

from __future__ import annotations

import numpy as np

from .. import functions as fx
from ..ops import BroadcastTo, MatMul, Reshape, Transpose
from ..ops.einsum import Einsum
from ..ops.gather_scatter import Gather, IndexAdd, Scatter, ScatterReduce
from ..ops.indexing import GetItem, IndexPutAdd, SetItem
from ..ops.reorder import Flip, Roll
from ..ops.repeat import RepeatInterleave, Tile
from ..ops.shape import Contiguous
from ..ops.triangular import DiagEmbed, Diagonal, Triangle
from ..ops.windows import Unfold
from .case import Case
from .case import distinct as _distinct
from .case import normal as _n
from .case import positive as _positive

_INDEX = np.array([[0, 2, 0], [1, 0, 0]])  # repeats a position in each column: gradients add up


def _set_item(a, b):
    out = a * 1.0
    out[:, np.array([3, 0, 2])] = b
    out[0, 1:3] = b[1, :2] * 2.0  # overwrites b[0, 2]: its gradient is 0
    return out.tanh()


def _scatter_reduce(reduce, include_self=True):
    return lambda a, s: a.scatter_reduce(0, _INDEX, s, reduce, include_self=include_self).tanh()


CASES: dict[str, Case] = {
    "getitem (PyTorch's rule: int, slice, list)": Case(GetItem, lambda a: a[0, :, [1, 3, 1]].tanh(),
                                                      lambda r: [_n(r, 2, 3, 4)]),
    "getitem (mask, None, Ellipsis)": Case(GetItem, lambda a: a[None, ..., np.array([True, False, True, True])]
                                           * a[a.data > 0].sum(), lambda r: [_n(r, 2, 3, 4)]),
    "setitem": Case(SetItem, _set_item, lambda r: [_n(r, 2, 4), _n(r, 2, 3)]),
    "index_put (accumulate, repeated positions)": Case(
        IndexPutAdd, lambda a, v: a.index_put((np.array([0, 2, 0]), np.array([1, 3, 1])), v, accumulate=True).tanh(),
        lambda r: [_n(r, 3, 4), _n(r, 3)]),
    "contiguous": Case(Contiguous, lambda a: a.permute(1, 0).contiguous().tanh(), lambda r: [_n(r, 3, 4)]),
    "transpose (two dims) and movedim": Case(
        Transpose, lambda a: a.transpose(0, -1).tanh() * a.movedim(0, 2).mT.sum(), lambda r: [_n(r, 2, 3, 4)]),
    "expand (-1 keeps a dim)": Case(BroadcastTo, lambda a: a.expand(2, -1, 4).tanh(), lambda r: [_n(r, 3, 1)]),
    "squeeze / unsqueeze / unflatten": Case(
        Reshape, lambda a: a.squeeze(1).unsqueeze(-1).unflatten(0, (2, 2)).tanh(), lambda r: [_n(r, 4, 1, 3)]),
    "flip": Case(Flip, lambda a: a.flip(0, -1) * a, lambda r: [_n(r, 3, 4)]),
    "roll": Case(Roll, lambda a: a.roll((1, -2), (0, 1)) * a + a.roll(3) * a, lambda r: [_n(r, 3, 4)]),
    "repeat (tile)": Case(Tile, lambda a: a.repeat(2, 1, 3).tanh(), lambda r: [_n(r, 3, 2)]),
    "repeat_interleave": Case(RepeatInterleave, lambda a: a.repeat_interleave(np.array([2, 0, 1]), dim=1).tanh()
                              + a.repeat_interleave(2).sum(), lambda r: [_n(r, 2, 3)]),
    "tril / triu": Case(Triangle, lambda a: a.tril(-1) * 2.0 + a.triu(1).tanh(), lambda r: [_n(r, 2, 3, 4)]),
    "diagonal": Case(Diagonal, lambda a: a.diagonal(1, 0, 2).tanh() + a.diagonal(-1, -1, 1).sum(),
                     lambda r: [_n(r, 3, 2, 4)]),
    "diag (of a vector)": Case(DiagEmbed, lambda a: a.diag(-1).tanh(), lambda r: [_n(r, 3)]),
    "unfold (overlapping windows)": Case(Unfold, lambda a: a.unfold(1, 3, 2).tanh(), lambda r: [_n(r, 2, 7)]),
    "gather (repeated indices)": Case(Gather, lambda a: a.gather(0, _INDEX).tanh(), lambda r: [_n(r, 3, 4)]),
    "scatter (src)": Case(Scatter, lambda a, s: a.scatter(1, np.array([[3, 0], [1, 2]]), s).tanh(),
                          lambda r: [_n(r, 2, 4), _n(r, 3, 3)]),
    "scatter_add": Case(ScatterReduce, lambda a, s: a.scatter_add(0, _INDEX, s).tanh(),
                        lambda r: [_n(r, 3, 4), _n(r, 2, 3)]),
    "scatter_reduce (mean, without self)": Case(ScatterReduce, _scatter_reduce("mean", False),
                                                lambda r: [_n(r, 3, 4), _n(r, 2, 3)]),
    "scatter_reduce (amax)": Case(ScatterReduce, _scatter_reduce("amax"),
                                  lambda r: [_distinct(r, 3, 4), _distinct(r, 2, 3)], smooth=False),
    "scatter_reduce (amin, without self)": Case(ScatterReduce, _scatter_reduce("amin", False),
                                                lambda r: [_distinct(r, 3, 4), _distinct(r, 2, 3)], smooth=False),
    "scatter_reduce (prod)": Case(ScatterReduce, _scatter_reduce("prod"),
                                  lambda r: [_positive(r, 3, 4), _positive(r, 2, 3)]),
    "index_add": Case(IndexAdd, lambda a, s: a.index_add(1, np.array([2, 0, 2]), s, alpha=1.5),
                      lambda r: [_n(r, 2, 4), _n(r, 2, 3)]),
    "einsum (batched product)": Case(Einsum, lambda a, b: fx.einsum("bij,bjk->bik", a, b),
                                     lambda r: [_n(r, 2, 3, 4), _n(r, 2, 4, 5)]),
    "einsum (trace, diagonal, ellipsis broadcast)": Case(
        Einsum, lambda a, b, c: fx.einsum("ii,...ij,...j->...i", a, b, c).tanh(),
        lambda r: [_n(r, 3, 3), _n(r, 2, 1, 3, 4), _n(r, 3, 4)]),
    "einsum (implicit output, index only in one operand)": Case(
        Einsum, lambda a, b: fx.einsum("ijk,jl", a, b).tanh(), lambda r: [_n(r, 2, 3, 4), _n(r, 3, 5)]),
    "matmul (broadcast batch dims, 1-D)": Case(
        MatMul, lambda a, b, v: (a @ b).tanh() @ v + (v @ b.mT).sum(), lambda r: [_n(r, 2, 1, 3, 4), _n(r, 5, 4, 3),
                                                                                  _n(r, 3)]),
}
