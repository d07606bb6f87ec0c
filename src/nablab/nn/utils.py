"""Gradient utilities."""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm: float) -> float:
    """Scale all gradients by min(1, max_norm / ‖g‖), ‖g‖ the L2 norm of every gradient together.

    Returns ‖g‖ before clipping. Gradients are replaced, not modified in place (a gradient array
    may be shared with another leaf).
    """
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return 0.0
    total = math.sqrt(sum(float((p.grad.data * p.grad.data).sum()) for p in params))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in params:
            xp = get_array_module(p.grad.data)
            p.grad = Tensor._make(p.grad.data * xp.asarray(scale, dtype=p.grad.data.dtype))
    return total

__all__ = ["clip_grad_norm_"]
