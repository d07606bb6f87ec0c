"""Reductions over axes (``axis`` None or a sorted tuple of axes, ``keepdims``): sum, mean, prod, max/min
(amax/amin), the median of all elements, var/std, logsumexp, vector norms and the sum of squares."""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..errors import DimError
from ..function import Function


def normalize_axis(axis, ndim):
    """None, or a sorted tuple of non-negative axes; an out-of-range axis is an error.

    As in PyTorch, a 0-d tensor accepts axis 0 and −1, which reduce nothing: they give ``()``; a dim given
    twice (1 and −1 of a 2-d tensor) is an error.
    """
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise DimError(f"dim {a} is out of range for a tensor with {ndim} dimensions "
                           f"(expected a dim in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])")
    normalized = [a % max(ndim, 1) for a in axes]
    if len(set(normalized)) != len(normalized):
        twice = next(a for a in normalized if normalized.count(a) > 1)
        raise RuntimeError(f"dim {twice} appears multiple times in the list of dims {tuple(axes)}")
    return tuple(sorted(normalized)) if ndim else ()


def integer_dtype(x):
    """x's dtype for integer x (NumPy would widen an int32 sum to int64; the caller picked the dtype), else None."""
    return x.dtype if x.dtype.kind in "iu" else None


def _expand_reduced(g, axis, keepdims):
    """Re-insert the reduced axes (as size 1) so ``g`` broadcasts against the input."""
    if keepdims or axis is None:
        return g
    xp = get_array_module(g)
    return xp.expand_dims(g, axis)


class Sum(Function):
    """y = Σ_axis x;  dL/dx = dL/dy broadcast back over the summed axes."""

    saves_inputs = False

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims, dtype=integer_dtype(x))

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (xp.broadcast_to(g, self.shape),)


class Mean(Function):
    """y = (1/n) Σ_axis x over the n reduced elements;  dL/dx = dL/dy / n, broadcast back."""

    saves_inputs = False

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        y = x.mean(axis=self.axis, keepdims=self.keepdims)
        self.count = x.size // max(y.size, 1) if x.size else 0
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (xp.broadcast_to(g / self.count, self.shape),)


class Max(Function):
    """y = max_axis x;  dL/dx = dL/dy at the maximal elements, shared equally among ties, else 0.

    Where y is NaN the maximal elements are the NaNs (PyTorch's rule for ``max()`` and ``median()``; its
    ``amax`` gives NaN gradients there).
    """

    saves_output = True

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def _reduce(self, x):
        return x.max(axis=self.axis, keepdims=True)

    def forward(self, x):
        reduced = x.shape if self.axis is None else [x.shape[a] for a in self.axis]
        if 0 in reduced:  # an empty result (another dim of size 0) is fine
            raise ValueError(f"max/min over a dim of size 0 (input shape {tuple(x.shape)}): the extreme of no "
                             "elements is not defined")
        self.x = x
        self.y = self._reduce(x)
        return self.y if self.keepdims else self.y.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, gy):
        x, y = self.x, self.y
        hit = x == y
        if x.dtype.kind == "f":
            xp = get_array_module(x)
            hit |= xp.isnan(x) & xp.isnan(y)
        count = hit.sum(axis=self.axis, keepdims=True)
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (hit * (g / count).astype(gy.dtype, copy=False),)


class Min(Max):
    """y = min_axis x;  dL/dx = dL/dy at the minimal elements, shared equally among ties, else 0."""

    def _reduce(self, x):
        return x.min(axis=self.axis, keepdims=True)


