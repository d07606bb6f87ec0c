"""Tensor factories with PyTorch's signatures and result dtypes: ``zeros``, ``full``, ``arange``,
``linspace``, ``eye``, the random ones (from nablab's seeded generator, :func:`nablab.manual_seed`),
the ``*_like`` forms, ``from_numpy`` and ``as_tensor``.

Every factory takes ``dtype``, ``device`` and ``requires_grad`` keywords; a shape is given as
separate ints or one sequence (``zeros(2, 3)`` or ``zeros((2, 3))``). Without a dtype the result is
float32 (the default float), except where PyTorch infers one from the values: ``full`` and
``arange`` with integer values give int64, ``full`` with a bool gives bool, ``randint`` and
``randperm`` give int64.
"""

from __future__ import annotations

import numbers

import numpy as np

from .device import default_or, resolve
from .dtypes import DEFAULT_DTYPE
from .random import numpy_generator
from .tensor import Tensor, _to_array


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(size)
    for n in shape:
        if not isinstance(n, (numbers.Integral, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"a size must be non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def _finish(array, dtype, device, requires_grad) -> Tensor:
    """The array as a tensor in ``dtype`` on ``device``, marked to require grad if asked."""
    if dtype is not None and array.dtype != np.dtype(dtype):
        array = array.astype(dtype)
    t = Tensor._make(array)
    device = default_or(device)
    if device is not None:
        t = t.to(resolve(device))
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(_shape(size), dtype=dtype or DEFAULT_DTYPE), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(_shape(size), dtype=dtype or DEFAULT_DTYPE), None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` (nablab fills it with zeros: reading it is then not undefined behaviour)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _value_dtype(value):
    """PyTorch's dtype for a fill value: bool, int64 for ints, the default float otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, (numbers.Integral, np.integer)):
        return np.dtype(np.int64)
    return DEFAULT_DTYPE


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    size = (size,) if isinstance(size, (numbers.Integral, np.integer)) else tuple(size)
    return _finish(np.full(_shape(size), fill_value, dtype=dtype or _value_dtype(fill_value)), None, device,
                   requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n×m identity (ones on the diagonal)."""
    return _finish(np.eye(n, m, dtype=dtype or DEFAULT_DTYPE), None, device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """start, start + step, … up to (not including) end, as ``torch.arange``.

    Without a dtype: float32 if any argument is a float, else int64. The values are computed in
    float64 and then rounded to the dtype, as PyTorch does.
    """
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = DEFAULT_DTYPE if values.dtype.kind == "f" else np.int64
    return _finish(values.astype(dtype, copy=False), None, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, steps).astype(dtype or DEFAULT_DTYPE), None, device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    values = np.power(base, np.linspace(start, end, steps))
    return _finish(values.astype(dtype or DEFAULT_DTYPE), None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1) from nablab's generator (or ``generator``, a NumPy Generator)."""
    rng = numpy_generator(generator)
    return _finish(rng.random(_shape(size)).astype(dtype or DEFAULT_DTYPE), None, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples from nablab's generator (see :func:`nablab.manual_seed`)."""
    rng = numpy_generator(generator)
    return _finish(rng.standard_normal(_shape(size)).astype(dtype or DEFAULT_DTYPE), None, device, requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, *bounds) if len(bounds) == 1 else bounds
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    values = numpy_generator(generator).integers(low, high, _shape((size,) if isinstance(size, int) else size))
    return _finish(values.astype(dtype or np.int64), None, device, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 … n−1."""
    return _finish(numpy_generator(generator).permutation(n).astype(dtype or np.int64), None, device,
                   requires_grad)


def _like(t, make, dtype, device, requires_grad):
    t = t if isinstance(t, Tensor) else Tensor(t)
    dtype = dtype or t.dtype
    return make(t.data.shape, dtype=dtype, device=device or t.device, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002 - torch's name
    return _like(input, zeros, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(input, ones, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(input, zeros, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(input, lambda s, **kw: full(s, fill_value, **kw), dtype, device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(input, rand, dtype, device, requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(input, randn, dtype, device, requires_grad)


def randint_like(input, low, high=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    low, high = (0, low) if high is None else (low, high)
    return _like(input, lambda s, **kw: randint(low, high, s, **kw), dtype, device, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype (``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(array).__name__}")
    return Tensor._make(array)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can (a tensor, or an array when no other dtype
    is asked for, is not copied), as ``torch.as_tensor``: arrays keep their dtype, Python floats
    become float32."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device is not None or dtype is not None) else data
    return _finish(_to_array(data, dtype, keep_array_dtype=True), None, device, False)


__all__ = ["arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace",
           "logspace", "ones", "ones_like", "rand", "rand_like", "randint", "randint_like", "randn", "randn_like",
           "randperm", "zeros", "zeros_like"]
