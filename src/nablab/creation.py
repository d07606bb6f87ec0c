"""Tensor factories: zeros, ones, full, arange, random normal/uniform (from nablab's seeded generator)."""

from __future__ import annotations

import numpy as np

from .random import get_generator
from .tensor import DEFAULT_DTYPE, Tensor


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _make(array, requires_grad):
    t = Tensor._make(array)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    return _make(np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    return _make(np.ones(_shape(shape), dtype=dtype), requires_grad)


def full(shape, value, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    return _make(np.full(_shape((shape,)), value, dtype=dtype), requires_grad)


def zeros_like(t: Tensor, requires_grad=False) -> Tensor:
    return _make(np.zeros_like(t.data), requires_grad)


def ones_like(t: Tensor, requires_grad=False) -> Tensor:
    return _make(np.ones_like(t.data), requires_grad)


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    """start, start + step, … up to (not including) stop, as ``torch.arange``.

    Without a dtype: float32 if any argument is a float, else int64. The values are computed in
    float64 and then rounded to the dtype, as PyTorch does.
    """
    values = np.arange(start, stop, step)
    if dtype is None:
        dtype = DEFAULT_DTYPE if values.dtype.kind == "f" else np.int64
    return Tensor._make(values.astype(dtype, copy=False))


def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    """Standard normal samples from nablab's generator (see :func:`nablab.manual_seed`)."""
    return _make(get_generator().standard_normal(_shape(shape)).astype(dtype), requires_grad)


def rand(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1) from nablab's generator."""
    return _make(get_generator().random(_shape(shape)).astype(dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype (``torch.from_numpy``)."""
    return Tensor._make(np.asarray(array))
