"""Elementwise arithmetic with NumPy broadcasting: + - * / unary minus and powers.

Every binary op sums its input gradients back to the input's shape (:func:`unbroadcast`).
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy  (each summed to its input's shape)."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        sa, sb = self.shapes
        return unbroadcast(gy, sa), unbroadcast(gy, sb)


class Sub(Function):
    """y = a − b;  dL/da = dL/dy,  dL/db = −dL/dy."""

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

    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class Pow(Function):
    """y = xᶜ for a constant exponent c;  dL/dx = dL/dy · c · xᶜ⁻¹."""

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, x):
        self.x = x
        return x**self.exponent

    def backward(self, gy):
        c = self.exponent
        return (gy * c * self.x ** (c - 1),)


class PowTensor(Function):
    """y = aᵇ, both tensors;  dL/da = dL/dy · b · aᵇ⁻¹,  dL/db = dL/dy · aᵇ · ln a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy):
        a, b, y = self.a, self.b, self.y
        ga = unbroadcast(gy * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            xp = get_array_module(a)
            gb = unbroadcast(gy * y * xp.log(a), b.shape)
        return ga, gb
