"""PyTorch's dtype names: ``nablab.float32``, ``nablab.long``, ``nablab.bool`` and the rest.

They are NumPy dtypes (a tensor's ``.dtype`` is the dtype of its array), so ``x.dtype ==
nablab.float32`` and ``nablab.zeros(3, dtype=nablab.long)`` read as in PyTorch. Their ``repr`` is
NumPy's (``dtype('float32')``), not ``torch.float32``.
"""

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

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]
