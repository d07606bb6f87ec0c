"""Exponentials and logarithms beyond exp and log: log2, log10, log1p, expm1, exp2, rsqrt, logaddexp, logit."""

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


class Logit(Function):
    """y = ln(p / (1 − p)), the log-odds of a probability p and the inverse of the sigmoid;
    dL/dp = dL/dy / (p (1 − p)).

    With ``eps``, p is first clamped to [eps, 1 − eps], so that y stays finite: y = logit(clamp(p)), and
    dL/dp = 0 where p lies outside that interval (its edges are inside). Without it (or with a negative eps),
    p = 0 and p = 1 give y = ∓∞ and dL/dp = dL/dy · ∞, and p outside [0, 1] gives NaN for both, as in
    PyTorch. A NaN p gives NaN for both, with or without eps.
    """

    def __init__(self, eps=None):
        self.eps = None if eps is None or eps < 0 else eps

    def forward(self, p):
        xp = get_array_module(p)
        self.p = p
        if self.eps is not None:
            low = p.dtype.type(self.eps)  # in p's dtype, as PyTorch
            high = 1 - low
            p = xp.where(p < low, low, xp.where(p > high, high, p))
        return xp.log(p / (1 - p))

    def backward(self, gy):
        xp = get_array_module(gy)
        p = self.p
        grad = gy / (p * (1 - p))
        if self.eps is None:
            return (xp.where((p < 0) | (p > 1), math.nan, grad),)
        low = p.dtype.type(self.eps)
        return (xp.where((p < low) | (p > 1 - low), 0, grad),)
