"""Numerical gradient checking: compare backward() with central differences in float64.

For an input x and a scalar function f, the central difference

    ∂f/∂xᵢ ≈ (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε

has error O(ε²); the comparison uses the elementwise relative error

    |a − n| / max(|a|, |n|, tiny)

and reports its maximum over the elements of each input. A non-scalar output y is reduced to
the scalar Σ r ⊙ y with a fixed random r, which checks every output's gradient at once.
"""

from __future__ import annotations

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor


def relative_error(analytic, numeric, tiny: float = 1e-8) -> float:
    """max over elements of |a − n| / max(|a|, |n|, tiny)."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"gradients of shapes {a.shape} and {n.shape} cannot be compared")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)))


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6, weights=None, order: int = 2) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to the array ``x``.

    ``x`` is perturbed in place, one element at a time, and restored; ``f`` takes no arguments
    and reads ``x`` itself (so it also works for closed-form code such as TwoLayerNet). If ``f``
    returns an array y, this is the gradient of Σ weights ⊙ y (Σ y without weights); the
    difference y(x+ε) − y(x−ε) is taken before the sum, so outputs that the element does not
    affect cancel exactly instead of adding rounding noise.

    ``order=4`` uses the five-point central stencil
    (−y(x+2ε) + 8y(x+ε) − 8y(x−ε) + y(x−2ε)) / 12ε, whose O(ε⁴) truncation error allows a large ε
    (1e-3) and so cuts the rounding noise (∝ 1/ε) by orders of magnitude: the right tool for ops
    whose every output depends on every input (batch norm, convolutions over sums of many terms).
    """
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order}")
    scale = 2 * eps if order == 2 else 12 * eps

    def at(offset):
        flat[i] = old + offset * eps
        return np.asarray(f(), dtype=np.float64)

    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_gradient needs a contiguous array to perturb in place")
    for i in range(flat.size):
        old = flat[i]
        # differences of symmetric pairs first: outputs that do not depend on x[i] cancel exactly
        diff = at(1) - at(-1)
        if order == 4:
            diff = 8 * diff - (at(2) - at(-2))
        flat[i] = old
        gflat[i] = (diff if weights is None else diff * weights).sum() / scale
    return grad


def check(fn, inputs, eps: float = 1e-6, tiny: float = 1e-8, seed: int = 0, order: int = 2) -> list[float]:
    """Max relative error between ``fn``'s autodiff gradients and central differences, per input.

    ``inputs`` are arrays or tensors; floating ones are copied to float64 tensors that require
    gradients (others, e.g. integer labels, are passed unchanged and get no entry).
    ``fn(*tensors)`` returns a tensor. Returns one error per floating input, in order.
    ``order`` picks the stencil (see :func:`numerical_gradient`).
    """
    tensors = []
    for x in inputs:
        arr = np.array(x.numpy() if isinstance(x, Tensor) else x)
        if arr.dtype.kind == "f":
            tensors.append(Tensor._make(arr.astype(np.float64)).requires_grad_(True))
        else:
            tensors.append(Tensor._make(arr))

    out = fn(*tensors)
    weights = np.random.default_rng(seed).standard_normal(out.shape) if out.numel() > 1 else None

    def scalar(y):
        return y.sum() if weights is None else (y * Tensor._make(weights)).sum()

    scalar(out).backward()
    errors = []
    for t in tensors:
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else t.grad.data

        def f():
            with no_grad():
                return fn(*tensors).data

        errors.append(relative_error(analytic, numerical_gradient(f, t.data, eps, weights, order), tiny))
    return errors
