"""Elementwise functions: exp, log, sqrt, abs, clip, maximum, minimum, where, and a dtype cast."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Exp(Function):
    """y = eˣ;  dL/dx = dL/dy · y."""

    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y,)


class Log(Function):
    """y = ln x;  dL/dx = dL/dy / x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return (gy / self.x,)


class Sqrt(Function):
    """y = √x;  dL/dx = dL/dy / (2y)."""

    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        return (gy / (2 * self.y),)


class Abs(Function):
    """y = |x|;  dL/dx = dL/dy · sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).abs(x)

    def backward(self, gy):
        return (gy * get_array_module(gy).sign(self.x),)


class Clip(Function):
    """y = min(max(x, low), high);  dL/dx = dL/dy where low ≤ x ≤ high, else 0 (PyTorch's clamp).

    Either bound may be None.
    """

    def __init__(self, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip needs at least one of min and max")
        self.low, self.high = low, high

    def forward(self, x):
        self.x = x
        return get_array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.x
        inside = True
        if self.low is not None:
            inside = x >= self.low
        if self.high is not None:
            inside = inside & (x <= self.high)
        return (gy * inside,)


class Maximum(Function):
    """y = max(a, b) elementwise;  the larger input gets dL/dy; on ties each gets half (as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return get_array_module(a).maximum(a, b)

    def _share(self, a, b):
        return (a > b) + 0.5 * (a == b)

    def backward(self, gy):
        a, b = self.a, self.b
        share_a = self._share(a, b).astype(gy.dtype, copy=False)
        ga = unbroadcast(gy * share_a, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * (1 - share_a), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Minimum(Maximum):
    """y = min(a, b) elementwise;  the smaller input gets dL/dy; on ties each gets half."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return get_array_module(a).minimum(a, b)

    def _share(self, a, b):
        return (a < b) + 0.5 * (a == b)


class Where(Function):
    """y = x where cond else z (cond a constant boolean array);
    dL/dx = dL/dy where cond (else 0),  dL/dz = dL/dy where not cond.
    """

    def __init__(self, condition):
        self.condition = condition

    def forward(self, x, z):
        self.shapes = x.shape, z.shape
        return get_array_module(x).where(self.condition, x, z)

    def backward(self, gy):
        xp = get_array_module(gy)
        cond = self.condition
        zero = xp.zeros((), dtype=gy.dtype)
        gx = unbroadcast(xp.where(cond, gy, zero), self.shapes[0]) if self.needs_input_grad[0] else None
        gz = unbroadcast(xp.where(cond, zero, gy), self.shapes[1]) if self.needs_input_grad[1] else None
        return gx, gz


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back to x's dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.source = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return (gy.astype(self.source),)
