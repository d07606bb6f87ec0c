"""The error function and its complement as ops: erf and erfc, with their gradients.

erf's values come from :func:`nablab.ops.special.erf` (W. J. Cody's rational approximations).
erfc x = 1 − erf x would lose every digit in the tail (erfc 6 ≈ 2·10⁻¹⁷ is below the rounding of
1), so :func:`erfc` evaluates the same approximations of erfc |x| directly where erf's module uses
them to get erf, and 1 − erf x only near 0, where erfc x ≈ 1.
"""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function
from . import special
from .special import erf

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfc_of_magnitude(y, xp):
    """erfc y for y > 0.46875, Cody's second and third approximations (see :mod:`nablab.ops.special`)."""
    out = xp.empty_like(y)
    middle = y <= special._MIDDLE
    ym = y[middle]
    num, den = special._ratio(special._C[8], special._C[:7], special._D[:7], ym)
    out[middle] = special._exp_minus_square(ym, xp) * (num + special._C[7]) / (den + special._D[7])
    yl = y[~middle]
    with xp.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        t = 1.0 / (yl * yl)
        num, den = special._ratio(special._P[5], special._P[:4], special._Q[:4], t)
        r = t * (num + special._P[4]) / (den + special._Q[4])
        tail = special._exp_minus_square(yl, xp) * (special._ONE_OVER_SQRT_PI - r) / yl
    out[~middle] = xp.where(xp.isfinite(tail), tail, 0.0)  # y = ∞: erfc = 0
    return out


def erfc(x):
    """erfc x = 1 − erf x = (2/√π) ∫ₓ^∞ e^(−t²) dt, elementwise, computed in float64 and returned in
    x's floating dtype: 1 − erf x for |x| ≤ 0.46875, erfc |x| directly beyond, and
    erfc x = 2 − erfc |x| for x < 0."""
    xp = get_array_module(x)
    x = xp.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else xp.float64
    x64 = x.astype(xp.float64)
    y = xp.abs(x64)
    out = xp.array(1.0 - erf(x64))  # an array also for 0-d x (a ufunc would give a scalar)
    far = y > special._SMALL
    tail = _erfc_of_magnitude(y[far], xp)
    out[far] = xp.where(x64[far] > 0, tail, 2.0 - tail)
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
