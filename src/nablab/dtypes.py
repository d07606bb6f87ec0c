"""Type promotion: the dtype of an op on operands of different dtypes, PyTorch's ``torch.result_type``.

The rule, for bool, uint8, int8, int16, int32, int64, float16, float32 and float64:

- categories are ordered bool < integer < floating, and the result's category is the highest
  among the operands;
- operands fall into three priority groups: tensors with ndim ≥ 1, 0-d tensors, and numbers
  (Python or NumPy bool/int/float; a float number counts as the default float32, an int as int64,
  a bool as bool);
- the dtype comes from the highest-priority group that holds an operand of the result's category,
  combined within that group by :func:`promote_types` — so ``int32 tensor * 0.5`` is float32,
  ``float16 tensor + float64 0-d tensor`` stays float16 and ``int8 tensor + 1`` stays int8.

:func:`promote_types` is PyTorch's table: the higher category wins, and within one category the
smallest dtype holding both (uint8 + int8 → int16, float16 + float32 → float32). True division of
integer or boolean operands gives :data:`DEFAULT_DTYPE` (``Tensor.__truediv__``), as does, by the
rule above, a power of them with a float exponent.
"""

from __future__ import annotations

import numpy as np

#: the floating dtype of tensors made from Python floats and float arrays when no dtype is given
DEFAULT_DTYPE = np.dtype("float32")

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating
_NUMBER, _ZERO_DIM, _DIMENSIONED = 0, 1, 2  # the priority groups, lowest first
_BOOL, _INT64 = np.dtype(bool), np.dtype("int64")


def category(dtype) -> int:
    """0 for bool, 1 for the integers, 2 for the floating dtypes."""
    try:
        return _CATEGORY[np.dtype(dtype).kind]
    except KeyError:
        raise TypeError(f"nablab has no type promotion for dtype {dtype}") from None


def promote_types(a, b) -> np.dtype:
    """PyTorch's ``torch.promote_types``: the higher category's dtype, else the smallest holding both."""
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _group_and_dtype(x):
    """The priority group and the dtype an operand takes part in promotion with."""
    if isinstance(x, (bool, np.bool_)):
        return _NUMBER, _BOOL
    if isinstance(x, (int, np.integer)):
        return _NUMBER, _INT64
    if isinstance(x, (float, np.floating)):
        return _NUMBER, DEFAULT_DTYPE
    return (_DIMENSIONED if x.ndim else _ZERO_DIM), x.dtype


def result_type(*operands) -> np.dtype:
    """The dtype of an op on ``operands`` (tensors, arrays, numbers): ``torch.result_type``'s rule."""
    best_key = result = None
    for x in operands:
        group, dtype = _group_and_dtype(x)
        key = (category(dtype), group)
        if best_key is None or key > best_key:
            best_key, result = key, dtype
        elif key == best_key:
            result = promote_types(result, dtype)
    return result

