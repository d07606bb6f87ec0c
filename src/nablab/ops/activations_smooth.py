"""Smooth activations: GELU, SiLU, the exponential-linear family (ELU, SELU, CELU), Softplus,
Softsign, Mish and LogSigmoid, each with its derivative."""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function
from .special import erf

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715


def _sigmoid(x, xp):
    """σ(x) = ½·tanh(x/2) + ½, which never overflows."""
    return xp.tanh(x * 0.5) * 0.5 + 0.5


def _softplus(x, xp):
    """log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)), finite for every x."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class GELU(Function):
    """Gaussian error linear unit, y = x·Φ(x) with Φ the standard normal CDF.

    ``approximate="none"``: Φ(x) = ½(1 + erf(x/√2)) and dL/dx = dL/dy · (Φ(x) + x·φ(x)),
    φ(x) = e^(−x²/2)/√(2π).
    ``approximate="tanh"``: y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), and
    dL/dx = dL/dy · (½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²)).
    """

    fresh_grads = True

    def __init__(self, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        if self.approximate == "tanh":
            self.t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_CUBIC * x * x * x))
            return 0.5 * x * (1 + self.t)
        cdf = erf(x * _SQRT_HALF)  # in place from here on: GELU runs on large activations
        cdf += 1
        cdf *= 0.5
        self.cdf = cdf
        return x * cdf

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_CUBIC * x * x)
            return (gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)
        g = xp.multiply(x, x, out=xp.empty_like(x))  # g = x·φ(x) + Φ(x), then times dL/dy, in one buffer
        g *= -0.5
        xp.exp(g, out=g)
        g *= x
        g *= _INV_SQRT_2PI
        g += self.cdf
        g *= gy
        return (g,)


class SiLU(Function):
    """Sigmoid linear unit (swish), y = x·σ(x);  dL/dx = dL/dy · σ(x)(1 + x(1 − σ(x)))."""

    def forward(self, x):
        self.x, self.s = x, _sigmoid(x, get_array_module(x))
        return x * self.s

    def backward(self, gy):
        s = self.s
        return (gy * (s * (1 + self.x * (1 - s))),)


class ELU(Function):
    """The exponential-linear family, y = scale · (x if x > 0 else α(e^(βx) − 1)):

    ELU(α): scale = β = 1;  SELU: α ≈ 1.6733, scale ≈ 1.0507, β = 1;  CELU(α): scale = 1, β = 1/α.
    dL/dx = dL/dy · scale · (1 if x > 0 else αβ·e^(βx))   (the exponential branch at x = 0, as PyTorch).
    """

    saves_inputs = False

    def __init__(self, alpha=1.0, scale=1.0, input_scale=1.0):
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale

    def forward(self, x):
        xp = get_array_module(x)
        self.positive = x > 0
        self.e = xp.exp(xp.minimum(x, 0) * self.input_scale)
        return xp.where(self.positive, x, self.alpha * (self.e - 1)) * self.scale

    def backward(self, gy):
        xp = get_array_module(gy)
        negative_slope = self.e * (self.alpha * self.input_scale)
        return (gy * xp.where(self.positive, 1, negative_slope) * self.scale,)


class Softplus(Function):
    """y = (1/β)·log(1 + e^(βx)), and y = x where βx > threshold (PyTorch's linear tail);
    dL/dx = dL/dy · σ(βx), and dL/dy where βx > threshold."""

    saves_inputs = False

    def __init__(self, beta=1.0, threshold=20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = get_array_module(x)
        bx = x * self.beta
        self.linear, self.s = bx > self.threshold, _sigmoid(bx, xp)
        return xp.where(self.linear, x, _softplus(bx, xp) / self.beta)

    def backward(self, gy):
        return (get_array_module(gy).where(self.linear, gy, gy * self.s),)


class Softsign(Function):
    """y = x / (1 + |x|);  dL/dx = dL/dy / (1 + |x|)²."""

    saves_inputs = False

    def forward(self, x):
        self.d = 1 + get_array_module(x).abs(x)
        return x / self.d

    def backward(self, gy):
        return (gy / (self.d * self.d),)


class Mish(Function):
    """y = x·tanh(softplus(x));  dL/dx = dL/dy · (tanh s + x·(1 − tanh² s)·σ(x)), s = softplus(x)."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x, self.t = x, xp.tanh(_softplus(x, xp))
        return x * self.t

    def backward(self, gy):
        t = self.t
        return (gy * (t + self.x * (1 - t * t) * _sigmoid(self.x, get_array_module(gy))),)


class LogSigmoid(Function):
    """y = log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^(−|x|));  dL/dx = dL/dy · σ(−x)."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return -_softplus(-x, xp)

    def backward(self, gy):
        return (gy * _sigmoid(-self.x, get_array_module(gy)),)
