"""The math methods of :class:`~nablab.Tensor`: elementwise functions, activations and reductions.

Each method is a thin wrapper that calls an op's ``apply`` (the math is in :mod:`nablab.ops`);
:class:`~nablab.Tensor` inherits them from :class:`MathMethods`.
"""

from __future__ import annotations

from . import ops


class MathMethods:
    """Elementwise math, activations and reductions of a tensor."""

    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01):
        return ops.LeakyReLU.apply(self, negative_slope=negative_slope)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        return ops.Clip.apply(self, low=min, high=max)

    clamp = clip

    def maximum(self, other):
        return ops.Maximum.apply(*self._promoted(other))

    def minimum(self, other):
        return ops.Minimum.apply(*self._promoted(other))

    # ----------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims: bool = False):
        return ops.Sum.apply(self, axis=ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return ops.Mean.apply(self, axis=ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return ops.Max.apply(self, axis=ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return ops.Min.apply(self, axis=ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def argmax(self, axis=None):
        return type(self)._make(self.data.argmax(axis=axis))

    def argmin(self, axis=None):
        return type(self)._make(self.data.argmin(axis=axis))
