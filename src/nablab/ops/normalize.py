"""Lp normalisation along one axis: x / max(‖x‖_p, ε)."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class Normalize(Function):
    """y = x / n with n = max(‖x‖_p, ε) along ``axis``, ‖x‖_p = (Σ|x|ᵖ)^(1/p).

    dL/dx = dL/dy / n − (Σ dL/dy ⊙ x) / n² · ∂‖x‖_p/∂x where the norm exceeds ε, with
    ∂‖x‖_p/∂x = sign(x)·(|x| / ‖x‖_p)^(p−1) (0 where x = 0, also for p < 1 as PyTorch; p = ∞: sign(x)
    shared among the largest |x|), and
    dL/dx = dL/dy / ε where it does not (n is then the constant ε).
    """

    def __init__(self, p=2.0, axis=1, eps=1e-12):
        if p <= 0:
            raise ValueError(f"normalize: p must be positive, got {p}")
        self.p, self.axis, self.eps = p, axis, eps

    def forward(self, x):
        xp = get_array_module(x)
        a = xp.abs(x)
        p = self.p
        if p == 2:
            norm = xp.sqrt((x * x).sum(axis=self.axis, keepdims=True))
        elif p == float("inf"):
            norm = a.max(axis=self.axis, keepdims=True)
        else:
            norm = (a**p).sum(axis=self.axis, keepdims=True) ** (1 / p)
        self.x, self.norm = x, norm
        self.n = xp.maximum(norm, self.eps)
        return x / self.n

    def backward(self, gy):
        xp = get_array_module(gy)
        x, n, norm, p = self.x, self.n, self.norm, self.p
        inner = (gy * x).sum(axis=self.axis, keepdims=True)
        if p == 2:
            dnorm = x / xp.maximum(norm, self.eps)
        elif p == float("inf"):
            a = xp.abs(x)
            top = a == norm
            dnorm = xp.sign(x) * top / top.sum(axis=self.axis, keepdims=True)
        else:
            with xp.errstate(divide="ignore", invalid="ignore"):
                dnorm = xp.where(x == 0, 0, xp.sign(x) * (xp.abs(x) / norm) ** (p - 1))
        dnorm = xp.where(norm > self.eps, dnorm, 0)
        return (gy / n - inner / (n * n) * dnorm,)
