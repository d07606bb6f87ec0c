"""Gradient and parameter utilities (``torch.nn.utils.clip_grad`` and ``convert_parameters``).

- ``get_total_norm(tensors, p)``                 ‖(‖t₁‖_p, ‖t₂‖_p, …)‖_p, the p-norm of all entries together
- ``clip_grads_with_norm_(params, c, n)``        g ← g · min(1, c / (n + 10⁻⁶)) for every gradient
- ``clip_grad_norm_(params, c, p)``              both: the gradients' total norm n, then the scaling; returns n
- ``clip_grad_value_(params, v)``                g ← clamp(g, −v, v)
- ``parameters_to_vector(params)``, ``vector_to_parameters(vec, params)``  all parameters as one flat vector and back

Gradients are replaced by new arrays, not changed in place: a gradient array may be shared with
another leaf.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ...backend import get_array_module
from ...dtypes import promote_types
from ...errors import ShapeError
from ...shape_functions import cat
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters"]


def _tensors(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _with_grads(parameters) -> list:
    return [p for p in _tensors(parameters) if p.grad is not None]


def _norm_order(norm_type) -> float:
    order = float(norm_type)  # accepts "inf" as PyTorch does
    if math.isnan(order):
        raise ValueError("norm_type must be a number or ±inf, got nan")
    return order


def _vector_norm(xp, x, order: float):
    """‖x‖_p over every entry of the array ``x``: max |x| for p = ∞, min |x| for −∞, the count of
    non-zero entries for p = 0, else (Σ |x|ᵖ)^(1/p); in the array's dtype."""
    a = xp.abs(x.ravel())
    if order == math.inf:
        return a.max() if a.size else xp.zeros((), a.dtype)
    if order == -math.inf:
        return a.min()
    if order == 0:
        return xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    if order == 1:
        return a.sum()
    if order == 2:
        return xp.sqrt(xp.dot(a, a))
    return (a**order).sum() ** (1 / order)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """The p-norm of the norms of ``tensors`` (= the p-norm of all their entries together), a 0-d tensor.

    In the tensors' promoted dtype; 0 when there are none. ``error_if_nonfinite`` raises
    RuntimeError for a norm that is nan or ±inf."""
    arrays = [t.data if isinstance(t, Tensor) else t for t in _tensors(tensors)]
    if not arrays:
        return Tensor._make(get_array_module().zeros((), "float32"))
    order = _norm_order(norm_type)
    xp = get_array_module(*arrays)
    dtype = functools.reduce(promote_types, [a.dtype for a in arrays])
    norms = xp.stack([_vector_norm(xp, a, order).astype(dtype) for a in arrays])
    total = _vector_norm(xp, norms, order)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {order} of the gradients is {float(total)}, so they cannot "
                           "be clipped; pass error_if_nonfinite=False to scale them by it anyway")
    return Tensor._make(xp.asarray(total))  # a 0-d array, not a NumPy scalar (which in-place ops cannot write)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 10⁻⁶)), ``total_norm`` from :func:`get_total_norm`."""
    params = _with_grads(parameters)
    if not params:
        return
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    scale = min(1.0, max_norm / (total + 1e-6)) if not math.isnan(total) else math.nan
    if scale == 1.0:
        return
    for p in params:
        g = p.grad.data
        with np.errstate(invalid="ignore"):  # an infinite entry scaled by 0 is nan, as in PyTorch
            p.grad = Tensor._make(g * get_array_module(g).asarray(scale, dtype=g.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their total ``norm_type``-norm is at most ``max_norm``.

    n = ‖all gradients‖_p (:func:`get_total_norm`), then g ← g · min(1, max_norm / (n + 10⁻⁶)).
    Returns n before clipping, as a 0-d tensor; parameters without a gradient are skipped.
    """
    params = _with_grads(parameters)
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry into [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        g = p.grad.data
        p.grad = Tensor._make(get_array_module(g).clip(g, -clip_value, clip_value).astype(g.dtype, copy=False))


def parameters_to_vector(parameters) -> Tensor:
    """Every parameter flattened and concatenated in order, one 1-D tensor (differentiable)."""
    params = _tensors(parameters)
    if not params:
        raise ValueError("parameters_to_vector got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Write consecutive slices of the 1-D tensor ``vec`` into the parameters (in place, in each
    parameter's dtype), the inverse of :func:`parameters_to_vector`; each parameter's version goes up."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters expects a Tensor, got {type(vec).__name__}")
    params = _tensors(parameters)
    sizes = [p.data.size for p in params]
    if vec.ndim != 1 or vec.data.size != sum(sizes):
        raise ShapeError(f"vector_to_parameters needs a 1-D vector of {sum(sizes)} elements (one per parameter "
                         f"entry), got shape {tuple(vec.shape)}")
    start = 0
    for p, size in zip(params, sizes):
        p.data[...] = vec.data[start:start + size].reshape(p.data.shape)
        p._version += 1
        start += size