class MedianAll(Max):
    """y = the lower median of all elements (the ⌈n/2⌉-th smallest; NaN if any is NaN);
    dL/dx = dL/dy shared equally among the elements equal to y (PyTorch's rule for ``median()``)."""

    def _reduce(self, x):
        xp = get_array_module(x)
        flat = xp.sort(x.reshape(-1))  # NaNs sort last: the median of a tensor with a NaN is NaN
        value = flat[-1] if xp.isnan(flat[-1]) else flat[(flat.size - 1) // 2]
        return value.reshape((1,) * x.ndim)


class Prod(Function):
    """y = Π_axis x;  dL/dxᵢ = dL/dy · Π_{j≠i} xⱼ (the product of the others, exact when some xⱼ = 0).

    The product of the others is the product of the ones before i times the product of the ones
    after: two exclusive running products along the reduced elements, so no division by xᵢ.
    """

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        return x.prod(axis=self.axis, keepdims=self.keepdims, dtype=integer_dtype(x))

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        axes = tuple(range(x.ndim)) if self.axis is None else self.axis
        last = tuple(range(x.ndim - len(axes), x.ndim))
        moved = xp.moveaxis(x, axes, last)
        rows = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))  # the reduced elements on one axis
        if rows.shape[-1] == 0:  # the product of no elements is 1, and there is no element to differentiate
            return (xp.zeros(x.shape, dtype=gy.dtype),)
        ones = xp.ones(rows.shape[:-1] + (1,), dtype=rows.dtype)
        before = xp.cumprod(xp.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
        after = xp.cumprod(xp.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = xp.moveaxis((before * after).reshape(moved.shape), last, axes)
        return (_expand_reduced(gy, self.axis, self.keepdims) * others,)


class Var(Function):
    """y = Σ_axis (x − x̄)² / (n − c), the variance with Bessel's ``correction`` c (1 by default, as PyTorch);
    dL/dx = dL/dy · 2 (x − x̄) / (n − c)  (x̄ depends on x too, but Σ (x − x̄) = 0 cancels that term)."""

    saves_inputs = False

    def __init__(self, axis=None, keepdims=False, correction=1):
        self.axis, self.keepdims, self.correction = axis, keepdims, correction

    def _variance(self, x):
        self.centred = x - x.mean(axis=self.axis, keepdims=True)
        n = x.size if self.axis is None else math.prod(x.shape[a] for a in self.axis)
        self.dof = max(n - self.correction, 0)
        with get_array_module(x).errstate(divide="ignore", invalid="ignore"):
            squares = (self.centred * self.centred).sum(axis=self.axis, keepdims=self.keepdims)
            return squares / x.dtype.type(self.dof)

    def forward(self, x):
        return self._variance(x)

    def backward(self, gy):
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (g * (2 / self.dof if self.dof else math.inf) * self.centred,)  # n ≤ c: NaN, as PyTorch


class Std(Var):
    """y = √var(x) with Bessel's ``correction``;  dL/dx = dL/dy / (2y) · dvar/dx, and 0 where y = 0 (as PyTorch)."""

    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).sqrt(self._variance(x))
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(self.y == 0, 0, gy / (2 * self.y)).astype(gy.dtype, copy=False)
        return super().backward(scale)


class LogSumExp(Function):
    """y = m + ln Σ_axis e^(x − m) with m = max_axis x (no overflow);  dL/dx = dL/dy · e^(x − y), the softmax.

    Where every element is −∞ (m = −∞) the shift is 0 instead, so y = ln 0 = −∞ without a NaN.
    """

    saves_output = True

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = get_array_module(x)
        m = x.max(axis=self.axis, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, dtype=x.dtype)
        m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
        with xp.errstate(divide="ignore"):
            y = xp.log(xp.exp(x - m).sum(axis=self.axis, keepdims=True)) + m
        self.x, self.y = x, y
        return y if self.keepdims else y.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, gy):
        g = _expand_reduced(gy, self.axis, self.keepdims)
        return (g * get_array_module(g).exp(self.x - self.y),)


class Norm(Function):
    """The vector p-norm over ``axis``, PyTorch's ``linalg.vector_norm``:

    y = (Σ |x|ᵖ)^(1/p);  p = ∞: max |x|;  p = −∞: min |x|;  p = 0: the count of nonzero elements.
    dL/dx = dL/dy · sign(x) |x|ᵖ⁻¹ / yᵖ⁻¹, and 0 where y = 0 or x = 0 (for p < 1 the power is infinite there;
    PyTorch takes 0); p = 1: dL/dy · sign(x); p = ±∞: dL/dy · sign(x) shared equally among the elements
    with |x| = y; p = 0: 0.
    """

    saves_output = True

    def __init__(self, p=2.0, axis=None, keepdims=False):
        self.p, self.axis, self.keepdims = float(p), axis, keepdims

    def forward(self, x):
        xp = get_array_module(x)
        p, a = self.p, xp.abs(x)
        if p == math.inf:
            y = a.max(axis=self.axis, keepdims=True)
        elif p == -math.inf:
            y = a.min(axis=self.axis, keepdims=True)
        elif p == 0:
            y = (a != 0).sum(axis=self.axis, keepdims=True).astype(x.dtype)
        elif p == 1:
            y = a.sum(axis=self.axis, keepdims=True)
        elif p == 2:
            y = xp.sqrt((a * a).sum(axis=self.axis, keepdims=True))
        else:
            y = (a**p).sum(axis=self.axis, keepdims=True) ** (1 / p)
        self.x, self.y = x, y
        return y if self.keepdims else y.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, gy):
        xp = get_array_module(gy)
        x, y, p = self.x, self.y, self.p
        g = _expand_reduced(gy, self.axis, self.keepdims)
        if p == 0:
            return (xp.zeros(x.shape, dtype=gy.dtype),)
        if p == 1:
            return (g * xp.sign(x),)
        if math.isinf(p):
            hit = xp.abs(x) == y
            return (xp.sign(x) * hit * (g / hit.sum(axis=self.axis, keepdims=True)).astype(gy.dtype, copy=False),)
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(y == 0, 0, g / y ** (p - 1)).astype(gy.dtype, copy=False)
            if p == 2:
                return (x * scale,)
            a = xp.abs(x)
            return (xp.where(a == 0, 0, xp.sign(x) * a ** (p - 1)).astype(gy.dtype, copy=False) * scale,)


class SumOfSquares(Function):
    """y = Σᵢ xᵢ² = x·x over all elements (an L2 penalty's ‖W‖²);  dL/dx = 2·dL/dy·x.

    One dot product forward, where ``(x * x).sum()`` writes the squares to a temporary and reads
    them back, and one product backward, where the product rule of x·x gives dL/dy·x twice and
    their sum. The numbers are those of ``(x * x).sum()`` up to the order of the additions.
    """

    fresh_grads = True

    def forward(self, x):
        xp = get_array_module(x)
        flat = x.reshape(-1)
        self.x = x
        return xp.asarray(xp.dot(flat, flat))

    def backward(self, gy):
        return (self.x * (2 * gy),)


def _reduced_shape(shape, axis):
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axis)
