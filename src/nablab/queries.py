"""Functions that ask about tensors and dtypes rather than compute with them: ``nablab.is_tensor``,
``nablab.numel``, ``nablab.equal``, ``nablab.is_floating_point``, ``nablab.result_type``,
``nablab.promote_types`` (PyTorch's names)."""

from __future__ import annotations

from . import dtypes
from .tensor import Tensor


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    return x.numel()


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    return a.equal(b)


def is_floating_point(x: Tensor) -> bool:
    return x.is_floating_point()


def result_type(a, b):
    """The dtype of an op on ``a`` and ``b`` (tensors or numbers), by PyTorch's promotion rules."""
    return dtypes.result_type(a, b)


def promote_types(a, b):
    """The smallest dtype both ``a`` and ``b`` convert to, by PyTorch's table."""
    return dtypes.promote_types(a, b)


__all__ = ["equal", "is_floating_point", "is_tensor", "numel", "promote_types", "result_type"]
