"""The exceptions nablab raises where PyTorch raises its own types.

PyTorch raises ``RuntimeError`` for shapes that do not fit (matmul, reshape, permute, broadcasting)
and ``IndexError`` for a dimension out of range; nablab raised ``ValueError`` for both. These
classes are subclasses of both, so code written against either framework catches them.
"""


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit together (the message names both)."""


class DimError(IndexError, ValueError):
    """A dimension (axis) outside ``[-ndim, ndim)``."""


class DTypeError(TypeError, RuntimeError):
    """Operands whose dtypes an op does not combine (matmul of float32 and float64): a TypeError,
    as nablab raises for dtypes, and the RuntimeError PyTorch raises."""


class DeviceError(RuntimeError):
    """A device that is not there (``cuda`` without CuPy or a GPU), or tensors on two devices in one op:
    the RuntimeError PyTorch raises."""
