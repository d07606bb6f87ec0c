"""Free functions of elementwise math and reductions, as ``torch.exp`` or ``torch.sum``: ``nablab.exp(x)``."""

from __future__ import annotations

from . import ops
from .tensor import as_tensor, promoted_pair


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


def maximum(a, b):
    """max(a, b) elementwise, in the promoted dtype of a and b."""
    return ops.Maximum.apply(*promoted_pair(a, b))


def minimum(a, b):
    """min(a, b) elementwise, in the promoted dtype of a and b."""
    return ops.Minimum.apply(*promoted_pair(a, b))


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return as_tensor(x).sum(axis, keepdims)


def mean(x, axis=None, keepdims=False):
    return as_tensor(x).mean(axis, keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return as_tensor(x).max(axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return as_tensor(x).min(axis, keepdims)


__all__ = ["abs", "clamp", "clip", "exp", "log", "max", "maximum", "mean", "min", "minimum", "relu", "sigmoid",
           "sqrt", "sum", "tanh"]
