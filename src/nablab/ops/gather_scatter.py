"""Gather and scatter along a dim: ``gather``, ``scatter``, ``scatter_reduce`` (and ``scatter_add``),
``index_add``. The integer ``index`` is a constant parameter of each op, never differentiated.

For a dim d, element i = (i₀, …, i_{n−1}) of ``index`` names the position p(i) of x that is i
with its d-th coordinate replaced by index[i]. :func:`positions` builds p as a tuple of arrays.
Tensors of 0 dims are handled as tensors of shape (1,).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module, like
from ..errors import ShapeError
from ..function import Function
from .indexing import _check_in_range
from .shape import normalize_dim


def positions(index, dim: int) -> tuple:
    """p(i) for every element i of ``index``: index itself at ``dim``, broadcast aranges elsewhere."""
    xp = get_array_module(index)
    grids = [xp.arange(n).reshape((1,) * k + (n,) + (1,) * (index.ndim - k - 1)) for k, n in enumerate(index.shape)]
    grids[dim] = index
    return tuple(grids)


def _prepared(op: str, x_shape: tuple, index, dim, src_shape=None):
    """``(dim, index)`` as the op uses them (0-d as 1-d), after checking them as PyTorch does."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}(): expected an integer index tensor, got dtype {index.dtype}")
    ndim = max(len(x_shape), 1)
    dim = normalize_dim(dim, len(x_shape))
    index = index.reshape(index.shape or (1,))
    x_shape = x_shape or (1,)
    if index.ndim != ndim:
        raise ShapeError(f"{op}(): index of shape {index.shape} must have as many dims as the tensor "
                         f"of shape {x_shape}")
    if src_shape is not None and len(src_shape or (1,)) != ndim:
        raise ShapeError(f"{op}(): src of shape {src_shape} must have as many dims as the index of shape {index.shape}")
    for d in range(ndim):
        if d != dim and index.shape[d] > x_shape[d]:
            raise ShapeError(f"{op}(): index of shape {index.shape} is larger than the tensor of shape {x_shape} "
                             f"outside dim {dim}")
        if src_shape is not None and index.shape[d] > (src_shape or (1,))[d]:
            raise ShapeError(f"{op}(): index of shape {index.shape} is larger than src of shape {src_shape}")
    _check_in_range(index, dim, x_shape[dim])
    return dim, index


def _leading(index) -> tuple:
    """The slices of src that an index of this shape reads: src[:n₀, :n₁, …]."""
    return tuple(slice(n) for n in index.shape)


class Gather(Function):
    """y[i] = x[p(i)] (``gather(dim, index)``: y has the shape of index);
    dL/dx[j] = Σ_{i: p(i) = j} dL/dy[i] (scatter-add of dL/dy)."""

    saves_inputs = False

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.shape = x.shape
        self.index = like(x, self.index)
        dim, index = _prepared("gather", x.shape, self.index, self.dim)
        self.pos, self.index_shape = positions(index, dim), index.shape
        return x.reshape(x.shape or (1,))[self.pos].reshape(self.index.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape or (1,), dtype=gy.dtype)
        xp.add.at(gx, self.pos, gy.reshape(self.index_shape))
        return (gx.reshape(self.shape),)


