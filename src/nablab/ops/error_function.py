"""The error function and its complement as ops: erf and erfc, with their gradients.

erf's values come from :func:`nablab.ops.special.erf` (W. J. Cody's vectorised approximations).
erfc x = 1 − erf x would lose every digit in the tail (erfc 6 ≈ 2·10⁻¹⁷ is below the rounding of
1), so :func:`erfc` takes 1 − erf x only for x < 0.5, where erfc x > 0.47 keeps its digits, and
Python's ``math.erfc`` (the C library's, correct to rounding) element by element beyond: slower
(about 0.1 µs an element), and erfc is rare in networks; erf, which GELU needs fast, is vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..function import Function
from .special import erf

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LIBM_ERFC = np.frompyfunc(math.erfc, 1, 1)


def erfc(x):
    """erfc x = 1 − erf x = (2/√π) ∫ₓ^∞ e^(−t²) dt, elementwise, computed in float64 and returned in
    x's floating dtype (see the module docstring for how)."""
    xp = get_array_module(x)
    x = xp.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else xp.float64
    x64 = x.astype(xp.float64)
    out = xp.array(1.0 - erf(x64))  # an array also for 0-d x (a ufunc would give a scalar)
    tail = x64 >= 0.5
    if xp.any(tail):
        host = x64[tail] if xp is np else xp.asnumpy(x64[tail])  # math.erfc runs on the CPU
        out[tail] = xp.asarray(_LIBM_ERFC(host).astype(np.float64))
    return out.astype(out_dtype, copy=False)


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
