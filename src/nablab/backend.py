"""The array module behind a tensor: NumPy on the CPU (CuPy on a GPU, see issue "Speed").

Ops never branch on the device; they ask the arrays which module they belong to, as Chainer's
``cuda.get_array_module`` does, and call that module's functions.
"""

from __future__ import annotations

import numpy as np

try:  # CuPy is an optional extra; without it everything runs on NumPy.
    import cupy as _cupy
except ImportError:  # pragma: no cover - depends on the machine
    _cupy = None


def get_array_module(*arrays):
    """Return ``numpy`` or ``cupy``: the module that owns the given arrays."""
    if _cupy is not None:
        return _cupy.get_array_module(*arrays)
    return np


def is_float_dtype(dtype) -> bool:
    """True for the floating dtypes gradients can flow through."""
    return np.dtype(dtype).kind == "f"
