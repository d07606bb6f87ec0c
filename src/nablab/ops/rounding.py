"""Rounding and the sign: floor, ceil, round (half to even), trunc, frac, sign.

The rounding ops and the sign are piecewise constant: their gradient is 0 everywhere (as PyTorch
defines it at the jumps too); frac x = x − trunc x has gradient 1.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class _PiecewiseConstant:
    """dL/dx = 0: the backward of the ops whose value only jumps (a mixin, not an op of its own)."""

    saves_inputs = False

    def backward(self, gy):
        return (get_array_module(gy).zeros_like(gy),)


class Floor(_PiecewiseConstant, Function):
    """y = ⌊x⌋;  dL/dx = 0."""

    def forward(self, x):
        return get_array_module(x).floor(x)


class Ceil(_PiecewiseConstant, Function):
    """y = ⌈x⌉;  dL/dx = 0."""

    def forward(self, x):
        return get_array_module(x).ceil(x)


class Trunc(_PiecewiseConstant, Function):
    """y = x rounded toward 0;  dL/dx = 0."""

    def forward(self, x):
        return get_array_module(x).trunc(x)


class Round(_PiecewiseConstant, Function):
    """y = x rounded to ``decimals`` decimal places, halves to even (PyTorch's and NumPy's rule);  dL/dx = 0.

    With decimals ≠ 0 it is round(x · 10ᵈ) / 10ᵈ, as in PyTorch (so 2.675 → 2.67 or 2.68 as the
    binary value falls).
    """

    def __init__(self, decimals=0):
        self.decimals = decimals

    def forward(self, x):
        xp = get_array_module(x)
        if self.decimals == 0:
            return xp.round(x)
        scale = x.dtype.type(10.0 ** abs(self.decimals))
        if self.decimals > 0:
            return xp.round(x * scale) / scale
        return xp.round(x / scale) * scale


class Sign(_PiecewiseConstant, Function):
    """y = −1, 0 or 1 as x < 0, x = 0, x > 0, and 0 at NaN (as PyTorch: (x > 0) − (x < 0));  dL/dx = 0."""

    def forward(self, x):
        return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


class Frac(Function):
    """y = x − trunc x (the sign of x);  dL/dx = dL/dy."""

    saves_inputs = False

    def forward(self, x):
        return x - get_array_module(x).trunc(x)

    def backward(self, gy):
        return (gy,)