class Scatter(Function):
    """y = x with y[p(i)] = src[i] for every element i of index (``scatter(dim, index, src)``; where
    index repeats a position, one of the writes wins, as in PyTorch);
    dL/dx = dL/dy, zero at the written positions;  dL/dsrc[i] = dL/dy[p(i)] (0 outside index's shape)."""

    saves_inputs = False

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x, src):
        self.shape, self.src_shape = x.shape, src.shape
        self.index = like(x, self.index)
        dim, index = _prepared("scatter", x.shape, self.index, self.dim, src.shape)
        self.pos, self.part = positions(index, dim), _leading(index)
        y = x.reshape(x.shape or (1,)).copy()
        y[self.pos] = src.reshape(src.shape or (1,))[self.part]
        return y.reshape(x.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        gy1 = gy.reshape(self.shape or (1,))
        gx = gsrc = None
        if self.needs_input_grad[0]:
            gx = gy1.copy()
            gx[self.pos] = 0
            gx = gx.reshape(self.shape)
        if self.needs_input_grad[1]:
            gsrc = xp.zeros(self.src_shape or (1,), dtype=gy.dtype)
            gsrc[self.part] = gy1[self.pos]
            gsrc = gsrc.reshape(self.src_shape)
        return gx, gsrc


_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _identity(reduce: str, dtype):
    """The value a reduction starts from when x's own values are left out (include_self=False)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


class ScatterReduce(Function):
    """y[j] = reduce({x[j]} ∪ {src[i] : p(i) = j}) (``scatter_reduce(dim, index, src, reduce, include_self)``;
    without include_self x[j] takes part only where no src element lands; ``scatter_add`` is reduce='sum').

    Gradients, with c[j] the number of terms at j:
    sum:  dL/dx = dL/dy (0 at written j without include_self),  dL/dsrc[i] = dL/dy[p(i)];
    mean: the same, each divided by c;
    amax/amin: dL/dy[j] shared evenly by the terms equal to y[j] (PyTorch's rule for ties);
    prod: dL/dterm = dL/dy · (product of the other terms) (exact with zeros).
    """

    saves_output = True

    def __init__(self, dim, index, reduce, include_self=True):
        if reduce not in _UFUNC:
            raise ValueError(f"reduce must be one of {sorted(_UFUNC)}, got {reduce!r}")
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self

    def forward(self, x, src):
        xp = get_array_module(x)
        self.shape, self.src_shape = x.shape, src.shape
        self.index = like(x, self.index)
        dim, index = _prepared("scatter_reduce", x.shape, self.index, self.dim, src.shape)
        self.pos, self.part = positions(index, dim), _leading(index)
        x1, terms = x.reshape(x.shape or (1,)), src.reshape(src.shape or (1,))[self.part]
        written = xp.zeros(x1.shape, dtype=bool)
        written[self.pos] = True
        count = xp.zeros(x1.shape, dtype=np.int64)
        xp.add.at(count, self.pos, 1)
        y = x1.copy()
        if not self.include_self:
            y[written] = _identity(self.reduce, x.dtype)
        getattr(xp, _UFUNC[self.reduce]).at(y, self.pos, terms)
        self.self_counts = (~written) | self.include_self  # where x's own value is a term
        count = count + self.self_counts
        if self.reduce == "mean":
            safe = xp.maximum(count, 1)
            y = (y / safe).astype(y.dtype) if y.dtype.kind == "f" else y // safe
        self.count, self.x, self.terms, self.y = count, x1, terms, y
        return y.reshape(x.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        gy1, pos = gy.reshape(self.y.shape), self.pos
        if self.reduce in ("sum", "mean"):
            g = gy1 / xp.maximum(self.count, 1) if self.reduce == "mean" else gy1
            gx, gterms = g * self.self_counts, g[pos]
        elif self.reduce == "prod":
            gx, gterms = self._prod_grads(xp, gy1)
        else:  # amax, amin: the terms equal to the result share its gradient
            self_hit = self.self_counts & (self.x == self.y)
            term_hit = self.terms == self.y[pos]
            ties = self_hit.astype(gy.dtype)
            xp.add.at(ties, pos, term_hit.astype(gy.dtype))
            share = gy1 / xp.maximum(ties, 1)
            gx, gterms = share * self_hit, share[pos] * term_hit
        gsrc = xp.zeros(self.src_shape or (1,), dtype=gy.dtype)
        gsrc[self.part] = gterms
        return gx.astype(gy.dtype, copy=False).reshape(self.shape), gsrc.reshape(self.src_shape)

    def _prod_grads(self, xp, gy1):
        """dL/dterm = dL/dy · ∏(other terms): the product of the nonzero terms, divided by this one if
        it is nonzero and no other term is 0; times 1 for the only zero term; else 0."""
        pos, x, terms, counted = self.pos, self.x, self.terms, self.self_counts
        zeros = ((x == 0) & counted).astype(np.int64)
        xp.add.at(zeros, pos, (terms == 0).astype(np.int64))
        nonzero_product = xp.where(counted & (x != 0), x, 1).astype(gy1.dtype)
        xp.multiply.at(nonzero_product, pos, xp.where(terms != 0, terms, 1).astype(gy1.dtype))

        def grad(values, z, p):
            safe = xp.where(values != 0, values, 1)
            return xp.where(values != 0, (z == 0) * p / safe, (z == 1) * p)

        gx = gy1 * grad(x, zeros, nonzero_product) * counted
        gterms = gy1[pos] * grad(terms, zeros[pos], nonzero_product[pos])
        return gx, gterms


class IndexAdd(Function):
    """y = x with y[…, index[k], …] += α · source[…, k, …] along ``dim`` (``index_add``; repeated
    indices add up);  dL/dx = dL/dy,  dL/dsource[…, k, …] = α · dL/dy[…, index[k], …]."""

    saves_inputs = False

    def __init__(self, dim, index, alpha=1):
        self.dim, self.index, self.alpha = dim, index, alpha

    def forward(self, x, source):
        xp = get_array_module(x)
        self.index = like(x, self.index)
        self.shape = x.shape
        index = self.index.reshape(-1)
        if self.index.ndim > 1 or index.dtype.kind not in "iu":
            raise TypeError(f"index_add(): index must be a 1-D integer tensor, got shape {self.index.shape}, "
                            f"dtype {index.dtype}")
        dim = self.dim = normalize_dim(self.dim, x.ndim)
        x1 = x.reshape(x.shape or (1,))
        expected = x1.shape[:dim] + (len(index),) + x1.shape[dim + 1:]
        if (source.shape or (1,)) != expected:
            raise ShapeError(f"index_add(): source of shape {source.shape} does not fit a tensor of shape {x.shape} "
                             f"with {len(index)} indices along dim {dim} (expected {expected})")
        _check_in_range(index, dim, x1.shape[dim])
        self.flat_index, self.source_shape = index, source.shape
        y = x1.copy()
        xp.add.at(xp.moveaxis(y, dim, 0), index, self.alpha * xp.moveaxis(source.reshape(expected), dim, 0))
        return y.reshape(x.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        gsource = None
        if self.needs_input_grad[1]:
            picked = xp.take(gy.reshape(gy.shape or (1,)), self.flat_index, axis=self.dim)
            gsource = (picked * self.alpha).astype(gy.dtype, copy=False).reshape(self.source_shape)
        return gy, gsource
