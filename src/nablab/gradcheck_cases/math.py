"""The gradient checks of elementwise math (trigonometric, exponential, special and rounding functions,
clamping, remainders), reductions, scans and sorting.

Inputs keep away from each op's kinks: no ties where a maximum, a median or a sort picks, no
integers under the rounding ops, no zeros where a sign flips; the rounding ops' zero gradients are
checked like any other (central differences of a step function are 0 away from the steps). The
bounds of the tensor clamp lie between the inputs' values, and one column has max < min.
"""

from __future__ import annotations

import numpy as np

from ..ops import elementwise, error_function, exponential, reduction, rounding, scan, selection, trigonometric
from .case import Case
from .case import away_from_zero as _away_from_zero
from .case import distinct as _distinct
from .case import normal as _n
from .case import positive as _positive


def _inside_unit(r, *shape):
    """Values in (−0.9, 0.9): the domain of asin, acos and atanh, away from its ends."""
    return r.uniform(-0.9, 0.9, shape)


def _off_integers(r, *shape):
    """Values at least 0.1 from any integer (and from any half, for round): away from the rounding steps."""
    return r.integers(-3, 3, shape) + r.uniform(0.1, 0.4, shape)


def _with_zeros(r, *shape):
    """Normal values with exact zeros at fixed places (one row with two of them), for prod and cumprod."""
    x = r.standard_normal(shape)
    x.reshape(-1)[[1, 5, 6]] = 0.0
    return x


def _probability(r, *shape):
    """Values in (0.1, 0.9): the domain of logit, away from its ends."""
    return r.uniform(0.1, 0.9, shape)


def _across_the_clamp(r, *shape):
    """Values below, inside and above [0.2, 0.8] in turn (logit's clamp with eps = 0.2), each at least 0.05
    from the clamp's edges, where central differences would straddle the kink."""
    low, high = np.array([0.05, 0.25, 0.85]), np.array([0.15, 0.75, 0.95])
    part = np.arange(int(np.prod(shape))).reshape(shape) % 3
    return r.uniform(low[part], high[part])


_UNARY = {
    "sin": (trigonometric.Sin, _n), "cos": (trigonometric.Cos, _n), "tan": (trigonometric.Tan, _inside_unit),
    "asin": (trigonometric.Asin, _inside_unit), "acos": (trigonometric.Acos, _inside_unit),
    "atan": (trigonometric.Atan, _n), "sinh": (trigonometric.Sinh, _n), "cosh": (trigonometric.Cosh, _n),
    "asinh": (trigonometric.Asinh, _n), "acosh": (trigonometric.Acosh, lambda r, *s: 1.2 + _positive(r, *s)),
    "atanh": (trigonometric.Atanh, _inside_unit),
    "log2": (exponential.Log2, _positive), "log10": (exponential.Log10, _positive),
    "log1p": (exponential.Log1p, _positive), "expm1": (exponential.Expm1, _n), "exp2": (exponential.Exp2, _n),
    "logit": (exponential.Logit, _probability), "rsqrt": (exponential.Rsqrt, _positive),
    "erf": (error_function.Erf, _n), "erfc": (error_function.Erfc, _n),
    "floor": (rounding.Floor, _off_integers), "ceil": (rounding.Ceil, _off_integers),
    "trunc": (rounding.Trunc, _off_integers), "round": (rounding.Round, _off_integers),
    "frac": (rounding.Frac, _off_integers), "sign": (rounding.Sign, _away_from_zero),
}

