"""``nablab.linalg``, as ``torch.linalg``: norms, the inverse, the determinant and linear solves.

The norms are compositions of differentiable tensor ops (their gradients follow); ``inv``,
``det`` and ``solve`` are the ops of :mod:`nablab.ops.linear_systems`, whose docstring derives
their backward passes. Every function works on batches of matrices (the last two dims).
"""

from __future__ import annotations

import math

from . import ops
from .errors import ShapeError
from .tensor import Tensor, as_tensor, promoted_pair


def _floating(A, name):
    A = as_tensor(A)
    if A.dtype.kind != "f":
        raise TypeError(f"linalg.{name}: expected a floating tensor, got dtype {A.dtype}")
    return A


def inv(A) -> Tensor:
    """A⁻¹ of each square matrix of ``A`` (…, n, n); a singular matrix is an error."""
    return ops.Inverse.apply(_floating(A, "inv"))


def det(A) -> Tensor:
    """det A of each square matrix of ``A`` (…, n, n), shape (…)."""
    return ops.Determinant.apply(_floating(A, "det"))


def solve(A, B, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B), A (…, n, n), B (…, n, k) or a batch of vectors (…, n)."""
    A, B = promoted_pair(_floating(A, "solve"), B)
    if left:
        return ops.Solve.apply(A, B)
    return ops.Solve.apply(A.mT, B.mT).mT  # X A = B ⇔ Aᵀ Xᵀ = Bᵀ


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002 - torch's name
    """(Σ |xᵢ|^ord)^(1/ord) over ``dim`` (every element by default); ord may be ∞, −∞ or 0 too."""
    return _floating(x if dtype is None else as_tensor(x).astype(dtype), "vector_norm").norm(ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The norm of each matrix over the two dims ``dim``: "fro" (Frobenius), 1 / −1 (largest /
    smallest column sum of |a|), ∞ / −∞ (largest / smallest row sum of |a|)."""
    A = _floating(A if dtype is None else as_tensor(A).astype(dtype), "matrix_norm")
    if A.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: the input must have at least 2 dimensions, got shape {A.shape}")
    rows, cols = (d % A.ndim for d in dim)
    if ord == "fro":
        return A.norm(2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = A.abs().sum(summed, keepdim=True)
        out = sums.amax(other, keepdim=True) if ord > 0 else sums.amin(other, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 1, -1, inf or -inf here, got {ord!r} ('nuc' and 2 "
                     "need singular values, which nablab does not compute)")


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """PyTorch's dispatch: a vector norm when ``dim`` is one dim, or when neither ``ord`` nor ``dim``
    is given (the 2-norm of all elements); a matrix norm for two dims, or a 2-D input with ``ord``."""
    A = as_tensor(A)
    if isinstance(dim, int) or (dim is None and (ord is None or A.ndim == 1)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim != 2:
            raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim, the input must be 1-D or 2-D, got shape "
                               f"{A.shape}")
        dim = (-2, -1)
    if len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)


__all__ = ["det", "inv", "matrix_norm", "norm", "solve", "vector_norm"]
