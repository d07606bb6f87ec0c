"""Free functions that move, join and select elements, as ``torch.cat`` or ``torch.where``: ``nablab.cat(xs)``."""

from __future__ import annotations

from . import ops
from .tensor import Tensor, as_tensor, promoted_pair


def _tensors(xs):
    xs = [as_tensor(x, like=xs) for x in xs]
    if not xs:
        raise ValueError("expected a non-empty sequence of tensors")
    return xs


def matmul(a, b):
    return as_tensor(a, like=(b,)) @ b


def where(condition, x, y):
    """x where ``condition`` else y, in the promoted dtype of x and y.

    Gradients flow to x and y, not to the condition.
    """
    cond = condition.data if isinstance(condition, Tensor) else condition
    return ops.Where.apply(*promoted_pair(x, y), condition=cond)


def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis (``torch.cat``)."""
    return ops.Concatenate.apply(*_tensors(list(tensors)), axis=axis)


cat = concatenate


def stack(tensors, axis: int = 0):
    """Join tensors along a new axis."""
    return ops.Stack.apply(*_tensors(list(tensors)), axis=axis)


def reshape(x, shape):
    return as_tensor(x).reshape(shape)


def transpose(x, axes=None):
    return as_tensor(x).transpose(*(axes or ()))


def broadcast_to(x, shape):
    return as_tensor(x).broadcast_to(shape)


__all__ = ["broadcast_to", "cat", "concatenate", "matmul", "reshape", "stack", "transpose", "where"]
