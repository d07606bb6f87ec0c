"""Free functions that move, join, select and multiply elements, as ``torch.cat`` or ``torch.einsum``:
``nablab.cat(xs)``. Most are the Tensor method of the same name (:mod:`nablab.tensor_shape`);
joining several tensors promotes their dtypes as PyTorch does (:func:`nablab.dtypes.promote_types`).
"""

from __future__ import annotations

import functools

import numpy as np

from . import ops
from .dtypes import promote_types
from .errors import ShapeError
from .ops import einsum as _einsum
from .ops.shape import normalize_dims
from .size import Size
from .tensor import Tensor, as_tensor, promoted_pair


def _tensors(xs, op: str):
    """A sequence of tensors (array-likes become tensors), all cast to their promoted dtype."""
    if isinstance(xs, Tensor):
        raise TypeError(f"{op}() expects a sequence of tensors, got a single tensor")
    xs = [as_tensor(x, like=xs) for x in xs]
    if not xs:
        raise ValueError(f"{op}() expects a non-empty sequence of tensors")
    dtype = functools.reduce(promote_types, [x.dtype for x in xs])
    return [x._cast(dtype) for x in xs]


def _dim(dim, axis):
    """PyTorch's ``dim``, with NumPy's ``axis`` as an alias."""
    return dim if axis is None else axis


def cat(tensors, dim: int = 0, *, axis=None):
    """Join tensors along an existing dim (1-D empty tensors are skipped, as in PyTorch)."""
    xs = _tensors(list(tensors), "cat")
    if any(x.ndim > 1 for x in xs):
        xs = [x for x in xs if x.shape != (0,)] or xs[:1]
    return ops.Concatenate.apply(*xs, axis=_dim(dim, axis))


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, axis=None):
    """Join tensors of one shape along a new dim."""
    return ops.Stack.apply(*_tensors(list(tensors), "stack"), axis=_dim(dim, axis))


