"""A layer's sizes per spatial dim, as PyTorch's layers keep them: ``per_dim(3, 2) == (3, 3)``."""

from __future__ import annotations

from numbers import Integral


def per_dim(value, n: int) -> tuple:
    """``value`` (an int, NumPy's included, or one int per dim) as a tuple of ``n`` Python ints
    (a sequence is taken as given)."""
    return (int(value),) * n if isinstance(value, Integral) else tuple(int(v) for v in value)