CASES: dict[str, Case] = {
    name: Case(op, lambda a, name=name: getattr(a, name)(), lambda r, make=make: [make(r, 3, 4)])
    for name, (op, make) in _UNARY.items()
}
CASES.update({
    "round (decimals=1)": Case(rounding.Round, lambda a: a.round(decimals=1) * a,
                               lambda r: [_off_integers(r, 3, 4) / 10], smooth=False),
    "atan2 (broadcast)": Case(trigonometric.Atan2, lambda a, b: a.atan2(b), lambda r: [_n(r, 3, 4), _n(r, 4)]),
    "logaddexp (broadcast)": Case(exponential.LogAddExp, lambda a, b: a.logaddexp(b),
                                  lambda r: [_n(r, 3, 4), _n(r, 3, 1)]),
    "logit (eps)": Case(exponential.Logit, lambda p: p.logit(eps=0.2), lambda r: [_across_the_clamp(r, 3, 4)]),
    "copysign": Case(elementwise.Copysign, lambda a, b: a.copysign(b),
                     lambda r: [_away_from_zero(r, 3, 4), _away_from_zero(r, 4)], smooth=False),
    "fmod": Case(elementwise.Fmod, lambda a, b: a.fmod(b), lambda r: [_off_integers(r, 3, 4) * 1.7, _positive(r, 4)],
                 smooth=False),
    "remainder": Case(elementwise.Remainder, lambda a, b: a % b,
                      lambda r: [_off_integers(r, 3, 4) * 1.7, -_positive(r, 3, 1)], smooth=False),
    "lerp (tensor weight)": Case(elementwise.Lerp, lambda a, b, w: a.lerp(b, w),
                                 lambda r: [_n(r, 3, 4), _n(r, 4), _n(r, 3, 1)]),
    "clamp (tensor bounds)": Case(elementwise.ClampTensor, lambda x, lo, hi: x.clamp(lo, hi),
                                  lambda r: [_distinct(r, 3, 4) - 0.3, np.full(4, 0.125),
                                                     np.array([0.225, 0.325, 0.425, 0.075])],
                                  smooth=False),
    "clamp (tensor min only)": Case(elementwise.ClampTensor, lambda x, lo: x.clamp(min=lo),
                                    lambda r: [_distinct(r, 3, 4), np.full((3, 1), 0.275)], smooth=False),
    "prod (dim, with zeros)": Case(reduction.Prod, lambda a: a.prod(1) + a.prod(dim=(0, 2), keepdim=True).sum(),
                                   lambda r: [_with_zeros(r, 2, 4, 3)]),
    "prod (all)": Case(reduction.Prod, lambda a: a.prod(), lambda r: [_away_from_zero(r, 2, 3)]),
    "var (dim, correction)": Case(
        reduction.Var, lambda a: a.var(1, keepdim=True) + a.var(dim=0, correction=0, keepdim=True),
        lambda r: [_n(r, 3, 4)]),
    "std": Case(reduction.Std, lambda a: a.std(-1) + a.std(dim=(0, 1), correction=0), lambda r: [_n(r, 3, 4)],
                eps=1e-5),
    "logsumexp": Case(reduction.LogSumExp, lambda a: a.logsumexp(1) + a.logsumexp(dim=(0, 1)),
                      lambda r: [_n(r, 3, 4)]),
    "norm (2, dim)": Case(reduction.Norm, lambda a: a.norm(dim=1), lambda r: [_n(r, 3, 4)]),
    "norm (1, 3, inf)": Case(reduction.Norm, lambda a: a.norm(1) + a.norm(3, dim=0).sum() + a.norm(float("inf")),
                             lambda r: [_distinct(r, 3, 4) - 0.27]),
    "sum of squares": Case(reduction.SumOfSquares,
                           lambda a: reduction.SumOfSquares.apply(a) + reduction.SumOfSquares.apply(a.T[1:]),
                           lambda r: [_n(r, 3, 4)]),
    "median (all)": Case(reduction.MedianAll, lambda a: a.median(), lambda r: [_distinct(r, 3, 5)], smooth=False),
    "max (dim: values, indices)": Case(selection.TakeAlong, lambda a: a.max(1).values + a.min(dim=0).values.sum(),
                                       lambda r: [_distinct(r, 3, 4)], smooth=False),
    "sort and topk": Case(selection.TakeAlong, lambda a: a.sort(0, descending=True).values * a.topk(2).values.sum(),
                          lambda r: [_distinct(r, 3, 4)], smooth=False),
    "median (dim)": Case(selection.TakeAlong, lambda a: a.median(-1).values, lambda r: [_distinct(r, 3, 4)],
                         smooth=False),
    "cummax, cummin": Case(selection.TakeAlong, lambda a: a.cummax(1).values * a.cummin(0).values,
                           lambda r: [_distinct(r, 3, 4)], smooth=False),
    "cumsum": Case(scan.CumSum, lambda a: a.cumsum(1) * a.cumsum(dim=0), lambda r: [_n(r, 3, 4)]),
    "cumprod (with zeros)": Case(scan.CumProd, lambda a: a.cumprod(1), lambda r: [_with_zeros(r, 3, 4)]),
    "cumprod (no zeros)": Case(scan.CumProd, lambda a: a.cumprod(0), lambda r: [_away_from_zero(r, 3, 4)]),
})
