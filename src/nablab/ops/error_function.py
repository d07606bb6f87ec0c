"""The error function and its complement as ops: erf and erfc, with their gradients.

Their values come from :func:`nablab.ops.special.erf` and :func:`~nablab.ops.special.erfc` (W. J.
Cody's vectorised approximations; erfc keeps its digits in the tail, where 1 − erf x would lose
them all: erfc 6 ≈ 2·10⁻¹⁷ is below the rounding of 1).
"""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function
from .special import erf, erfc

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Function):
    """y = erf x;  dL/dx = dL/dy · (2/√π) e^(−x²)."""

    def forward(self, x):
        self.x = x
        return erf(x)

    def backward(self, gy):
        return (gy * (_TWO_OVER_SQRT_PI * get_array_module(gy).exp(-self.x * self.x)),)


class Erfc(Function):
    """y = erfc x = 1 − erf x;  dL/dx = −dL/dy · (2/√π) e^(−x²)."""

    def forward(self, x):
        self.x = x
        return erfc(x)

    def backward(self, gy):
        return (gy * (-_TWO_OVER_SQRT_PI * get_array_module(gy).exp(-self.x * self.x)),)
