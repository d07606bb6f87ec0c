"""The strong Wolfe line search that :class:`~nablab.optim.LBFGS` uses (``line_search_fn="strong_wolfe"``).

Along a descent direction d from x, with φ(t) = f(x + t d) and φ'(t) = ∇f(x + t d)·d, a step t
satisfies the strong Wolfe conditions when

    φ(t) ≤ φ(0) + c₁ t φ'(0)          (sufficient decrease, c₁ = 10⁻⁴)
    |φ'(t)| ≤ c₂ |φ'(0)|               (curvature, c₂ = 0.9)

The search (Nocedal & Wright, Numerical Optimization, algorithms 3.5 and 3.6, in the form of
Schmidt's minFunc that PyTorch follows) first grows t until an interval is known to hold such a
step (bracketing), then shrinks that interval by safeguarded cubic interpolation (zoom).
"""

from __future__ import annotations

import math


def cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped to
    ``bounds`` (default: the interval between x1 and x2); the midpoint where the cubic has none.

        d₁ = g₁ + g₂ − 3(f₁ − f₂)/(x₁ − x₂),   d₂ = √(d₁² − g₁g₂)
        x* = x₂ − (x₂ − x₁)(g₂ + d₂ − d₁)/(g₂ − g₁ + 2d₂)     (for x₁ ≤ x₂; mirrored otherwise)
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


class _Point:
    """A trial step t with φ(t), the flat gradient there and φ'(t)."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Search along ``d`` from the point with loss ``f``, flat gradient ``g`` and slope ``gtd`` = g·d.

    ``evaluate(t)`` returns (loss, flat gradient) at x + t d and leaves x as it was. Returns
    (loss, flat gradient, t, number of evaluations) at the step found.
    """
    d_norm = float(abs(d).max())
    start = _Point(0, f, g.copy(), gtd)
    f_new, g_new = evaluate(t)
    evals, iters = 1, 0
    new = _Point(t, f_new, g_new, float(g_new.dot(d)))
    prev = start
    bracket, done = None, False
    # bracketing: grow t until [prev, new] holds a point satisfying both conditions
    while iters < max_ls:
        if new.f > f + c1 * new.t * gtd or (iters > 1 and new.f >= prev.f):
            bracket = [prev, _Point(new.t, new.f, new.g.copy(), new.gtd)]
            break
        if abs(new.gtd) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if new.gtd >= 0:
            bracket = [prev, _Point(new.t, new.f, new.g.copy(), new.gtd)]
            break
        t = cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                          bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev = _Point(new.t, new.f, new.g.copy(), new.gtd)
        f_new, g_new = evaluate(t)
        evals += 1
        iters += 1
        new = _Point(t, f_new, g_new, float(g_new.dot(d)))
    if iters == max_ls:
        bracket = [_Point(0, f, g, None), _Point(new.t, new.f, new.g, None)]

    # zoom: shrink the bracket [lo, hi] (lo the lower loss) by safeguarded cubic interpolation
    insufficient_progress = False
    lo, hi = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    while not done and iters < max_ls:
        a, b = bracket[0].t, bracket[1].t
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = cubic_minimum(a, bracket[0].f, bracket[0].gtd, b, bracket[1].f, bracket[1].gtd)
        left, right = min(a, b), max(a, b)
        eps = 0.1 * (right - left)
        if min(right - t, t - left) < eps:  # too close to an end: move it inside, or note the slow progress
            if insufficient_progress or t >= right or t <= left:
                t = right - eps if abs(t - right) < abs(t - left) else left + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        iters += 1
        trial = _Point(t, f_new, g_new.copy(), float(g_new.dot(d)))
        if trial.f > f + c1 * t * gtd or trial.f >= bracket[lo].f:
            bracket[hi] = trial
            lo, hi = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(trial.gtd) <= -c2 * gtd:
                done = True
            elif trial.gtd * (bracket[hi].t - bracket[lo].t) >= 0:
                bracket[hi] = bracket[lo]
            bracket[lo] = trial
    best = bracket[lo]
    return best.f, best.g, best.t, evals
