"""The math methods of :class:`~nablab.Tensor`: elementwise functions, integer and logical operators,
reductions, scans and sorting, with PyTorch's names, arguments and result dtypes.

Each differentiable method is a thin wrapper that calls an op's ``apply`` (the math is in
:mod:`nablab.ops`); :class:`~nablab.Tensor` inherits them from :class:`MathMethods`. Results that
carry no gradient (comparisons, bitwise and logical ops, indices) are plain tensors outside the graph.

Conventions, as in PyTorch:

- floating functions (sin, log2, erf, …) of integer or boolean tensors give float32;
- reductions take ``dim`` (an int or a tuple) and ``keepdim``; NumPy's ``axis`` and ``keepdims``
  are accepted as aliases. Sums and products of integer or boolean tensors are int64; ``mean``,
  ``var``, ``std`` and ``norm`` refuse them (pass ``dtype=`` to mean);
- ``x.max()`` is a 0-d tensor; ``x.max(dim)`` (positional or ``dim=``) is the named pair
  ``(values, indices)`` of :mod:`nablab.return_types`, whose gradient goes to the element at the
  index; ``x.max(other)`` is the elementwise maximum. NumPy's spelling ``x.max(axis=…)`` keeps
  NumPy's meaning: the values alone (a tensor), the gradient shared equally among ties (as ``amax``),
  and so does a tuple of dims (which PyTorch's max refuses). The same holds for ``min``.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from . import dtypes, ops, return_types
from .backend import get_array_module
from .dtypes import DEFAULT_DTYPE
from .errors import DimError, ShapeError
from .ops import elementwise, error_function, exponential, reduction, rounding, scan, selection, sorting, trigonometric

_INT64 = np.dtype("int64")


# --------------------------------------------------------------------------- argument helpers
def _floating(x):
    """x itself if it is floating, else x in the default float dtype (``sin`` of an int tensor is float32)."""
    return x if x.data.dtype.kind == "f" else x._cast(DEFAULT_DTYPE)


def _require_floating(x, name):
    if x.data.dtype.kind != "f":
        raise TypeError(f"{name}() needs a floating tensor (as in PyTorch), got dtype {x.data.dtype}")


def _alias(name, value, numpy_name, numpy_value, default=None):
    """The value of an argument PyTorch spells ``name`` and NumPy ``numpy_name``; both given is an error."""
    if numpy_value is None:
        return value
    if value is not default:
        raise TypeError(f"got both {name}= and its NumPy spelling {numpy_name}=: pass one")
    return numpy_value


def _axes(x, dim, axis):
    """The reduced axes as ``ops.normalize_axis`` gives them: None (all), or a sorted tuple. PyTorch's
    ``dim=()`` means every axis; NumPy's ``axis=()`` means none."""
    if axis is not None:
        if dim is not None:
            raise TypeError("got both dim= and its NumPy spelling axis=: pass one")
        return ops.normalize_axis(axis, x.ndim)
    if dim is None or (not isinstance(dim, numbers.Integral) and len(dim) == 0):
        return None
    return ops.normalize_axis(dim, x.ndim)


def _one_axis(x, dim):
    """One dim as a non-negative axis of a tensor with at least one dimension (0-d tensors are taken
    as shape (1,), so dim 0 and −1 are valid for them, as in PyTorch)."""
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"dim must be an int here, got {dim!r}")
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise DimError(f"dim {dim} is out of range for a tensor with {x.ndim} dimensions "
                       f"(expected a dim in [{-n}, {n - 1}])")
    return int(dim) % n


