"""Functions written as compositions of other ops, so their gradients come from those ops:
``diff``, ``kron``, ``cross``, ``cdist``; and the counting and searching functions, whose integer
results have no gradient: ``bincount``, ``histc``, ``searchsorted``, ``bucketize``."""

from __future__ import annotations

from .backend import get_array_module
from .errors import ShapeError
from .tensor import Tensor, as_tensor


def diff(x, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The n-th forward difference along ``dim``: out[i] = x[i+1] − x[i], applied n times."""
    from .shape_functions import cat

    x = as_tensor(x)
    parts = [t for t in (prepend, x, append) if t is not None]
    if len(parts) > 1:
        x = cat([as_tensor(t, like=(x,)) for t in parts], dim=dim)
    for _ in range(n):
        length = x.shape[dim]
        x = x.narrow(dim, 1, length - 1) - x.narrow(dim, 0, length - 1)
    return x


def kron(a, b):
    """The Kronecker product: blocks a[i, j] · b, for tensors of any (equal after padding) rank."""
    a, b = as_tensor(a), as_tensor(b)
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.ndim) + tuple(b.shape))
    interleaved_a = a.reshape(sum(((n, 1) for n in a.shape), ()))
    interleaved_b = b.reshape(sum(((1, n) for n in b.shape), ()))
    return (interleaved_a * interleaved_b).reshape(tuple(m * n for m, n in zip(a.shape, b.shape)))


def cross(a, b, dim: int | None = None):
    """The cross product of 3-vectors along ``dim`` (the first dim of size 3 when None, as PyTorch's
    deprecated default; ``torch.linalg.cross`` uses −1)."""
    from .shape_functions import stack

    a, b = as_tensor(a), as_tensor(b)
    if dim is None:
        dim = next((i for i, n in enumerate(a.shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dimension of size 3 in shape {tuple(a.shape)}")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise ShapeError(f"cross: dimension {dim} must have size 3, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    a0, a1, a2 = a.unbind(dim)
    b0, b1, b2 = b.unbind(dim)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=dim % a.ndim)


def cdist(x1, x2, p: float = 2.0):
    """Pairwise p-norm distances between the rows of x1 (… × P × M) and x2 (… × R × M): … × P × R."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} must have the same last dim")
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return difference.norm(p=p, dim=-1)


def _array(x):
    return x.data if isinstance(x, Tensor) else get_array_module(x).asarray(x)


def bincount(x, weights=None, minlength: int = 0):
    """How often each value 0, 1, … occurs in the 1-D non-negative integer tensor ``x`` (summed
    ``weights`` instead of counts when given)."""
    data = _array(x)
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise TypeError(f"bincount expects a 1-D integer tensor, got {data.dtype} of shape {data.shape}")
    xp = get_array_module(data)
    w = None if weights is None else _array(weights)
    counts = xp.bincount(data, weights=w, minlength=minlength)
    return Tensor._make(counts if w is not None else counts.astype(xp.int64))


def histc(x, bins: int = 100, min: float = 0.0, max: float = 0.0):  # noqa: A002 - PyTorch's names
    """A histogram of ``bins`` equal bins from min to max (the data's range when both are 0);
    values outside are ignored. Same dtype as ``x``."""
    data = _array(x)
    xp = get_array_module(data)
    low, high = (float(data.min()), float(data.max())) if min == max == 0 else (min, max)
    if low == high:
        low, high = low - 1, high + 1
    counts, _ = xp.histogram(data, bins=bins, range=(low, high))
    return Tensor._make(counts.astype(data.dtype))


def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False, side=None):
    """For each value, the index at which it would be inserted into the (last-dim) sorted sequence
    to keep it sorted (``right``/``side="right"``: after equal entries)."""
    seq, vals = _array(sorted_sequence), _array(values)
    xp = get_array_module(seq)
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        found = xp.searchsorted(seq, vals, side=side)
    else:
        rows = [xp.searchsorted(s, v, side=side) for s, v in zip(seq.reshape(-1, seq.shape[-1]),
                                                                   vals.reshape(-1, vals.shape[-1]))]
        found = xp.stack(rows).reshape(vals.shape)
    return Tensor._make(found.astype(xp.int32 if out_int32 else xp.int64))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):  # noqa: A002
    """The bucket of each value between the sorted 1-D ``boundaries`` (``right`` as PyTorch's:
    True puts a value equal to a boundary in the bucket after it)."""
    return searchsorted(boundaries, input, out_int32=out_int32, side="right" if right else "left")


__all__ = ["bincount", "bucketize", "cdist", "cross", "diff", "histc", "kron", "searchsorted"]
