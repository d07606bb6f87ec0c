"""The error function and its complement, vectorised: NumPy has neither, and GELU needs erf to
float64 rounding.

W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for the error
function", Math. Comp. 23, 1969, 631–638; the coefficients of his CALERF), whose maximal relative
errors in double precision are below 1e-17 before rounding:

- |x| ≤ 0.46875:     erf x = x · R₁(x²)
- 0.46875 < |x| ≤ 4: erfc |x| = e^(−x²) · R₂(|x|)
- |x| > 4:           erfc |x| = e^(−x²) / |x| · (1/√π + R₃(1/x²) / x²)

with erf x = sign(x) · (1 − erfc |x|) outside the first interval, and erfc x = 1 − erf x inside it
and 2 − erfc |x| for x < 0. For erfc, and for erf in float64, e^(−x²) is taken as
e^(−s²) · e^(−(x−s)(x+s)) with s = x rounded down to 1/16 (s² is exact), so that the rounding of x²
(relative error ε, absolute ε·x² ≈ 16ε at x = 4) does not reach the result; erf in float32, where
erfc |x| < 2e-8 vanishes in 1 − erfc past 4, needs neither that nor the third interval.
"""

from __future__ import annotations

from ..backend import get_array_module

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1
_SMALL, _MIDDLE = 0.46875, 4.0


#: elements per block: each block's temporaries stay in the CPU cache
_BLOCK = 1 << 15


def _rational(t, lead, nums, dens, last_num, last_den):
    """Cody's ratio (((lead·t + n₀)·t + n₁)·t … + last_num) / (((t + d₀)·t + d₁)·t … + last_den),
    Horner's scheme in place on two buffers."""
    num, den = t * lead, t.copy()
    for a, b in zip(nums, dens):
        num += a
        num *= t
        den += b
        den *= t
    num += last_num
    den += last_den
    num /= den
    return num


def _exp_minus_square(y, xp, exact):
    """e^(−y²); with ``exact``, without the rounding of y² (see the module docstring)."""
    if not exact:
        return xp.exp(-(y * y))
    s = xp.floor(y * 16.0) / 16.0
    e = xp.exp(-(y - s) * (y + s))
    e *= xp.exp(-(s * s))
    return e


def _pick(outside, inside, mask):
    """``inside`` where ``mask``, else ``outside`` (both finite, so that one of outside·[not mask] and
    inside·[mask] is exactly 0: exact, and faster than a masked copy), in place on ``outside``."""
    outside *= ~mask
    inside *= mask
    outside += inside
    return outside


def _erf_small(x, xp):
    """erf x = x · R₁(x²), with x clipped into the first interval."""
    xs = xp.clip(x, -_SMALL, _SMALL)
    r = _rational(xs * xs, _A[4], _A[:3], _B[:3], _A[3], _B[3])
    r *= xs
    return r


def _erfc_of_abs(y, xp, tail):
    """erfc y for y ≥ 0 clipped into the second and (with ``tail``) third intervals; without the tail
    (erf in float32) the second interval's formula serves up to 4, where erfc is lost in 1 − erfc."""
    yc = xp.clip(y, _SMALL, 30.0 if tail else _MIDDLE)
    r = _rational(yc, _C[8], _C[:7], _D[:7], _C[7], _D[7])
    if tail:
        t = 1.0 / (yc * yc)
        r_large = _rational(t, _P[5], _P[:4], _Q[:4], _P[4], _Q[4])
        r_large *= -t
        r_large += _ONE_OVER_SQRT_PI
        r_large /= yc
        r = _pick(r, r_large, y > _MIDDLE)
    r *= _exp_minus_square(yc, xp, exact=tail)
    return r


def _erf_block(x, xp):
    """erf of a 1-D block: each interval's formula on the whole block, its argument clipped into the
    interval (so all are finite), then the right one picked: no gathers and scatters, no overflow."""
    y = xp.abs(x)
    r = _erfc_of_abs(y, xp, tail=x.dtype == xp.float64)
    xp.subtract(1.0, r, out=r)
    xp.copysign(r, x, out=r)
    return _pick(r, _erf_small(x, xp), y <= _SMALL)


def _erfc_block(x, xp):
    """erfc of a 1-D block: 1 − erf x in the first interval; erfc |x| beyond, and 2 − erfc |x| for
    x < 0 (erfc(−x) = 2 − erfc x), so that the tail keeps its digits."""
    y = xp.abs(x)
    r = _erfc_of_abs(y, xp, tail=True)
    r = _pick(r, 2.0 - r, x < 0)
    one_minus_erf = _erf_small(x, xp)
    xp.subtract(1.0, one_minus_erf, out=one_minus_erf)
    return _pick(r, one_minus_erf, y <= _SMALL)


def _blockwise(block_fn, x):
    """``block_fn`` over x in blocks of _BLOCK elements, in x's floating dtype (float16 in float32,
    integers in float64)."""
    xp = get_array_module(x)
    x = xp.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)
    out_dtype = x.dtype
    flat = x.reshape(-1).astype(xp.float32 if x.dtype.itemsize < 4 else x.dtype, copy=False)
    out = xp.empty_like(flat)
    for start in range(0, flat.size, _BLOCK):
        out[start:start + _BLOCK] = block_fn(flat[start:start + _BLOCK], xp)
    return out.reshape(x.shape).astype(out_dtype, copy=False)


def erf(x):
    """The error function erf x = (2/√π) ∫₀ˣ e^(−t²) dt, elementwise, in the input's floating dtype
    (float16 in float32, integers in float64)."""
    return _blockwise(_erf_block, x)


def erfc(x):
    """The complementary error function erfc x = 1 − erf x = (2/√π) ∫ₓ^∞ e^(−t²) dt, elementwise,
    accurate in the tail (erfc 10 ≈ 2·10⁻⁴⁵ in float64), in the input's floating dtype."""
    return _blockwise(_erfc_block, x)
