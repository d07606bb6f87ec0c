"""Elementwise arithmetic with NumPy broadcasting: + - * / unary minus and powers.

Every binary op sums its input gradients back to the input's shape (:func:`unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy  (each summed to its input's shape)."""

    saves_inputs = False  # backward needs only the shapes

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        sa, sb = self.shapes
        return unbroadcast(gy, sa), unbroadcast(gy, sb)


class Sub(Function):
    """y = a − b;  dL/da = dL/dy,  dL/db = −dL/dy."""

    saves_inputs = False  # backward needs only the shapes

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy):
        sa, sb = self.shapes
        gb = -unbroadcast(gy, sb) if self.needs_input_grad[1] else None
        return unbroadcast(gy, sa), gb


class Mul(Function):
    """y = a · b;  dL/da = dL/dy · b,  dL/db = dL/dy · a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        a, b = self.a, self.b
        ga = unbroadcast(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = −dL/dy · a / b²."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        a, b = self.a, self.b
        ga = unbroadcast(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = −x;  dL/dx = −dL/dy."""

    saves_inputs = False  # backward needs only the shapes

    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class Pow(Function):
    """y = xᶜ for a constant exponent c, in x's dtype;  dL/dx = dL/dy · c · xᶜ⁻¹, and 0 where c = 0.

    PyTorch's ``pow_backward``: x⁰ = 1 is constant, so its gradient is 0 even at x = 0 (where
    c · xᶜ⁻¹ would be 0 · ∞).
    """

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, x):
        self.x = x
        y = x**self.exponent
        return y if y.dtype == x.dtype else y.astype(x.dtype)  # NumPy gives bool ** bool in int8

    def backward(self, gy):
        c = self.exponent
        if c == 0:
            return (get_array_module(gy).zeros_like(gy),)
        return (gy * c * self.x ** (c - 1),)


class PowTensor(Function):
    """y = aᵇ, both tensors of one dtype, not bool (PyTorch's ``pow_backward_self`` / ``pow_backward_exponent``):

    dL/da = dL/dy · b · aᵇ⁻¹, and 0 where b = 0 (a⁰ = 1 is constant);
    dL/db = dL/dy · aᵇ · ln a, and 0 where a = 0 and b ≥ 0 (0ᵇ is constant there: 0, or 1 at b = 0).
    """

    saves_output = True  # dL/db reads y = aᵇ

    def forward(self, a, b):
        if a.dtype == bool:
            raise TypeError("pow of two boolean tensors is not defined (nor in PyTorch): cast one to an integer dtype")
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy):
        a, b, y = self.a, self.b, self.y
        xp = get_array_module(a)
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # the masked spots compute 0 · ∞ and ln 0
            if self.needs_input_grad[0]:
                ga = unbroadcast(xp.where(b == 0, 0, gy * b * a ** (b - 1)), a.shape)
            if self.needs_input_grad[1]:
                gb = unbroadcast(gy * xp.where((a == 0) & (b >= 0), 0, y * xp.log(a)), b.shape)
        return ga, gb
