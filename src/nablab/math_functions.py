"""Free functions of elementwise math, reductions, scans and sorting, as ``torch.sin`` or ``torch.sum``:
``nablab.sin(x)``. Each is the Tensor method of the same name (:mod:`nablab.tensor_math`) called on its
first argument, which may also be a number or an array-like (then a constant tensor).
"""

from __future__ import annotations

from . import ops
from .tensor import Tensor, as_tensor, promoted_pair


def _method(name):
    """The free function ``name(input, *args, **kwargs)`` = ``input.name(*args, **kwargs)``."""
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            input = as_tensor(input, like=args)  # noqa: A001
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__ or f"``input.{name}(…)``: see :meth:`nablab.Tensor.{name}`."
    return function


# arithmetic and comparisons
add, sub, subtract, mul, multiply, div, divide, true_divide = (
    _method(n) for n in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide"))
addcmul, addcdiv, clone, nan_to_num = (_method(n) for n in ("addcmul", "addcdiv", "clone", "nan_to_num"))
eq, ne, lt, le, gt, ge = (_method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, greater_equal, less, less_equal, not_equal = (
    _method(n) for n in ("greater", "greater_equal", "less", "less_equal", "not_equal"))
# elementwise
exp, exp2, expm1, log, log2, log10, log1p = (_method(n) for n in ("exp", "exp2", "expm1", "log", "log2", "log10",
                                                                   "log1p"))
logit = _method("logit")
sqrt, rsqrt, reciprocal, square, neg, negative = (_method(n) for n in ("sqrt", "rsqrt", "reciprocal", "square", "neg",
                                                                      "negative"))
sin, cos, tan, asin, acos, atan, atan2 = (_method(n) for n in ("sin", "cos", "tan", "asin", "acos", "atan", "atan2"))
sinh, cosh, tanh, asinh, acosh, atanh = (_method(n) for n in ("sinh", "cosh", "tanh", "asinh", "acosh", "atanh"))
arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh = asin, acos, atan, atan2, asinh, acosh, atanh
erf, erfc, sigmoid, relu = (_method(n) for n in ("erf", "erfc", "sigmoid", "relu"))
abs, absolute, sign, floor, ceil, trunc, fix, frac = (  # noqa: A001 - PyTorch's names
    _method(n) for n in ("abs", "absolute", "sign", "floor", "ceil", "trunc", "fix", "frac"))
round, copysign, clip, clamp, clamp_min, clamp_max, lerp, logaddexp = (  # noqa: A001
    _method(n) for n in ("round", "copysign", "clip", "clamp", "clamp_min", "clamp_max", "lerp", "logaddexp"))
sgn = _method("sgn")
fmod, remainder, floor_divide, pow = (_method(n) for n in ("fmod", "remainder", "floor_divide", "pow"))  # noqa: A001
bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift = (
    _method(n) for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
                         "bitwise_right_shift"))
logical_and, logical_or, logical_xor, logical_not = (
    _method(n) for n in ("logical_and", "logical_or", "logical_xor", "logical_not"))
isnan, isinf, isfinite, isclose, allclose = (_method(n) for n in ("isnan", "isinf", "isfinite", "isclose", "allclose"))
# reductions
sum, nansum, mean, prod, logsumexp = (_method(n) for n in ("sum", "nansum", "mean", "prod", "logsumexp"))  # noqa: A001
var, std, var_mean, std_mean, norm = (_method(n) for n in ("var", "std", "var_mean", "std_mean", "norm"))
max, min, amax, amin, argmax, argmin, median = (  # noqa: A001
    _method(n) for n in ("max", "min", "amax", "amin", "argmax", "argmin", "median"))
any, all, count_nonzero = (_method(n) for n in ("any", "all", "count_nonzero"))  # noqa: A001
# scans and sorting
cumsum, cumprod, cummax, cummin = (_method(n) for n in ("cumsum", "cumprod", "cummax", "cummin"))
sort, argsort, topk, unique = (_method(n) for n in ("sort", "argsort", "topk", "unique"))


def maximum(a, b):
    """max(a, b) elementwise, in the promoted dtype of a and b."""
    return ops.Maximum.apply(*promoted_pair(a, b))


def minimum(a, b):
    """min(a, b) elementwise, in the promoted dtype of a and b."""
    return ops.Minimum.apply(*promoted_pair(a, b))


__all__ = [
    "add", "addcdiv", "addcmul", "clone", "div", "divide", "eq", "ge", "greater", "greater_equal", "gt", "le", "less",
    "less_equal", "lt", "mul", "multiply", "nan_to_num", "ne", "not_equal", "sub", "subtract", "true_divide",
    "abs", "absolute", "acos", "acosh", "all", "allclose", "amax", "amin", "any", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argsort", "asin", "asinh", "atan", "atan2",
    "atanh", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "ceil", "clamp", "clamp_max", "clamp_min", "clip", "copysign", "cos", "cosh", "count_nonzero",
    "cummax", "cummin", "cumprod", "cumsum", "erf", "erfc", "exp", "exp2", "expm1", "fix", "floor", "floor_divide",
    "fmod", "frac", "isclose", "isfinite", "isinf", "isnan", "lerp", "log", "log10", "log1p", "log2", "logaddexp",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "logsumexp", "max", "maximum", "mean",
    "median", "min", "minimum", "nansum", "neg", "negative", "norm", "pow", "prod", "reciprocal", "relu", "remainder",
    "round", "rsqrt", "sgn", "sigmoid", "sign", "sin", "sinh", "sort", "sqrt", "square", "std", "std_mean", "sum",
    "tan", "tanh", "topk", "trunc", "unique", "var", "var_mean",
]
