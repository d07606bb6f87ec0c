"""Activation functions with their derivatives written in terms of the saved output where possible."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class Tanh(Function):
    """y = tanh x;  dL/dx = dL/dy · (1 − y²)."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        y = self.y
        return (gy * (1 - y * y),)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ);  dL/dx = dL/dy · y (1 − y).

    Computed as ½·tanh(x/2) + ½, which never overflows for large |x|.
    """

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        xp = get_array_module(x)
        self.y = xp.tanh(x * 0.5) * 0.5 + 0.5
        return self.y

    def backward(self, gy):
        y = self.y
        return (gy * y * (1 - y),)


class ReLU(Function):
    """y = max(x, 0);  dL/dx = dL/dy where x > 0, else 0."""

    saves_inputs = False
    saves_output = True
    fresh_grads = True

    def forward(self, x):
        self.y = get_array_module(x).maximum(x, 0)
        return self.y

    def backward(self, gy):
        return (gy * (self.y > 0),)


class LeakyReLU(Function):
    """y = x if x > 0 else α·x;  dL/dx = dL/dy · (1 if x > 0 else α)."""

    saves_inputs = False

    def __init__(self, negative_slope=0.01):
        self.slope = negative_slope

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0
        return xp.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        xp = get_array_module(gy)
        return (xp.where(self.mask, gy, gy * self.slope),)