def _as_operands(*operands, floating=False):
    """Tensors (and numbers, and array-likes) in their promoted dtype (:func:`nablab.dtypes.result_type`):
    tensors cast through ``ops.Cast``, numbers as 0-d constants. ``floating`` lifts an integer or boolean
    result dtype to the default float."""
    first = next(t for t in operands if hasattr(t, "_cast"))
    operands = [t if t is None or hasattr(t, "_cast") or isinstance(t, numbers.Number) else first._operand(t)
                for t in operands]
    dtype = dtypes.result_type(*[t for t in operands if t is not None])
    if floating and dtype.kind != "f":
        dtype = DEFAULT_DTYPE
    xp = get_array_module(first.data)
    return [None if t is None else t._cast(dtype) if hasattr(t, "_cast") else type(first)._make(xp.asarray(t, dtype))
            for t in operands]


def _sum_dtype(x, dtype):
    """The dtype a sum, product or cumulative op computes in: ``dtype`` if given, else int64 for
    integer and boolean tensors (as PyTorch), else the tensor's own."""
    if dtype is not None:
        return np.dtype(dtype)
    return _INT64 if x.data.dtype.kind in "biu" else x.data.dtype


def _constant(x, array):
    """A tensor outside the graph."""
    return type(x)._make(array)


def _bitwise(symbol, array_op, reflected=False):
    """The operator method ``symbol`` (``&``, ``|``, ``^``) of integer and boolean tensors, or its reflected form."""

    def method(self, other):
        a, b = self._integer_operands(other, symbol, reflected)
        return _constant(self, array_op(a, b))

    return method


