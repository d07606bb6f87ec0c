"""Fit the rational approximation of the normal CDF that the float32 GELU kernel uses
(``nablab/kernels/cpu/gelu.py``) and print its coefficients.

Φ(x) = ½ + x·R(x²) with R(t) = P(t)/Q(t), deg P = 6, deg Q = 4, Q(0) = 1, on t = x² ∈ [0, 32]
(|x| ≤ √32 ≈ 5.66, beyond which Φ rounds to 0 or 1 in float32 once x is clamped there). The fit
minimises the largest relative error of R against (Φ(√t) − ½)/√t computed with ``math.erf``:
linearised least squares on P − f·Q = 0 over Chebyshev points, reweighted each round by 1/(f·Q)
of the previous round (Sanathanan–Koerner) and by the previous round's error (Lawson), keeping
the best round. It reaches a relative error of 6.5e-8 in float64, below float32's half-ulp.

    python tools/fit_normal_cdf.py
"""

import math

import numpy as np

T, DEG_P, DEG_Q, POINTS, ROUNDS = 32.0, 6, 4, 8000, 60


def target(t):
    x = np.sqrt(t)
    erf = np.vectorize(math.erf)(x / math.sqrt(2))
    return np.where(t > 0, 0.5 * erf / np.where(x > 0, x, 1), 1 / math.sqrt(2 * math.pi))


def fit():
    s = (np.cos(np.pi * (np.arange(POINTS) + 0.5) / POINTS)[::-1] + 1) / 2  # t = T·s, s ∈ (0, 1)
    f = target(s * T)
    q_prev, weights, best = np.ones(POINTS), np.full(POINTS, 1 / POINTS), (None, None, np.inf)
    for _ in range(ROUNDS):
        a = np.hstack([s[:, None] ** np.arange(DEG_P + 1), -f[:, None] * s[:, None] ** np.arange(1, DEG_Q + 1)])
        w = np.sqrt(weights) / (f * np.abs(q_prev))
        c, *_ = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)
        p, q = c[: DEG_P + 1], np.r_[1.0, c[DEG_P + 1:]]
        q_prev = np.polyval(q[::-1], s)
        err = np.polyval(p[::-1], s) / q_prev / f - 1
        if np.abs(err).max() < best[2]:
            best = (p, q, np.abs(err).max())
        weights = weights * np.abs(err)
        weights /= weights.sum()
    p, q, worst = best
    return p / T ** np.arange(DEG_P + 1), q / T ** np.arange(DEG_Q + 1), worst


if __name__ == "__main__":
    p, q, worst = fit()
    print(f"largest relative error of R in float64: {worst:.3g}")
    print("P (t⁰ first):", ", ".join(repr(float(v)) for v in p))
    print("Q (t⁰ first):", ", ".join(repr(float(v)) for v in q))
