"""PyTorch's dtype names: ``nablab.float32``, ``nablab.long``, ``nablab.bool`` and the rest.

They are NumPy dtypes (a tensor's ``.dtype`` is the dtype of its array), so ``x.dtype ==
nablab.float32`` and ``nablab.zeros(3, dtype=nablab.long)`` read as in PyTorch. Their ``repr`` is
NumPy's (``dtype('float32')``), not ``torch.float32``.
"""

import builtins

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")  # noqa: A001 - PyTorch's name
float64 = double = np.dtype("float64")
uint8 = np.dtype("uint8")
int8 = np.dtype("int8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")  # noqa: A001
int64 = long = np.dtype("int64")
bool = np.dtype("bool")  # noqa: A001


def get_default_dtype():
    """The dtype floating data becomes: float32 (nablab has no ``set_default_dtype``)."""
    return float32


class finfo:  # noqa: N801 - PyTorch's name
    """Limits of a floating dtype as Python numbers, as ``torch.finfo``: ``bits``, ``eps`` (the gap
    above 1), ``max``, ``min``, ``tiny`` = ``smallest_normal``, ``resolution`` (10^−decimal digits)."""

    def __init__(self, type=float32):  # noqa: A002 - PyTorch's argument name
        info = np.finfo(type)
        self.dtype = np.dtype(type)
        self.bits = info.bits
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, "
                f"smallest_normal={self.smallest_normal}, tiny={self.tiny}, dtype={self.dtype})")


class iinfo:  # noqa: N801
    """Limits of an integer dtype as Python ints, as ``torch.iinfo``: ``bits``, ``max``, ``min``."""

    def __init__(self, type):  # noqa: A002
        info = np.iinfo(type)
        self.dtype, self.bits = np.dtype(type), info.bits
        self.max, self.min = builtins.int(info.max), builtins.int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


__all__ = ["bool", "double", "finfo", "float", "float16", "float32", "float64", "get_default_dtype", "half", "iinfo",
           "int", "int8", "int16", "int32", "int64", "long", "short", "uint8"]