class MathMethods:
    """Elementwise math, operators, reductions, scans and sorting of a tensor."""

    # ----------------------------------------------------------------- exponentials, logarithms, powers
    def exp(self):
        return ops.Exp.apply(_floating(self))

    def exp2(self):
        return exponential.Exp2.apply(_floating(self))

    def expm1(self):
        return exponential.Expm1.apply(_floating(self))

    def log(self):
        return ops.Log.apply(_floating(self))

    def log2(self):
        return exponential.Log2.apply(_floating(self))

    def log10(self):
        return exponential.Log10.apply(_floating(self))

    def log1p(self):
        return exponential.Log1p.apply(_floating(self))

    def sqrt(self):
        return ops.Sqrt.apply(_floating(self))

    def rsqrt(self):
        return exponential.Rsqrt.apply(_floating(self))

    def reciprocal(self):
        """1 / x (integer tensors give float32)."""
        return 1 / self

    def square(self):
        """x · x (integer and boolean tensors give int64, as PyTorch)."""
        x = self._cast(_INT64) if self.data.dtype == bool else self
        return x * x

    def pow(self, exponent):
        return self**exponent

    def neg(self):
        return -self

    negative = neg

    def logaddexp(self, other):
        """ln(eˣ + eᵒᵗʰᵉʳ), without overflow."""
        return exponential.LogAddExp.apply(*_as_operands(self, other, floating=True))

    def logit(self, eps=None):
        """ln(p / (1 − p)), the inverse of the sigmoid; with ``eps``, p is clamped to [eps, 1 − eps] first
        (integer tensors give float32)."""
        return exponential.Logit.apply(_floating(self), eps=eps)

    # ----------------------------------------------------------------- trigonometric and hyperbolic
    def sin(self):
        return trigonometric.Sin.apply(_floating(self))

    def cos(self):
        return trigonometric.Cos.apply(_floating(self))

    def tan(self):
        return trigonometric.Tan.apply(_floating(self))

    def asin(self):
        return trigonometric.Asin.apply(_floating(self))

    def acos(self):
        return trigonometric.Acos.apply(_floating(self))

    def atan(self):
        return trigonometric.Atan.apply(_floating(self))

    def atan2(self, other):
        """The angle of the point (other, self), in (−π, π]."""
        return trigonometric.Atan2.apply(*_as_operands(self, other, floating=True))

    arctan2 = atan2

    def sinh(self):
        return trigonometric.Sinh.apply(_floating(self))

    def cosh(self):
        return trigonometric.Cosh.apply(_floating(self))

    def tanh(self):
        return ops.Tanh.apply(_floating(self))

    def asinh(self):
        return trigonometric.Asinh.apply(_floating(self))

    def acosh(self):
        return trigonometric.Acosh.apply(_floating(self))

    def atanh(self):
        return trigonometric.Atanh.apply(_floating(self))

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    # ----------------------------------------------------------------- special functions, activations
    def erf(self):
        return error_function.Erf.apply(_floating(self))

    def erfc(self):
        return error_function.Erfc.apply(_floating(self))

    def sigmoid(self):
        return ops.Sigmoid.apply(_floating(self))

    def relu(self):
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01):
        return ops.LeakyReLU.apply(self, negative_slope=negative_slope)

    # ----------------------------------------------------------------- sign, rounding
    def abs(self):
        if self.data.dtype == bool:
            raise TypeError("abs() of a boolean tensor is not defined (nor in PyTorch)")
        return ops.Abs.apply(self)

    absolute = abs

    def sign(self):
        """−1, 0 or 1 (a boolean tensor is its own sign); the gradient is 0."""
        return _constant(self, self.data.copy()) if self.data.dtype == bool else rounding.Sign.apply(self)

    sgn = sign

    def _rounded(self, op):
        """An integer tensor is already whole: a copy, outside the graph (PyTorch's values); booleans are refused."""
        if self.data.dtype == bool:
            raise TypeError(f"{op.__name__.lower()}() of a boolean tensor is not defined (nor in PyTorch)")
        return _constant(self, self.data.copy()) if self.data.dtype.kind in "iu" else op.apply(self)

    def floor(self):
        return self._rounded(rounding.Floor)

    def ceil(self):
        return self._rounded(rounding.Ceil)

    def trunc(self):
        return self._rounded(rounding.Trunc)

    fix = trunc

    def round(self, decimals: int = 0):
        """Round half to even, to ``decimals`` decimal places (negative: tens, hundreds, …); the gradient is 0."""
        if decimals == 0:
            return self._rounded(rounding.Round)
        _require_floating(self, "round(decimals≠0)")
        return rounding.Round.apply(self, decimals=int(decimals))

    def frac(self):
        """x − trunc x (with x's sign)."""
        _require_floating(self, "frac")
        return rounding.Frac.apply(self)

    def copysign(self, other):
        """|x| with the sign of ``other`` (float32 for integer inputs, as PyTorch)."""
        return elementwise.Copysign.apply(*_as_operands(self, other, floating=True))

    # ----------------------------------------------------------------- clamping, maxima, interpolation
    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """min(max(x, min), max) elementwise; ``min`` and ``max`` are numbers, tensors (broadcast) or None."""
        if min is None and max is None:
            raise ValueError("clamp needs at least one of min and max")
        if hasattr(min, "_cast") or hasattr(max, "_cast"):
            x, low, high = _as_operands(self, min, max)
            return elementwise.ClampTensor.apply(x, *[b for b in (low, high) if b is not None],
                                                 has_low=low is not None, has_high=high is not None)
        bounds = [b for b in (min, max) if b is not None]
        x = self._cast(dtypes.result_type(self, *bounds))
        return ops.Clip.apply(x, low=min, high=max)

    clamp = clip

    def clamp_min(self, min):  # noqa: A002
        return self.clip(min=min)

    def clamp_max(self, max):  # noqa: A002
        return self.clip(max=max)

    def maximum(self, other):
        return ops.Maximum.apply(*self._promoted(other))

    def minimum(self, other):
        return ops.Minimum.apply(*self._promoted(other))

    def lerp(self, end, weight):
        """self + weight · (end − self); ``weight`` a number or a tensor."""
        return elementwise.Lerp.apply(*_as_operands(self, end, weight))

    def addcmul(self, tensor1, tensor2, *, value=1):
        """self + value · tensor1 · tensor2 (the optimizers' fused update, ``torch.addcmul``)."""
        return self + (tensor1 * tensor2 if value == 1 else tensor1 * tensor2 * value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """self + value · tensor1 / tensor2 (``torch.addcdiv``)."""
        return self + (tensor1 / tensor2 if value == 1 else tensor1 / tensor2 * value)

    def nan_to_num(self, nan: float = 0.0, posinf=None, neginf=None):
        """NaN → ``nan``, +∞ → ``posinf`` (default: the dtype's largest value), −∞ → ``neginf`` (its
        lowest); dL/dx is dL/dy at the finite elements and 0 at the replaced ones."""
        if self.data.dtype.kind != "f":
            return self.clone()
        xp = get_array_module(self.data)
        replaced = xp.nan_to_num(self.data, nan=nan, posinf=posinf, neginf=neginf)
        return ops.Where.apply(self, _constant(self, replaced), condition=xp.isfinite(self.data))

    def _along(self, dim, dtype, name):
        x = self if dtype is None else self._cast(np.dtype(dtype))
        _require_floating(x, name)
        if not isinstance(dim, numbers.Integral):
            raise TypeError(f"{name}() takes the dim as an int, got {dim!r}")
        return x, int(dim)

    def softmax(self, dim, dtype=None):
        """e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim``: ``nablab.nn.functional.softmax(self, dim)``."""
        x, axis = self._along(dim, dtype, "softmax")
        return ops.Softmax.apply(x, axis=axis)

    def log_softmax(self, dim, dtype=None):
        """xᵢ − log Σⱼ e^(xⱼ) along ``dim``: ``nablab.nn.functional.log_softmax(self, dim)``."""
        x, axis = self._along(dim, dtype, "log_softmax")
        return ops.LogSoftmax.apply(x, axis=axis)

    # ----------------------------------------------------------------- division and remainders
    def fmod(self, other):
        """The remainder of self / other with self's sign (C's fmod)."""
        return elementwise.Fmod.apply(*self._remainder_operands(other))

    def remainder(self, other):
        """The remainder of self / other with other's sign (Python's %)."""
        return elementwise.Remainder.apply(*self._remainder_operands(other))

    def _remainder_operands(self, other, reflected=False):
        a, b = self._promoted(other)
        if a.data.dtype == bool:
            raise TypeError("remainder and floor division of boolean tensors are not defined (nor in PyTorch)")
        return (b, a) if reflected else (a, b)

    __mod__ = remainder

    def __rmod__(self, other):
        return elementwise.Remainder.apply(*self._remainder_operands(other, reflected=True))

    def _floor_division(self, a, b):
        """⌊a / b⌋ elementwise, outside the graph (PyTorch defines no gradient for it)."""
        xp = get_array_module(a.data)
        if a.data.dtype.kind in "iu" and not xp.all(b.data):
            raise ZeroDivisionError("integer floor division by zero (as in PyTorch)")
        with np.errstate(divide="ignore", invalid="ignore"):
            return _constant(self, xp.floor_divide(a.data, b.data))

    def floor_divide(self, other):
        return self._floor_division(*self._remainder_operands(other))

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other):
        return self._floor_division(*self._remainder_operands(other, reflected=True))

    # ----------------------------------------------------------------- bitwise and logical operators
    def _integer_operands(self, other, name, reflected=False):
        a, b = self._promoted(other)
        if a.data.dtype.kind not in "biu":
            raise TypeError(f"{name} is only defined for integer and boolean tensors (as in PyTorch), "
                            f"got dtype {a.data.dtype}")
        return (b.data, a.data) if reflected else (a.data, b.data)

    __and__, __rand__ = _bitwise("&", operator.and_), _bitwise("&", operator.and_, reflected=True)
    __or__, __ror__ = _bitwise("|", operator.or_), _bitwise("|", operator.or_, reflected=True)
    __xor__, __rxor__ = _bitwise("^", operator.xor), _bitwise("^", operator.xor, reflected=True)

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ is only defined for integer and boolean tensors (as in PyTorch), got {self.dtype}")
        return _constant(self, ~self.data)

    def _shift(self, other, left, reflected=False):
        """a << b or a >> b; shifting by the bit width or more gives 0 (or −1 for a negative a >> b), as PyTorch."""
        a, b = self._integer_operands(other, "<<" if left else ">>", reflected)
        if a.dtype == bool:
            raise TypeError("shifts of boolean tensors are not defined (nor in PyTorch)")
        xp = get_array_module(a)
        bits = a.dtype.itemsize * 8
        if left:
            return _constant(self, xp.where(b >= bits, 0, a << xp.minimum(b, bits - 1)).astype(a.dtype))
        return _constant(self, a >> xp.minimum(b, bits - 1).astype(a.dtype))

    def __lshift__(self, other):
        return self._shift(other, left=True)

    def __rlshift__(self, other):
        return self._shift(other, left=True, reflected=True)

    def __rshift__(self, other):
        return self._shift(other, left=False)

    def __rrshift__(self, other):
        return self._shift(other, left=False, reflected=True)

    bitwise_and, bitwise_or, bitwise_xor, bitwise_not = __and__, __or__, __xor__, __invert__
    bitwise_left_shift, bitwise_right_shift = __lshift__, __rshift__

    def _truth(self, other=None):
        """self (and other, broadcast) as boolean arrays: nonzero is True."""
        data = self.data.astype(bool)
        if other is None:
            return data
        other = other.data if hasattr(other, "_cast") else np.asarray(other)
        return data, other.astype(bool)

    def logical_and(self, other):
        a, b = self._truth(other)
        return _constant(self, a & b)

    def logical_or(self, other):
        a, b = self._truth(other)
        return _constant(self, a | b)

    def logical_xor(self, other):
        a, b = self._truth(other)
        return _constant(self, a ^ b)

    def logical_not(self):
        return _constant(self, ~self._truth())

    # ----------------------------------------------------------------- tests of values
    def isnan(self):
        return _constant(self, get_array_module(self.data).isnan(self.data))

    def isinf(self):
        return _constant(self, get_array_module(self.data).isinf(self.data))

    def isfinite(self):
        return _constant(self, get_array_module(self.data).isfinite(self.data))

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        """|self − other| ≤ atol + rtol · |other| elementwise (infinities equal to themselves)."""
        a, b = self._promoted(other)
        return _constant(self, get_array_module(a.data).isclose(a.data, b.data, rtol=rtol, atol=atol,
                                                                equal_nan=equal_nan))

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """Whether :meth:`isclose` holds everywhere (a Python bool)."""
        return bool(self.isclose(other, rtol, atol, equal_nan).data.all())

    # ----------------------------------------------------------------- sums and means
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """Σ over ``dim`` (None: all); integer and boolean tensors sum to int64 unless ``dtype`` says otherwise."""
        axes = _axes(self, dim, axis)
        x = self._cast(_sum_dtype(self, dtype))
        return ops.Sum.apply(x, axis=axes, keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def nansum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """Σ over ``dim`` counting NaNs as 0."""
        x = self if self.data.dtype.kind != "f" else ops.Where.apply(self, 0.0, condition=~self.isnan().data)
        return MathMethods.sum(x, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """The mean over ``dim``; integer and boolean tensors need ``dtype=`` (as in PyTorch)."""
        axes = _axes(self, dim, axis)
        x = self if dtype is None else self._cast(np.dtype(dtype))
        if x.data.dtype.kind != "f":
            raise TypeError(f"mean() of a {x.data.dtype} tensor: its dtype must be floating (as in PyTorch); "
                            "pass dtype=nablab.float32 or cast it first (.float())")
        return ops.Mean.apply(x, axis=axes, keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """Π over ``dim``; integer and boolean tensors multiply in int64."""
        axes = _axes(self, dim, axis)
        x = self._cast(_sum_dtype(self, dtype))
        return reduction.Prod.apply(x, axis=axes, keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """ln Σ exp(x) over ``dim``, without overflow (integer tensors give float32)."""
        axes = _axes(self, dim, axis)
        return reduction.LogSumExp.apply(_floating(self), axis=axes,
                                   keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    # ----------------------------------------------------------------- spread
    def _correction(self, unbiased, correction, ddof):
        correction = _alias("correction", correction, "ddof", ddof)
        if unbiased is not None:
            if correction is not None:
                raise TypeError("got both unbiased= and correction=: pass one")
            return 1 if unbiased else 0
        return 1 if correction is None else correction

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, ddof=None, axis=None,
            keepdims=None):
        """Σ (x − x̄)² / (n − correction) over ``dim``; ``correction`` 1 (Bessel's) by default, ``unbiased=False``
        is ``correction=0`` (NumPy's ``ddof``)."""
        _require_floating(self, "var")
        return reduction.Var.apply(self, axis=_axes(self, dim, axis),
                                   correction=self._correction(unbiased, correction, ddof),
                                   keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, ddof=None, axis=None,
            keepdims=None):
        """√var over ``dim``, with var's ``correction``."""
        _require_floating(self, "std")
        return reduction.Std.apply(self, axis=_axes(self, dim, axis),
                                   correction=self._correction(unbiased, correction, ddof),
                                   keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def var_mean(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        """``(var, mean)`` over ``dim``."""
        return (self.var(dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim))

    def std_mean(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        """``(std, mean)`` over ``dim``."""
        return (self.std(dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim))

    def norm(self, p="fro", dim=None, keepdim: bool = False, *, dtype=None):
        """The vector p-norm over ``dim`` (all elements by default): p = "fro" or 2, 1, ∞, −∞, 0 or any number."""
        x = self if dtype is None else self._cast(np.dtype(dtype))
        _require_floating(x, "norm")
        if p == "fro":
            p = 2
        elif isinstance(p, str):
            raise ValueError(f'norm supports p="fro" and numbers here, got p={p!r}')
        return reduction.Norm.apply(x, p=p, axis=_axes(x, dim, None), keepdims=keepdim)

    # ----------------------------------------------------------------- extremes
    def amax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The largest element over ``dim``; the gradient is shared equally among ties."""
        return ops.Max.apply(self, axis=_axes(self, dim, axis),
                             keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def amin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The smallest element over ``dim``; the gradient is shared equally among ties."""
        return ops.Min.apply(self, axis=_axes(self, dim, axis),
                             keepdims=_alias("keepdim", keepdim, "keepdims", keepdims, False))

    def _extreme(self, largest, dim, keepdim, axis, keepdims):
        """max/min: see the module docstring for the three forms and the ``axis=`` spelling."""
        if hasattr(dim, "_cast"):
            return self.maximum(dim) if largest else self.minimum(dim)
        keepdim = _alias("keepdim", keepdim, "keepdims", keepdims, False)
        if axis is not None or dim is None or not isinstance(dim, numbers.Integral):  # several dims: values only
            op = ops.Max if largest else ops.Min
            return op.apply(self, axis=_axes(self, dim, axis), keepdims=keepdim)
        argext = "argmax" if largest else "argmin"
        pair = return_types.max if largest else return_types.min
        return self._pick_along(dim, keepdim, pair, lambda data, a: getattr(data, argext)(axis=a, keepdims=True))

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """``x.max()``: the largest element; ``x.max(dim, keepdim=False)``: the pair (values, indices);
        ``x.max(other)``: the elementwise maximum; ``x.max(axis=…)``: NumPy's values alone."""
        return self._extreme(True, dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """``x.min()``, ``x.min(dim, keepdim=False)`` → (values, indices), ``x.min(other)``, ``x.min(axis=…)``."""
        return self._extreme(False, dim, keepdim, axis, keepdims)

    def _arg_extreme(self, name, dim, keepdim, axis, keepdims):
        if self.data.dtype == bool:
            raise TypeError(f"{name}() of a boolean tensor is not defined (nor in PyTorch)")
        dim = _alias("dim", dim, "axis", axis)
        keep = _alias("keepdim", keepdim, "keepdims", keepdims, False)
        if dim is None:
            index = getattr(self.data.reshape(-1), name)()
            return _constant(self, get_array_module(self.data).asarray(index, dtype=_INT64).reshape(
                (1,) * self.ndim if keep else ()))
        a = _one_axis(self, dim)
        data = self.data.reshape(1) if self.ndim == 0 else self.data
        index = getattr(data, name)(axis=a, keepdims=keep).astype(_INT64)
        return _constant(self, index.reshape(()) if self.ndim == 0 else index)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The index of the largest element (of the flattened tensor, or along ``dim``), int64; first among ties."""
        return self._arg_extreme("argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The index of the smallest element (flattened, or along ``dim``), int64; first among ties."""
        return self._arg_extreme("argmin", dim, keepdim, axis, keepdims)

    def median(self, dim=None, keepdim: bool = False):
        """``x.median()``: the lower median of all elements (gradient shared among ties);
        ``x.median(dim, keepdim=False)``: the pair (values, indices) along ``dim``."""
        if self.data.dtype == bool:
            raise TypeError("median() of a boolean tensor is not defined (nor in PyTorch)")
        if dim is None:
            if self.data.size == 0:
                raise ValueError("median() of an empty tensor")
            return reduction.MedianAll.apply(self, axis=None, keepdims=False)
        return self._pick_along(dim, keepdim, return_types.median,
                                sorting.median_indices)

    def _pick_along(self, dim, keepdim, pair, indices_of):
        """``pair(values, indices)``: ``indices_of(data, axis)`` gives the picked indices with a length-1 axis,
        and the values are picked through ``selection.TakeAlong`` (which routes the gradient to them)."""
        a = _one_axis(self, dim)
        x = self.reshape(1) if self.ndim == 0 else self
        if x.shape[a] == 0:
            raise ShapeError(f"cannot reduce over dim {dim} of size 0 (shape {self.shape})")
        index = indices_of(x.data, a).astype(_INT64)
        squeeze = not keepdim and self.ndim > 0
        values = selection.TakeAlong.apply(x, indices=index, axis=a, squeeze=squeeze, distinct=True)
        index = index.squeeze(a) if squeeze else index
        if self.ndim == 0:
            values, index = values.reshape(()), index.reshape(())
        return pair(values, _constant(self, index))

    # ----------------------------------------------------------------- truth and counting
    def _truth_reduction(self, name, dim, keepdim, axis, keepdims):
        axes = _axes(self, dim, axis)
        keep = _alias("keepdim", keepdim, "keepdims", keepdims, False)
        result = getattr(self.data.astype(bool), name)(axis=axes, keepdims=keep)
        # PyTorch keeps uint8 for uint8 tensors (a legacy of masks stored as bytes)
        return _constant(self, result.astype(self.data.dtype if self.data.dtype == np.uint8 else bool))

    def any(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        return self._truth_reduction("any", dim, keepdim, axis, keepdims)

    def all(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        return self._truth_reduction("all", dim, keepdim, axis, keepdims)

    def count_nonzero(self, dim=None, *, axis=None):
        """The number of nonzero elements over ``dim``, int64."""
        axes = _axes(self, dim, axis)
        return _constant(self, get_array_module(self.data).asarray(
            (self.data != 0).sum(axis=axes), dtype=_INT64))

    # ----------------------------------------------------------------- scans
    def _scan(self, op, dim, dtype, axis):
        """``op`` (CumSum or CumProd) along ``dim`` in the dtype of a sum; a 0-d tensor gives a new 0-d tensor
        (torch's), not itself."""
        a = _one_axis(self, _alias("dim", dim, "axis", axis))
        x = self._cast(_sum_dtype(self, dtype))
        if not self.ndim:
            return op.apply(x.reshape(1), axis=0).reshape(())
        return op.apply(x, axis=a)

    def cumsum(self, dim=None, *, dtype=None, axis=None):
        """Running sums along ``dim``; integer and boolean tensors sum in int64."""
        return self._scan(scan.CumSum, dim, dtype, axis)

    def cumprod(self, dim=None, *, dtype=None, axis=None):
        """Running products along ``dim``; integer and boolean tensors multiply in int64."""
        return self._scan(scan.CumProd, dim, dtype, axis)

    def _running_extreme(self, dim, largest):
        a = _one_axis(self, dim)
        x = self.reshape(1) if self.ndim == 0 else self
        xp = get_array_module(x.data)
        running = (xp.maximum if largest else xp.minimum).accumulate(x.data, axis=a)
        index = scan.running_extreme_indices(x.data, running, a).astype(_INT64)
        values = selection.TakeAlong.apply(x, indices=index, axis=a)
        pair = return_types.cummax if largest else return_types.cummin
        if self.ndim == 0:
            return pair(values.reshape(()), _constant(self, index.reshape(())))
        return pair(values, _constant(self, index))

    def cummax(self, dim):
        """The pair (values, indices) of the running maximum along ``dim``; gradients go to the indexed elements."""
        return self._running_extreme(dim, largest=True)

    def cummin(self, dim):
        """The pair (values, indices) of the running minimum along ``dim``."""
        return self._running_extreme(dim, largest=False)

    # ----------------------------------------------------------------- sorting
    def _ordered(self, dim, descending, count=None):
        """(values, indices) of the stable sort along ``dim`` (the first ``count`` only, if given)."""
        a = _one_axis(self, dim)
        x = self.reshape(1) if self.ndim == 0 else self
        order = sorting.sort_indices(x.data, a, descending)
        if count is not None:
            order = get_array_module(order).take(order, range(count), axis=a)
        index = order.astype(_INT64)
        values = selection.TakeAlong.apply(x, indices=index, axis=a, distinct=True)
        if self.ndim == 0:
            return values.reshape(()), _constant(self, index.reshape(()))
        return values, _constant(self, index)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
        """The pair (values, indices) sorted along ``dim``; always stable here (equal elements keep their
        order); NaNs count as the largest. Gradients go back to the elements at the indices."""
        return return_types.sort(*self._ordered(dim, descending))

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
        """The indices that sort along ``dim`` (stable)."""
        return self._ordered(dim, descending)[1]

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """The pair (values, indices) of the ``k`` largest (or smallest) elements along ``dim``, in order
        (also with ``sorted=False``)."""
        a = _one_axis(self, dim)
        n = self.shape[a] if self.ndim else 1
        if not 0 <= k <= n:
            raise ShapeError(f"topk: k={k} is out of range for dim {dim} of size {n} (shape {self.shape})")
        return return_types.topk(*self._ordered(dim, largest, count=k))

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
               dim=None):
        """The distinct elements (or slices along ``dim``), sorted; with ``return_inverse`` the index of each
        element's value among them, with ``return_counts`` how often each occurs (both int64)."""
        xp = get_array_module(self.data)
        if dim is None:
            values, inverse, counts = xp.unique(self.data.reshape(-1), return_inverse=True, return_counts=True)
            inverse = inverse.reshape(self.shape)
        else:
            values, inverse, counts = xp.unique(self.data, axis=_one_axis(self, dim), return_inverse=True,
                                                return_counts=True)
            inverse = inverse.reshape(-1)
        out = [_constant(self, values)]
        if return_inverse:
            out.append(_constant(self, inverse.astype(_INT64)))
        if return_counts:
            out.append(_constant(self, counts.astype(_INT64)))
        return out[0] if len(out) == 1 else tuple(out)

