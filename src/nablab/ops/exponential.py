"""Exponentials and logarithms beyond exp and log: log2, log10, log1p, expm1, exp2, rsqrt, logaddexp."""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Log2(Function):
    """y = log₂ x;  dL/dx = dL/dy / (x ln 2)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log2(x)

    def backward(self, gy):
        return (gy / (self.x * math.log(2.0)),)


class Log10(Function):
    """y = log₁₀ x;  dL/dx = dL/dy / (x ln 10)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log10(x)

    def backward(self, gy):
        return (gy / (self.x * math.log(10.0)),)


class Log1p(Function):
    """y = ln(1 + x), exact for small x;  dL/dx = dL/dy / (1 + x)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log1p(x)

    def backward(self, gy):
        return (gy / (1 + self.x),)


class Expm1(Function):
    """y = eˣ − 1, exact for small x;  dL/dx = dL/dy · (y + 1)."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).expm1(x)
        return self.y

    def backward(self, gy):
        return (gy * (self.y + 1),)


class Exp2(Function):
    """y = 2ˣ;  dL/dx = dL/dy · y ln 2."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).exp2(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y * math.log(2.0),)


class Rsqrt(Function):
    """y = 1/√x;  dL/dx = −dL/dy · y³ / 2."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = 1 / get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        y = self.y
        return (-0.5 * gy * y * y * y,)


class LogAddExp(Function):
    """y = ln(eᵃ + eᵇ), without overflow;  dL/da = dL/dy · e^(a−y),  dL/db = dL/dy · e^(b−y)."""

    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = get_array_module(a).logaddexp(a, b)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b, y = self.a, self.b, self.y
        ga = unbroadcast(gy * xp.exp(a - y), a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * xp.exp(b - y), b.shape) if self.needs_input_grad[1] else None
        return ga, gb
