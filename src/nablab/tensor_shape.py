"""The shape methods of :class:`~nablab.Tensor`, with PyTorch's names and meaning: reshaping,
permuting, broadcasting, joining and splitting, indexing, gather/scatter and matrix products.

Each method is a thin wrapper that checks its arguments and calls an op's ``apply`` (the moves and
their gradients are in :mod:`nablab.ops`); :class:`~nablab.Tensor` inherits them from
:class:`ShapeMethods`. Where NumPy and PyTorch differ, PyTorch wins: ``transpose(d0, d1)`` swaps
two dims (``permute`` reorders all), ``repeat`` is NumPy's ``tile``, ``x[0, :, idx]`` follows
PyTorch's indexing rule (:mod:`nablab.ops.indexing`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import function, grad_mode, ops
from .errors import DimError, ShapeError
from .ops import einsum as _einsum
from .ops import gather_scatter, indexing, reorder, repeat, triangular, windows
from .ops.shape import Contiguous, normalize_dim, normalize_dims


def _sizes(args) -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike, as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def _index_array(index, op: str):
    """An index argument (tensor, list, array) as an integer array."""
    data = getattr(index, "data", index)
    data = data if hasattr(data, "dtype") else np.asarray(data, dtype=np.int64 if not np.ndim(data) else None)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}(): expected an integer index tensor, got dtype {data.dtype}")
    return data


def _wrap(array):
    """A constant tensor around ``array`` (the Tensor class, defined after this module, is the one
    :mod:`nablab.function` is given once it exists)."""
    return function.Tensor._make(array)


def _bool_array(mask, op: str):
    data = getattr(mask, "data", mask)
    data = data if hasattr(data, "dtype") else np.asarray(data)
    if data.dtype.kind != "b":
        raise TypeError(f"{op}(): expected a boolean mask, got dtype {data.dtype}")
    return data


class ShapeMethods:
    """Views and moves of a tensor's elements (PyTorch's Tensor methods of the same names)."""

    # ----------------------------------------------------------------- indexing
    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=ops.normalize_index(index))

    def __setitem__(self, index, value):
        """``x[index] = value`` in place, with PyTorch's indexing rules; differentiable: the written
        values get the gradient of their positions, the overwritten elements of x get zero."""
        self._check_leaf("x[index] = value")
        value = self._value_in_my_dtype(value)
        index = ops.normalize_index(index)
        if grad_mode.state.enabled and (self.requires_grad or value.requires_grad):
            self._in_place(indexing.SetItem.apply(self._stand_in(), value, index=index))
        else:  # nothing to record: write into the tensor's memory, which its views share
            indexing.write(self.data, index, value.data)
            if self.creator is not None:
                self.creator.output_modified = True
            self._version += 1

    def _value_in_my_dtype(self, value):
        """A value to write into this tensor, as a tensor of this tensor's dtype."""
        if not hasattr(value, "_cast"):  # a number or an array
            return _wrap(np.asarray(value, dtype=self.data.dtype))
        return value._cast(self.data.dtype)

    def index_put(self, indices, values, accumulate: bool = False):
        """A copy with ``values`` written (or, with ``accumulate``, added: repeats add up) at
        ``self[indices]``, ``indices`` a tuple of index tensors."""
        values = self._value_in_my_dtype(values)
        index = ops.normalize_index(tuple(indices))
        op = indexing.IndexPutAdd if accumulate else indexing.SetItem
        return op.apply(self, values, index=index)

    # ----------------------------------------------------------------- reshaping
    def reshape(self, *shape):
        return ops.Reshape.apply(self, shape=_sizes(shape))

    def view(self, *shape):
        """The same elements with another shape (``-1``: inferred), as PyTorch's ``view`` (always a view
        here only when NumPy can make one; the values are the same either way)."""
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def ravel(self):
        """The elements as a vector."""
        return self.reshape(-1)

    def contiguous(self):
        """Itself if its elements already lie in row-major order, else a row-major copy."""
        return self if self.data.flags.c_contiguous else Contiguous.apply(self)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge dims ``start_dim..end_dim`` into one (a 0-d tensor becomes shape (1,))."""
        if self.ndim == 0:
            normalize_dim(start_dim, 0), normalize_dim(end_dim, 0)
            return self.reshape(1)
        start, end = normalize_dim(start_dim, self.ndim), normalize_dim(end_dim, self.ndim)
        if start > end:
            raise ShapeError(f"flatten() has invalid args: start_dim {start_dim} cannot come after end_dim {end_dim}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def unflatten(self, dim: int, sizes):
        """Split dim ``dim`` into ``sizes`` (one of them may be −1)."""
        dim = normalize_dim(dim, self.ndim)
        sizes = tuple(int(s) for s in sizes)
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or (-1 not in sizes and known != self.shape[dim]) or (
                -1 in sizes and (known == 0 or self.shape[dim] % known)):
            raise ShapeError(f"unflatten: sizes {sizes} do not multiply to the size {self.shape[dim]} of dim {dim} "
                             f"of a tensor of shape {self.shape}")
        return self.reshape(self.shape[:dim] + sizes + self.shape[dim + 1:])

    def squeeze(self, dim=None):
        """Drop the size-1 dims among ``dim`` (an int or a tuple; all of them when None)."""
        dims = range(self.ndim) if dim is None else normalize_dims(dim, self.ndim)
        drop = {d for d in dims if self.ndim and self.shape[d] == 1}
        return self.reshape(tuple(n for d, n in enumerate(self.shape) if d not in drop))

    def unsqueeze(self, dim: int):
        """Insert a size-1 dim at ``dim`` (in ``[-ndim-1, ndim]``)."""
        dim = normalize_dim(dim, self.ndim, insert=True)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    # in-place forms of the moves: the tensor takes the moved view of its elements (and its history)
    def _moved_in_place(self, name: str, move):
        self._check_leaf(name)
        result = move(self._stand_in())
        if result.creator is not None and grad_mode.state.enabled:
            self.creator, self.requires_grad = result.creator, True
        self.data = result.data
        self._version += 1
        return self

    def squeeze_(self, dim=None):
        return self._moved_in_place("squeeze_", lambda x: x.squeeze(dim))

    def unsqueeze_(self, dim: int):
        return self._moved_in_place("unsqueeze_", lambda x: x.unsqueeze(dim))

    def t_(self):
        return self._moved_in_place("t_", lambda x: x.t())

    def transpose_(self, dim0, dim1):
        return self._moved_in_place("transpose_", lambda x: x.transpose(dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    # ----------------------------------------------------------------- permuting
    def permute(self, *dims):
        """Reorder all dims: result dim i is dim ``dims[i]`` of this tensor."""
        return ops.Transpose.apply(self, axes=_sizes(dims))

    def transpose(self, dim0, dim1=None, *more):
        """Swap dims ``dim0`` and ``dim1`` (PyTorch's ``transpose``, not NumPy's permutation)."""
        if more or not isinstance(dim0, numbers.Integral) or not isinstance(dim1, numbers.Integral):
            given = (dim0, *([] if dim1 is None else [dim1]), *more)
            raise TypeError(f"transpose(dim0, dim1) swaps two dims, got {given}: to reorder all dims use "
                            "permute(...)")
        if self.ndim == 0:
            normalize_dim(dim0, 0), normalize_dim(dim1, 0)
            return ops.Transpose.apply(self, axes=())
        order = list(range(self.ndim))
        a, b = normalize_dim(dim0, self.ndim), normalize_dim(dim1, self.ndim)
        order[a], order[b] = order[b], order[a]
        return ops.Transpose.apply(self, axes=tuple(order))

    swapaxes = swapdims = transpose

    def t(self):
        """The transpose of a matrix; tensors of 0 or 1 dims come back as they are."""
        if self.ndim > 2:
            raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but it has shape {self.shape}")
        return self.transpose(0, 1) if self.ndim == 2 else ops.Transpose.apply(self, axes=tuple(range(self.ndim)))

    @property
    def T(self):
        """All dims reversed (PyTorch deprecates it for ndim ≠ 2, and reverses)."""
        return ops.Transpose.apply(self, axes=tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        """The last two dims swapped: a batch of matrices transposed."""
        if self.ndim < 2:
            raise ShapeError(f"tensor.mT is only supported on matrices or batches of matrices, got shape {self.shape}")
        return self.transpose(-2, -1)

    @property
    def H(self):
        """The (conjugate) transpose of a matrix; real tensors have nothing to conjugate."""
        if self.ndim != 2:
            raise ShapeError(f"tensor.H is only supported on matrices (2-D tensors), got shape {self.shape}; "
                             "for batches of matrices use tensor.mH")
        return self.transpose(0, 1)

    @property
    def mH(self):
        """The (conjugate) transpose of a batch of matrices: ``mT`` for real tensors."""
        return self.mT

    def movedim(self, source, destination):
        """Move dims ``source`` (int or tuple) to the places ``destination``; the others keep their order."""
        src, dst = normalize_dims(source, self.ndim), normalize_dims(destination, self.ndim)
        if len(src) != len(dst):
            raise ShapeError(f"movedim: source {source} and destination {destination} have different lengths")
        order = [d for d in range(self.ndim) if d not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return ops.Transpose.apply(self, axes=tuple(order))

    moveaxis = movedim

    # ----------------------------------------------------------------- broadcasting and repeating
    def expand(self, *sizes):
        """Broadcast to ``sizes`` (new dims in front; −1 keeps a dim's size) without copying."""
        sizes = _sizes(sizes)
        new = len(sizes) - self.ndim
        if new < 0:
            raise ShapeError(f"expand: the number of sizes {sizes} is smaller than the number of dims of a tensor "
                             f"of shape {self.shape}")
        if any(s == -1 for s in sizes[:new]):
            raise ShapeError(f"expand: −1 is not allowed for the new leading dims in {sizes}")
        target = sizes[:new] + tuple(n if s == -1 else s for s, n in zip(sizes[new:], self.shape))
        return ops.BroadcastTo.apply(self, shape=target)

    broadcast_to = expand

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """Tile the whole tensor ``sizes[k]`` times along dim k (PyTorch's ``repeat`` = NumPy's ``tile``)."""
        sizes = _sizes(sizes)
        if len(sizes) < self.ndim:
            raise ShapeError(f"repeat: the number of repeat dims {sizes} can not be smaller than the number of dims "
                             f"of a tensor of shape {self.shape}")
        return repeat.Tile.apply(self, reps=sizes)

    def tile(self, *dims):
        """``repeat``, with ones prepended when ``dims`` is shorter than the tensor's dims."""
        dims = _sizes(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element ``repeats`` times in a row along ``dim`` (of the flattened tensor when None);
        ``output_size``, PyTorch's hint of the resulting length, is checked when given."""
        x = self.reshape(-1) if dim is None else self
        dim = 0 if dim is None else normalize_dim(dim, self.ndim)
        if x.ndim == 0:
            x = x.reshape(1)
        counts = repeat.repeat_counts(getattr(repeats, "data", repeats), x.shape[dim])
        y = repeat.RepeatInterleave.apply(x, repeats=counts, dim=dim)
        if output_size is not None and y.shape[dim] != output_size:
            raise ShapeError(f"repeat_interleave: output_size {output_size} given, the result has {y.shape[dim]}")
        return y

    # ----------------------------------------------------------------- reordering
    def flip(self, *dims):
        """Reverse the order of the elements along ``dims``."""
        dims = normalize_dims(_sizes(dims), self.ndim)
        return reorder.Flip.apply(self, dims=dims if self.ndim else ())

    def fliplr(self):
        if self.ndim < 2:
            raise ShapeError(f"fliplr needs a tensor of at least 2 dims, got shape {self.shape}")
        return self.flip(1)

    def flipud(self):
        if self.ndim < 1:
            raise ShapeError("flipud needs a tensor of at least 1 dim, got a 0-d tensor")
        return self.flip(0)

    def rot90(self, k: int = 1, dims=(0, 1)):
        """Rotate by 90° ``k`` times in the plane of ``dims``, from the first dim towards the second."""
        if len(dims) != 2:
            raise ShapeError(f"rot90 expects two dims, got {dims}")
        d0, d1 = normalize_dims(dims, self.ndim)
        k %= 4
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        if k == 2:
            return self.flip(d0, d1)
        if k == 3:
            return self.flip(d0).transpose(d0, d1)
        return self.flip(())

    def roll(self, shifts, dims=None):
        """Shift the elements cyclically by ``shifts`` along ``dims`` (of the flattened tensor when None)."""
        if dims is None:
            if not isinstance(shifts, numbers.Integral):
                shifts = _sizes((shifts,))
                if len(shifts) != 1:
                    raise ShapeError(f"roll: {len(shifts)} shifts and no dims")
                shifts = shifts[0]
            return reorder.Roll.apply(self, shifts=int(shifts), dims=None)
        if self.ndim == 0:
            raise DimError(f"roll: dims {dims} given, but the tensor has no dimensions")
        shifts = _sizes((shifts,)) if not isinstance(shifts, numbers.Integral) else (int(shifts),)
        dims = normalize_dims(dims, self.ndim)
        if len(shifts) != len(dims):
            raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        return reorder.Roll.apply(self, shifts=shifts, dims=dims)

    # ----------------------------------------------------------------- selecting and splitting
    def narrow(self, dim: int, start: int, length: int):
        """Elements ``start .. start + length − 1`` along ``dim`` (a negative start counts from the end)."""
        if self.ndim == 0:
            raise ShapeError("narrow() cannot be applied to a 0-dim tensor")
        dim = normalize_dim(dim, self.ndim)
        size = self.shape[dim]
        start = int(getattr(start, "data", start))
        if not -size <= start <= size:
            raise IndexError(f"narrow: start {start} is out of range for dimension {dim} with size {size}")
        start = start + size if start < 0 else start
        if length < 0 or start + length > size:
            raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})")
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    def select(self, dim: int, index: int):
        """The slice at ``index`` along ``dim``, that dim removed."""
        dim = normalize_dim(dim, self.ndim)
        return self[(slice(None),) * dim + (int(index),)]

    def split(self, split_size_or_sections, dim: int = 0):
        """Pieces of ``split_size`` along ``dim`` (the last one smaller), or of the listed sizes."""
        dim = normalize_dim(dim, self.ndim)
        size = self.shape[dim]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = int(split_size_or_sections)
            if step <= 0 and size:
                raise ValueError(f"split expects split_size to be positive, got {step}")
            sizes = [min(step, size - s) for s in range(0, size, step)] if size else [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != size or any(s < 0 for s in sizes):
                raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (the size of dim "
                                 f"{dim}), but got split_sizes={sizes}")
        starts = np.cumsum([0] + sizes[:-1]).tolist()
        return tuple(self.narrow(dim, s, n) for s, n in zip(starts, sizes))

    def tensor_split(self, indices_or_sections, dim: int = 0):
        """``n`` pieces whose sizes differ by at most one (the first ones larger), or the pieces between
        the listed indices along ``dim``."""
        dim = normalize_dim(dim, self.ndim)
        size = self.shape[dim]
        split_at = getattr(indices_or_sections, "data", indices_or_sections)
        if isinstance(split_at, numbers.Integral) or (hasattr(split_at, "ndim") and split_at.ndim == 0):
            n = int(split_at)
            if n <= 0:
                raise ValueError(f"tensor_split expects the number of sections to be positive, got {n}")
            sizes = [size // n + (k < size % n) for k in range(n)]
            bounds = np.cumsum([0] + sizes).tolist()
        else:
            bounds = [0] + [min(max(int(i) + (size if i < 0 else 0), 0), size) for i in split_at] + [size]
        return tuple(self.narrow(dim, a, max(b - a, 0)) for a, b in zip(bounds[:-1], bounds[1:]))

    def _split_in_order(self, sections, dim: int, name: str):
        """hsplit/vsplit/dsplit: equal sections (which must divide the size) or split indices."""
        if isinstance(sections, numbers.Integral) and self.shape[dim] % sections:
            raise ShapeError(f"{name}: a dim of size {self.shape[dim]} cannot be split into {sections} equal pieces")
        return self.tensor_split(sections, dim)

    def hsplit(self, sections):
        if self.ndim < 1:
            raise ShapeError("hsplit needs a tensor of at least 1 dim, got a 0-d tensor")
        return self._split_in_order(sections, 0 if self.ndim == 1 else 1, "hsplit")

    def vsplit(self, sections):
        if self.ndim < 2:
            raise ShapeError(f"vsplit needs a tensor of at least 2 dims, got shape {self.shape}")
        return self._split_in_order(sections, 0, "vsplit")

    def dsplit(self, sections):
        if self.ndim < 3:
            raise ShapeError(f"dsplit needs a tensor of at least 3 dims, got shape {self.shape}")
        return self._split_in_order(sections, 2, "dsplit")

    def chunk(self, chunks: int, dim: int = 0):
        """At most ``chunks`` pieces of ⌈size / chunks⌉ along ``dim`` (fewer when they run out)."""
        if chunks <= 0:
            raise ValueError(f"chunk expects chunks to be greater than 0, got {chunks}")
        dim = normalize_dim(dim, self.ndim)
        size = self.shape[dim]
        if size == 0:
            return tuple(self.narrow(dim, 0, 0) for _ in range(chunks))
        return self.split(-(-size // chunks), dim)

    def unbind(self, dim: int = 0):
        """Every slice along ``dim``, that dim removed."""
        dim = normalize_dim(dim, self.ndim)
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def unfold(self, dimension: int, size: int, step: int):
        """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim."""
        x = self.reshape(1) if self.ndim == 0 else self
        dim = normalize_dim(dimension, self.ndim)
        if size > x.shape[dim] or size < 0:
            raise ShapeError(f"unfold: maximum size for tensor at dimension {dim} is {x.shape[dim]} but size is {size}")
        if step <= 0:
            raise ValueError(f"unfold: step is {step} but must be > 0")
        y = windows.Unfold.apply(x, dim=dim, size=int(size), step=int(step))
        return y.reshape(size) if self.ndim == 0 else y

    # ----------------------------------------------------------------- diagonals
    def tril(self, diagonal: int = 0):
        """The elements on and below diagonal ``diagonal`` of the last two dims; 0 above."""
        if self.ndim < 2:
            raise ShapeError(f"tril: input tensor must have at least 2 dimensions, got shape {self.shape}")
        return triangular.Triangle.apply(self, diagonal=int(diagonal), upper=False)

    def triu(self, diagonal: int = 0):
        """The elements on and above diagonal ``diagonal`` of the last two dims; 0 below."""
        if self.ndim < 2:
            raise ShapeError(f"triu: input tensor must have at least 2 dimensions, got shape {self.shape}")
        return triangular.Triangle.apply(self, diagonal=int(diagonal), upper=True)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        """Diagonal ``offset`` of the matrices in dims (dim1, dim2), as the last dim."""
        dim1, dim2 = normalize_dim(dim1, self.ndim), normalize_dim(dim2, self.ndim)
        if dim1 == dim2:
            raise ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return triangular.Diagonal.apply(self, offset=int(offset), dim1=dim1, dim2=dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1):
        """Each vector along the last dim as diagonal ``offset`` of a square matrix in the new dims
        (dim1, dim2) of the result; zeros elsewhere."""
        if self.ndim == 0:
            raise ShapeError("diag_embed needs a tensor of at least 1 dim, got a 0-d tensor")
        n, offset = self.shape[-1], int(offset)
        m = n + abs(offset)
        dim1, dim2 = normalize_dim(dim1, self.ndim + 1), normalize_dim(dim2, self.ndim + 1)
        if dim1 == dim2:
            raise ShapeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
        rows, cols = np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0)
        zeros = _wrap(np.zeros(self.shape[:-1] + (m, m), dtype=self.data.dtype))
        out = indexing.SetItem.apply(zeros, self, index=(Ellipsis, rows, cols))
        return out.movedim((self.ndim - 1, self.ndim), (dim1, dim2))

    def diag(self, diagonal: int = 0):
        """A vector's square diagonal matrix, or a matrix's diagonal ``diagonal`` as a vector."""
        if self.ndim == 1:
            return triangular.DiagEmbed.apply(self, offset=int(diagonal))
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise ShapeError(f"diag(): supports 1-D or 2-D tensors, got shape {self.shape}")

    # ----------------------------------------------------------------- gather and scatter
    def gather(self, dim: int, index, *, sparse_grad: bool = False):
        """out[i] = self[i with its coordinate ``dim`` replaced by index[i]]: out has index's shape
        (``sparse_grad`` is accepted; the gradient is always dense)."""
        return gather_scatter.Gather.apply(self, dim=dim, index=_index_array(index, "gather"))

    def _source(self, src, op: str):
        """src for a scatter: a tensor of this dtype (a number fills like value=)."""
        if isinstance(src, numbers.Number):
            return self._value_in_my_dtype(src)
        if src.dtype != self.dtype:
            raise TypeError(f"{op}(): expected self.dtype to be equal to src.dtype, got {self.dtype} and {src.dtype}")
        return src

    def scatter(self, dim: int, index, src=None, *, value=None, reduce=None):
        """A copy with out[p(i)] = src[i] (or value) for every element i of ``index``, p(i) being i with
        coordinate ``dim`` replaced by index[i]; ``reduce`` 'add' or 'multiply' combines instead."""
        index = _index_array(index, "scatter")
        if (src is None) == (value is None):
            raise TypeError("scatter() needs exactly one of src and value")
        if src is None or isinstance(src, numbers.Number):
            full = np.broadcast_to(np.asarray(value if src is None else src, dtype=self.dtype), index.shape)
            src = _wrap(full)
        src = self._source(src, "scatter")
        if reduce is not None:
            names = {"add": "sum", "multiply": "prod"}
            if reduce not in names:
                raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
            return gather_scatter.ScatterReduce.apply(self, src, dim=dim, index=index, reduce=names[reduce])
        return gather_scatter.Scatter.apply(self, src, dim=dim, index=index)

    def scatter_add(self, dim: int, index, src):
        """A copy with out[p(i)] += src[i] for every element i of ``index`` (repeats add up)."""
        return self.scatter_reduce(dim, index, src, "sum")

    def scatter_reduce(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
        """A copy where out[j] reduces ('sum', 'prod', 'mean', 'amax', 'amin') self[j] (if include_self)
        with every src[i] scattered to j."""
        src = self._source(src, "scatter_reduce")
        return gather_scatter.ScatterReduce.apply(self, src, dim=dim, index=_index_array(index, "scatter_reduce"),
                                                  reduce=reduce, include_self=bool(include_self))

    def index_select(self, dim: int, index):
        """The slices at the positions ``index`` (a vector) along ``dim``."""
        index = _index_array(index, "index_select")
        if index.ndim > 1:
            raise ShapeError(f"index_select(): index is supposed to be a vector, got shape {index.shape}")
        if self.ndim == 0:
            return self.reshape(1)[index.reshape(-1)].reshape(())
        dim = normalize_dim(dim, self.ndim)
        return self[(slice(None),) * dim + (index.reshape(-1),)]

    def index_copy(self, dim: int, index, source):
        """A copy with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
        index = _index_array(index, "index_copy").reshape(-1)
        dim = normalize_dim(dim, self.ndim)
        expected = self.shape[:dim] + (len(index),) + self.shape[dim + 1:]
        if tuple(source.shape) != expected:
            raise ShapeError(f"index_copy: source of shape {source.shape} does not fit a tensor of shape "
                             f"{self.shape} with {len(index)} indices along dim {dim} (expected {expected})")
        source = self._source(source, "index_copy")
        return indexing.SetItem.apply(self, source, index=(slice(None),) * dim + (index,))

    def index_add(self, dim: int, index, source, *, alpha=1):
        """A copy with out[…, index[k], …] += alpha · source[…, k, …] along ``dim``."""
        source = self._source(source, "index_add")
        return gather_scatter.IndexAdd.apply(self, source, dim=dim, index=_index_array(index, "index_add"),
                                             alpha=alpha)

    def index_fill(self, dim: int, index, value):
        """A copy with the slices at ``index`` along ``dim`` set to ``value``."""
        dim = normalize_dim(dim, self.ndim)
        index = _index_array(index, "index_fill").reshape(-1)
        n = self.shape[dim] if self.ndim else 1
        indexing._check_in_range(index, dim, n)
        mask = np.zeros(n, dtype=bool)
        mask[index] = True
        return self.masked_fill(mask.reshape([n if d == dim else 1 for d in range(self.ndim)]), value)

    def masked_fill(self, mask, value):
        """A copy with ``value`` (a number or a 0-d tensor) where the boolean ``mask`` (broadcast) is True."""
        mask = _bool_array(mask, "masked_fill")
        if getattr(value, "ndim", 0) != 0:
            raise ShapeError(f"masked_fill only supports a 0-dimensional value tensor, got shape {value.shape}")
        value = self._value_in_my_dtype(value)
        return ops.Where.apply(value, self, condition=mask)

    def masked_select(self, mask):
        """The elements where the boolean ``mask`` (broadcast with self) is True, as a 1-D tensor."""
        mask = _bool_array(mask, "masked_select")
        try:
            shape = np.broadcast_shapes(self.shape, mask.shape)
        except ValueError:
            raise ShapeError(f"masked_select: the mask of shape {mask.shape} does not broadcast with the tensor "
                             f"of shape {self.shape}") from None
        return self.expand(shape)[np.broadcast_to(mask, shape)] if shape else self.reshape(1)[mask.reshape(1)]

    def masked_scatter(self, mask, source):
        """A copy with the elements of ``source``, in order, written where ``mask`` (broadcast) is True."""
        mask = _bool_array(mask, "masked_scatter")
        try:
            mask = np.broadcast_to(mask, self.shape)
        except ValueError:
            raise ShapeError(f"masked_scatter: the mask of shape {mask.shape} does not broadcast to the tensor "
                             f"of shape {self.shape}") from None
        count = int(mask.sum())
        if source.numel() < count:
            raise ShapeError(f"masked_scatter: the mask selects {count} elements, source has only {source.numel()}")
        return indexing.SetItem.apply(self, self._source(source, "masked_scatter").reshape(-1)[:count], index=mask)

    def fill_diagonal(self, fill_value, wrap: bool = False):
        """A copy with ``fill_value`` on the main diagonal (all dims of equal size, or a matrix); with
        ``wrap`` a tall matrix's diagonal starts again below the square. Its in-place form is PyTorch's
        ``fill_diagonal_``."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise ShapeError(f"fill_diagonal needs a matrix or all dims of equal size, got shape {self.shape}")
        step = sum(math.prod(self.shape[d + 1:]) for d in range(self.ndim))
        flat = np.arange(0, self.numel(), step) if wrap and self.ndim == 2 else np.arange(min(self.shape)) * step
        mask = np.zeros(self.numel(), dtype=bool)
        mask[flat] = True
        return self.masked_fill(mask.reshape(self.shape), fill_value)

    def nonzero(self, *, as_tuple: bool = False):
        """The int64 coordinates of the nonzero elements: an (n, ndim) tensor, or ndim vectors (as_tuple)."""
        coords = np.argwhere(self.numpy()).astype(np.int64)
        if as_tuple:  # a 0-d tensor gives one vector: a 0 per nonzero element, as in PyTorch
            columns = coords.T if self.ndim else np.zeros((1, len(coords)), dtype=np.int64)
            return tuple(_wrap(c.copy()) for c in columns)
        return _wrap(coords)

    def argwhere(self):
        return self.nonzero()

    def take(self, index):
        """The elements of the flattened tensor at ``index`` (any shape: the result has index's shape)."""
        index = _index_array(index, "take")
        return self.reshape(-1)[index]

    def take_along_dim(self, indices, dim=None):
        """``gather`` with the index broadcast against self outside ``dim`` (flattened when None)."""
        indices = _index_array(indices, "take_along_dim")
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        dim = normalize_dim(dim, self.ndim)
        if indices.ndim != self.ndim:
            raise ShapeError(f"take_along_dim: indices of shape {indices.shape} must have as many dims as the "
                             f"tensor of shape {self.shape}")
        outside = [s for d, s in enumerate(self.shape) if d != dim]
        other = [s for d, s in enumerate(indices.shape) if d != dim]
        try:
            common = list(np.broadcast_shapes(tuple(outside), tuple(other)))
        except ValueError:
            raise ShapeError(f"take_along_dim: shapes {self.shape} and {indices.shape} do not broadcast "
                             f"outside dim {dim}") from None
        x = self.expand(common[:dim] + [self.shape[dim]] + common[dim:])
        index = np.broadcast_to(indices, tuple(common[:dim] + [indices.shape[dim]] + common[dim:]))
        return x.gather(dim, index)

    def where(self, condition, other):
        """self where ``condition`` else other (``torch.where(condition, self, other)``), in their
        promoted dtype; gradients flow to self and other."""
        return ops.Where.apply(*self._promoted(other), condition=getattr(condition, "data", condition))

    # ----------------------------------------------------------------- products
    def mm(self, mat2):
        """The matrix product of two matrices."""
        if self.ndim != 2 or mat2.ndim != 2:
            raise ShapeError(f"mm(): both arguments must be matrices, got shapes {self.shape} and {mat2.shape}")
        return self @ mat2

    def bmm(self, mat2):
        """The matrix products of two batches of matrices of the same batch size."""
        if self.ndim != 3 or mat2.ndim != 3 or self.shape[0] != mat2.shape[0]:
            raise ShapeError(f"bmm(): expected two 3-D tensors with the same batch size, got shapes {self.shape} "
                             f"and {mat2.shape}")
        return self @ mat2

    def mv(self, vec):
        """A matrix times a vector."""
        if self.ndim != 2 or vec.ndim != 1:
            raise ShapeError(f"mv(): expected a matrix and a vector, got shapes {self.shape} and {vec.shape}")
        return self @ vec

    def dot(self, other):
        """The inner product of two vectors of the same length."""
        if self.ndim != 1 or other.ndim != 1 or self.shape != other.shape:
            raise ShapeError(f"dot(): expected two 1-D tensors of the same length, got shapes {self.shape} "
                             f"and {other.shape}")
        return self @ other

    vdot = dot  # real tensors: no conjugate to take

    def outer(self, vec2):
        """The outer product of two vectors: out[i, j] = self[i] · vec2[j]."""
        if self.ndim != 1 or vec2.ndim != 1:
            raise ShapeError(f"outer(): expected two 1-D tensors, got shapes {self.shape} and {vec2.shape}")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    def inner(self, other):
        """Σ over the last dims: out[i…, j…] = Σₖ self[i…, k] · other[j…, k] (a product with a 0-d tensor)."""
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        if self.shape[-1] != other.shape[-1]:
            raise ShapeError(f"inner() of shapes {self.shape} and {other.shape}: the last dims differ")
        letters = "abcdefghijklmnopqrstuvwxy"
        a, b = letters[: self.ndim - 1], letters[self.ndim - 1: self.ndim + other.ndim - 2]
        return _einsum.Einsum.apply(self, other, equation=f"{a}z,{b}z->{a}{b}")

    def trace(self):
        """The sum of the main diagonal of a matrix (square or not)."""
        if self.ndim != 2:
            raise ShapeError(f"trace: expected a matrix, got shape {self.shape}")
        return self.diagonal().sum()

    def _scaled_sum(self, product, beta, alpha):
        """beta · self + alpha · product (self left out when beta is 0, as in PyTorch)."""
        product = product if alpha == 1 else product * alpha
        if beta == 0:
            return product
        return (self if beta == 1 else self * beta) + product

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta · self + alpha · (mat1 @ mat2)."""
        return self._scaled_sum(mat1.mm(mat2), beta, alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """beta · self + alpha · (mat @ vec)."""
        return self._scaled_sum(mat.mv(vec), beta, alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        """beta · self + alpha · outer(vec1, vec2)."""
        return self._scaled_sum(vec1.outer(vec2), beta, alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta · self + alpha · (batch1 @ batch2), batch by batch."""
        return self._scaled_sum(batch1.bmm(batch2), beta, alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta · self + alpha · Σ_b batch1[b] @ batch2[b]."""
        if batch1.ndim != 3 or batch2.ndim != 3:
            raise ShapeError(f"addbmm: expected two 3-D tensors, got shapes {batch1.shape} and {batch2.shape}")
        return self._scaled_sum(_einsum.Einsum.apply(batch1, batch2, equation="bij,bjk->ik"), beta, alpha)