def hstack(tensors):
    """Join along dim 1 (dim 0 for vectors); 0-d tensors count as vectors."""
    xs = [x.reshape(1) if x.ndim == 0 else x for x in _tensors(list(tensors), "hstack")]
    return cat(xs, 0 if xs[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, vectors and 0-d tensors as rows."""
    xs = [x.reshape(1, -1) if x.ndim < 2 else x for x in _tensors(list(tensors), "vstack")]
    return cat(xs, 0)


row_stack = vstack


def column_stack(tensors):
    """Join along dim 1, vectors and 0-d tensors as columns."""
    return cat([x.reshape(-1, 1) if x.ndim < 2 else x for x in _tensors(list(tensors), "column_stack")], 1)


def dstack(tensors):
    """Join along dim 2, each tensor seen as at least 3-D (``atleast_3d``)."""
    return cat(atleast_3d(*_tensors(list(tensors), "dstack")), 2)


def _at_least(tensors, fit):
    xs = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = tuple(fit(as_tensor(x)) for x in xs)
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else out


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d → (1,))."""
    return _at_least(tensors, lambda x: x.reshape(1) if x.ndim == 0 else x)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (0-d → (1, 1), (n,) → (1, n))."""
    return _at_least(tensors, lambda x: x.reshape(1, -1) if x.ndim < 2 else x)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (0-d → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1))."""
    shapes = {0: lambda x: (1, 1, 1), 1: lambda x: (1, x.shape[0], 1), 2: lambda x: (*x.shape, 1)}
    return _at_least(tensors, lambda x: x.reshape(shapes[x.ndim](x)) if x.ndim < 3 else x)


def broadcast_shapes(*shapes):
    """The shape that all ``shapes`` broadcast to."""
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeError(f"shapes {list(shapes)} do not broadcast together") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    xs = [as_tensor(x) for x in tensors]
    shape = broadcast_shapes(*[x.shape for x in xs])
    return tuple(x.expand(shape) for x in xs)


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids of the given vectors: output k varies along dim k ('ij'), or with the first
    two dims swapped ('xy', Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    xs = [as_tensor(t).reshape(-1) for t in tensors]
    if any(as_tensor(t).ndim > 1 for t in tensors):
        raise ShapeError(f"meshgrid expects 0-D or 1-D tensors, got shapes {[as_tensor(t).shape for t in tensors]}")
    if indexing == "xy" and len(xs) >= 2:
        xs[0], xs[1] = xs[1], xs[0]
    shape = tuple(len(x) for x in xs)
    grids = [x.reshape([-1 if d == k else 1 for d in range(len(xs))]).expand(shape) for k, x in enumerate(xs)]
    if indexing == "xy" and len(xs) >= 2:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def where(condition, x=None, y=None):
    """x where ``condition`` else y, in the promoted dtype of x and y (gradients flow to x and y);
    with the condition alone, the coordinates of its True elements (``nonzero(as_tuple=True)``)."""
    if x is None and y is None:
        return as_tensor(condition).nonzero(as_tuple=True)
    cond = condition.data if isinstance(condition, Tensor) else condition
    return ops.Where.apply(*promoted_pair(x, y), condition=cond)


def einsum(equation: str, *operands):
    """Σ of products over named indices: ``einsum("bij,bjk->bik", a, b)``; ellipsis, implicit output
    and repeated indices as in PyTorch; the operands may also come as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum.Einsum.apply(*[as_tensor(x) for x in operands], equation=equation)


def tensordot(a, b, dims=2):
    """Σ of products over ``dims`` dims: the last ``dims`` of a with the first ``dims`` of b, or the
    listed pairs ``([dims of a], [dims of b])``."""
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, int):
        if dims < 0:
            raise ValueError(f"tensordot expects dims >= 0, got {dims}")
        pairs = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    else:
        pairs = ([dims[0]] if isinstance(dims[0], int) else list(dims[0]),
                 [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
    da, db = normalize_dims(pairs[0], a.ndim), normalize_dims(pairs[1], b.ndim)
    if len(da) != len(db):
        raise ShapeError(f"tensordot: {len(da)} dims of a against {len(db)} dims of b")
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    ta, tb = [next(letters) for _ in range(a.ndim)], [None] * b.ndim
    for i, j in zip(da, db):
        tb[j] = ta[i]
    tb = [c or next(letters) for c in tb]
    out = [c for k, c in enumerate(ta) if k not in da] + [c for k, c in enumerate(tb) if k not in db]
    return _einsum.Einsum.apply(a, b, equation=f"{''.join(ta)},{''.join(tb)}->{''.join(out)}")


def matmul(a, b):
    return as_tensor(a, like=(b,)) @ b


def transpose(x, dim0: int, dim1: int):
    """Swap two dims (PyTorch's ``torch.transpose``); ``permute`` reorders all."""
    return as_tensor(x).transpose(dim0, dim1)


def reshape(x, *shape):
    """x with another shape (−1: inferred)."""
    return as_tensor(x).reshape(*shape)


def permute(x, dims):
    """x with its dims reordered: result dim i is dim ``dims[i]`` of x."""
    return as_tensor(x).permute(*dims)


def swapaxes(x, axis0: int, axis1: int):
    """Swap two dims (``transpose``)."""
    return as_tensor(x).swapaxes(axis0, axis1)


def swapdims(x, dim0: int, dim1: int):
    """Swap two dims (``transpose``)."""
    return as_tensor(x).swapdims(dim0, dim1)


def t(x):
    """The transpose of a matrix (0-d and 1-d tensors unchanged)."""
    return as_tensor(x).t()


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge dims ``start_dim..end_dim`` into one."""
    return as_tensor(x).flatten(start_dim, end_dim)


def unflatten(x, dim: int, sizes):
    """Split dim ``dim`` into ``sizes``."""
    return as_tensor(x).unflatten(dim, sizes)


def squeeze(x, dim=None):
    """Drop the size-1 dims (all, or those among ``dim``)."""
    return as_tensor(x).squeeze(dim)


def unsqueeze(x, dim: int):
    """Insert a size-1 dim at ``dim``."""
    return as_tensor(x).unsqueeze(dim)


def movedim(x, source, destination):
    """Move dims ``source`` to the places ``destination``."""
    return as_tensor(x).movedim(source, destination)


def moveaxis(x, source, destination):
    """Move dims ``source`` to the places ``destination``."""
    return as_tensor(x).moveaxis(source, destination)


def broadcast_to(x, shape):
    """Broadcast to ``shape`` without copying (−1 keeps a dim)."""
    return as_tensor(x).broadcast_to(shape)


def flip(x, dims):
    """Reverse the elements along ``dims``."""
    return as_tensor(x).flip(dims)


def fliplr(x):
    """Reverse the elements along dim 1."""
    return as_tensor(x).fliplr()


def flipud(x):
    """Reverse the elements along dim 0."""
    return as_tensor(x).flipud()


def roll(x, shifts, dims=None):
    """Shift the elements cyclically along ``dims`` (flattened when None)."""
    return as_tensor(x).roll(shifts, dims)


def tile(x, dims):
    """Tile x ``dims[k]`` times along dim k (ones prepended when ``dims`` is shorter)."""
    return as_tensor(x).tile(dims)


def repeat_interleave(x, repeats, dim=None, *, output_size=None):
    """Each element ``repeats`` times in a row along ``dim``."""
    return as_tensor(x).repeat_interleave(repeats, dim, output_size=output_size)


def split(x, split_size_or_sections, dim: int = 0):
    """Pieces of ``split_size``, or of the listed sizes, along ``dim``."""
    return as_tensor(x).split(split_size_or_sections, dim)


def chunk(x, chunks: int, dim: int = 0):
    """At most ``chunks`` equal pieces along ``dim``."""
    return as_tensor(x).chunk(chunks, dim)


def unbind(x, dim: int = 0):
    """Every slice along ``dim``, that dim removed."""
    return as_tensor(x).unbind(dim)


def narrow(x, dim: int, start: int, length: int):
    """Elements ``start .. start + length − 1`` along ``dim``."""
    return as_tensor(x).narrow(dim, start, length)


def select(x, dim: int, index: int):
    """The slice at ``index`` along ``dim``, that dim removed."""
    return as_tensor(x).select(dim, index)


def tril(x, diagonal: int = 0):
    """The elements on and below a diagonal of the last two dims; 0 above."""
    return as_tensor(x).tril(diagonal)


def triu(x, diagonal: int = 0):
    """The elements on and above a diagonal of the last two dims; 0 below."""
    return as_tensor(x).triu(diagonal)


def diag(x, diagonal: int = 0):
    """A vector's square diagonal matrix, or a matrix's diagonal as a vector."""
    return as_tensor(x).diag(diagonal)


def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """Diagonal ``offset`` of the matrices in dims (dim1, dim2), as the last dim."""
    return as_tensor(x).diagonal(offset, dim1, dim2)


def gather(x, dim: int, index, *, sparse_grad: bool = False):
    """out[i] = x[i with its coordinate ``dim`` replaced by index[i]]."""
    return as_tensor(x).gather(dim, index, sparse_grad=sparse_grad)


def scatter(x, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of x with ``src`` (or ``value``) written where ``index`` points along ``dim``."""
    return as_tensor(x).scatter(dim, index, src, value=value, reduce=reduce)


def scatter_add(x, dim: int, index, src):
    """A copy of x with ``src`` added where ``index`` points along ``dim``."""
    return as_tensor(x).scatter_add(dim, index, src)


def scatter_reduce(x, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """A copy of x with ``src`` reduced into the places ``index`` points to along ``dim``."""
    return as_tensor(x).scatter_reduce(dim, index, src, reduce, include_self=include_self)


def index_select(x, dim: int, index):
    """The slices at the positions ``index`` along ``dim``."""
    return as_tensor(x).index_select(dim, index)


def index_add(x, dim: int, index, source, *, alpha=1):
    """A copy of x with ``alpha · source`` added at the positions ``index`` along ``dim``."""
    return as_tensor(x).index_add(dim, index, source, alpha=alpha)


def index_fill(x, dim: int, index, value):
    """A copy of x with the slices at ``index`` along ``dim`` set to ``value``."""
    return as_tensor(x).index_fill(dim, index, value)


def masked_fill(x, mask, value):
    """A copy of x with ``value`` where ``mask`` is True."""
    return as_tensor(x).masked_fill(mask, value)


def masked_select(x, mask):
    """The elements of x where ``mask`` is True, as a vector."""
    return as_tensor(x).masked_select(mask)


def nonzero(x, *, as_tuple: bool = False):
    """The coordinates of the nonzero elements of x."""
    return as_tensor(x).nonzero(as_tuple=as_tuple)


def argwhere(x):
    """The coordinates of the nonzero elements of x, one row each."""
    return as_tensor(x).argwhere()


def take(x, index):
    """The elements of the flattened x at ``index``."""
    return as_tensor(x).take(index)


def take_along_dim(x, indices, dim=None):
    """``gather`` with the index broadcast against x outside ``dim``."""
    return as_tensor(x).take_along_dim(indices, dim)


def mm(x, mat2):
    """The product of two matrices."""
    return as_tensor(x).mm(mat2)


def bmm(x, mat2):
    """The products of two batches of matrices."""
    return as_tensor(x).bmm(mat2)


def mv(x, vec):
    """A matrix times a vector."""
    return as_tensor(x).mv(vec)


def dot(x, other):
    """The inner product of two vectors."""
    return as_tensor(x).dot(other)


def vdot(x, other):
    """The inner product of two vectors (real tensors: no conjugate)."""
    return as_tensor(x).vdot(other)


def outer(x, vec2):
    """The outer product of two vectors."""
    return as_tensor(x).outer(vec2)


def rot90(x, k: int = 1, dims=(0, 1)):
    """Rotate by 90° ``k`` times in the plane of ``dims``."""
    return as_tensor(x).rot90(k, dims)


def masked_scatter(x, mask, source):
    """A copy of x with the elements of ``source``, in order, where ``mask`` is True."""
    return as_tensor(x).masked_scatter(mask, source)


def trace(x):
    """The sum of the main diagonal of a matrix."""
    return as_tensor(x).trace()


def addmm(x, mat1, mat2, *, beta=1, alpha=1):
    """beta · x + alpha · (mat1 @ mat2)."""
    return as_tensor(x).addmm(mat1, mat2, beta=beta, alpha=alpha)


def addmv(x, mat, vec, *, beta=1, alpha=1):
    """beta · x + alpha · (mat @ vec)."""
    return as_tensor(x).addmv(mat, vec, beta=beta, alpha=alpha)


def addr(x, vec1, vec2, *, beta=1, alpha=1):
    """beta · x + alpha · outer(vec1, vec2)."""
    return as_tensor(x).addr(vec1, vec2, beta=beta, alpha=alpha)


def baddbmm(x, batch1, batch2, *, beta=1, alpha=1):
    """beta · x + alpha · (batch1 @ batch2), batch by batch."""
    return as_tensor(x).baddbmm(batch1, batch2, beta=beta, alpha=alpha)


def addbmm(x, batch1, batch2, *, beta=1, alpha=1):
    """beta · x + alpha · Σ_b batch1[b] @ batch2[b]."""
    return as_tensor(x).addbmm(batch1, batch2, beta=beta, alpha=alpha)


def index_put(x, indices, values, accumulate: bool = False):
    """A copy of x with ``values`` written (or added) at ``x[indices]``."""
    return as_tensor(x).index_put(indices, values, accumulate)


def ravel(x):
    """The elements of x as a vector."""
    return as_tensor(x).ravel()


def tensor_split(x, indices_or_sections, dim: int = 0):
    """Nearly equal pieces, or the pieces between the listed indices, along ``dim``."""
    return as_tensor(x).tensor_split(indices_or_sections, dim)


def hsplit(x, sections):
    """tensor_split along dim 1 (dim 0 for vectors); equal sections must divide the size."""
    return as_tensor(x).hsplit(sections)


def vsplit(x, sections):
    """tensor_split along dim 0; equal sections must divide the size."""
    return as_tensor(x).vsplit(sections)


def dsplit(x, sections):
    """tensor_split along dim 2; equal sections must divide the size."""
    return as_tensor(x).dsplit(sections)


def diag_embed(x, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The vectors along x's last dim as diagonals of square matrices in dims (dim1, dim2)."""
    return as_tensor(x).diag_embed(offset, dim1, dim2)


def index_copy(x, dim: int, index, source):
    """A copy of x with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
    return as_tensor(x).index_copy(dim, index, source)


def _triangle_indices(lower: bool, row: int, col: int, offset: int, dtype):
    pick = np.tril_indices if lower else np.triu_indices
    return Tensor._make(np.stack(pick(row, offset, col)).astype(dtype))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=np.int64):
    """The (2, N) coordinates of the elements on and below diagonal ``offset`` of a row × col matrix."""
    return _triangle_indices(True, row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=np.int64):
    """The (2, N) coordinates of the elements on and above diagonal ``offset`` of a row × col matrix."""
    return _triangle_indices(False, row, col, offset, dtype)


def inner(x, other):
    """The sum of products over the last dims of x and other."""
    return as_tensor(x).inner(other)


__all__ = [
    "addbmm", "addmm", "addmv", "addr", "argwhere", "atleast_1d", "atleast_2d", "atleast_3d", "baddbmm", "bmm",
    "broadcast_shapes", "broadcast_tensors", "broadcast_to", "cat", "chunk", "column_stack", "concat",
    "concatenate", "diag", "diag_embed", "diagonal", "dot", "dsplit", "dstack", "einsum", "flatten", "flip",
    "fliplr", "flipud", "gather", "hsplit", "hstack", "index_add", "index_copy", "index_fill", "index_put",
    "index_select", "inner", "masked_fill", "masked_scatter", "masked_select", "matmul", "meshgrid", "mm",
    "moveaxis", "movedim", "mv", "narrow", "nonzero", "outer", "permute", "ravel", "repeat_interleave", "reshape",
    "roll", "rot90", "row_stack", "scatter", "scatter_add", "scatter_reduce", "select", "split", "squeeze",
    "stack", "swapaxes", "swapdims", "t", "take", "take_along_dim", "tensor_split", "tensordot", "tile", "trace",
    "transpose", "tril", "tril_indices", "triu", "triu_indices", "unbind", "unflatten", "unsqueeze", "vdot",
    "vsplit", "vstack", "where",
]
