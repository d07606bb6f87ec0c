"""CPU kernel for the exact GELU in float32: :class:`nablab.ops.GELU` (the reference, with the
math) with the normal CDF as one rational function, in cache-sized blocks on every thread.

The reference computes Φ(x) = ½(1 + erf(x/√2)) with Cody's erf, three rational functions on
three intervals, picked per element: exact to float64 rounding, and some 25 passes over each
block. In float32 one rational function over the whole line is enough:

    Φ(x) = ½ + x·P(x²)/Q(x²)    for |x| ≤ √32, x clamped there beyond (Φ is then 0 or 1 in float32)

with deg P = 6, deg Q = 4 (``tools/fit_normal_cdf.py`` fits them; the largest relative error of
P/Q is 6.5e-8 in float64, below float32's half-ulp, so the float32 result is as close to the true
Φ as PyTorch's). y = x·Φ(x) and dL/dx = dL/dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π), as in
the reference; Φ is saved for backward only when the call is recorded.
"""

from __future__ import annotations

import math

import numpy as np

from ... import kernels, ops
from ...scratch import scratch
from .threads import parallel_blocks

_P = tuple(np.float32(c) for c in (
    0.3989422546771673, 0.036611680866897436, 0.004553976798428799, 0.00017632036358891336,
    3.253933379084857e-06, -2.1456565352449862e-08, 1.0556041151891746e-10))
_Q = tuple(np.float32(c) for c in (
    1.0, 0.25843750260007936, 0.029490769321392284, 0.0018695488395527352, 6.380404240724676e-05))
_CLAMP = np.float32(math.sqrt(32.0))
_HALF, _MINUS_HALF = np.float32(0.5), np.float32(-0.5)
_INV_SQRT_2PI = np.float32(1.0 / math.sqrt(2.0 * math.pi))


def _horner(coefficients, t, out):
    """out = c₀ + c₁t + … + cₙtⁿ, by Horner's rule, in place."""
    out.fill(coefficients[-1])
    for c in coefficients[-2::-1]:
        out *= t
        out += c
    return out


def normal_cdf_float32(x, out):
    """Φ(x) of a float32 block into ``out``: ½ + x·P(x²)/Q(x²), x clamped to ±√32."""
    n = x.shape[0]
    xc = np.clip(x, -_CLAMP, _CLAMP, out=scratch(np, "gelu-x", (n,), np.float32))
    t = np.multiply(xc, xc, out=scratch(np, "gelu-t", (n,), np.float32))
    q = _horner(_Q, t, scratch(np, "gelu-q", (n,), np.float32))
    _horner(_P, t, out)
    out *= xc
    out /= q
    out += _HALF
    return out


def _float32_exact(x, approximate="none"):
    return type(x) is np.ndarray and x.dtype == np.float32 and approximate == "none"


class GELUFloat32(ops.GELU):
    """:class:`nablab.ops.GELU` (exact) on float32: one rational Φ, blocked and threaded."""

    def forward(self, x):
        flat = np.ascontiguousarray(x).reshape(-1)
        y = np.empty_like(flat)
        cdf = np.empty_like(flat) if self.recording else None

        def work(lo, hi):
            block = flat[lo:hi]
            c = normal_cdf_float32(block, cdf[lo:hi] if cdf is not None else
                                   scratch(np, "gelu-cdf", (hi - lo,), np.float32))
            np.multiply(block, c, out=y[lo:hi])

        parallel_blocks(work, flat.size)
        self.x, self.cdf = flat, cdf
        return y.reshape(x.shape)

    def backward(self, gy):
        x, cdf = self.x, self.cdf
        flat_gy = np.ascontiguousarray(gy, dtype=np.float32).reshape(-1)
        g = np.empty_like(x)

        def work(lo, hi):
            xb, gb = x[lo:hi], g[lo:hi]
            np.multiply(xb, xb, out=gb)  # g = (x·φ(x) + Φ(x))·dL/dy, in place
            gb *= _MINUS_HALF
            np.exp(gb, out=gb)
            gb *= xb
            gb *= _INV_SQRT_2PI
            gb += cdf[lo:hi]
            gb *= flat_gy[lo:hi]

        parallel_blocks(work, x.size)
        return (g.reshape(gy.shape),)


kernels.register(ops.GELU, GELUFloat32, when=_float32_exact)
