"""Free functions over tensors, as ``torch.exp``, ``torch.cat`` and friends: ``nablab.exp(x)``."""

from __future__ import annotations

from . import ops
from .tensor import Tensor, as_tensor


def _tensors(xs):
    xs = [as_tensor(x, like=xs) for x in xs]
    if not xs:
        raise ValueError("expected a non-empty sequence of tensors")
    return xs


def exp(x):
    return as_tensor(x).exp()


def log(x):
    return as_tensor(x).log()


def sqrt(x):
    return as_tensor(x).sqrt()


def abs(x):  # noqa: A001 - PyTorch's name
    return as_tensor(x).abs()


def tanh(x):
    return as_tensor(x).tanh()


def sigmoid(x):
    return as_tensor(x).sigmoid()


def relu(x):
    return as_tensor(x).relu()


def clip(x, min=None, max=None):  # noqa: A002
    return as_tensor(x).clip(min, max)


clamp = clip


def matmul(a, b):
    return as_tensor(a, like=(b,)) @ b


def _promoted(a, b):
    """``a`` and ``b`` (tensors, numbers, array-likes) as tensors of their promoted dtype (:mod:`nablab.dtypes`)."""
    if isinstance(a, Tensor):
        return a._promoted(b)
    b, a = as_tensor(b)._promoted(a)
    return a, b


def maximum(a, b):
    """max(a, b) elementwise, in the promoted dtype of a and b."""
    return ops.Maximum.apply(*_promoted(a, b))


def minimum(a, b):
    """min(a, b) elementwise, in the promoted dtype of a and b."""
    return ops.Minimum.apply(*_promoted(a, b))


def where(condition, x, y):
    """x where ``condition`` else y, in the promoted dtype of x and y.

    Gradients flow to x and y, not to the condition.
    """
    cond = condition.data if isinstance(condition, Tensor) else condition
    return ops.Where.apply(*_promoted(x, y), condition=cond)


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


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return as_tensor(x).sum(axis, keepdims)


def mean(x, axis=None, keepdims=False):
    return as_tensor(x).mean(axis, keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return as_tensor(x).max(axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return as_tensor(x).min(axis, keepdims)
