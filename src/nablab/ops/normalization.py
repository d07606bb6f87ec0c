"""Batch normalisation (Ioffe & Szegedy 2015) with the hand-derived backward.

Over the m = N (or N·H·W) values of each channel, in training mode:

    μ = (1/m) Σ x          σ² = (1/m) Σ (x − μ)²          x̂ = (x − μ) / √(σ² + ε)
    y = γ x̂ + β

Backward in one expression (the UvA report's derivation), with dy = dL/dy per channel:

    dL/dγ = Σ dy · x̂        dL/dβ = Σ dy
    dL/dx = γ / (m √(σ² + ε)) · (m·dy − Σ dy − x̂ · Σ dy·x̂)

In evaluation mode the running estimates replace μ and σ², which are then constants:
dL/dx = dy · γ / √(σ²_run + ε).
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


def _axes(x):
    """The axes reduced per channel: all but axis 1 ((N, C) or (N, C, H, W))."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _channel_dot(xp, a, b):
    """Σ a·b per channel (axis 1) in one pass, without the product as a temporary."""
    axes = "nchwd"[: a.ndim]
    return xp.einsum(f"{axes},{axes}->c", a, b)


class BatchNormTrain(Function):
    """Batch statistics; see the module docstring. The batch mean and (biased) variance are
    written into the ``stats`` dict, if given, for the layer's running estimates."""

    def __init__(self, eps=1e-5, stats=None):
        self.eps, self.stats = eps, stats

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        axes, nd = _axes(x), x.ndim
        self.mean = x.mean(axis=axes)
        xhat = x - _per_channel(self.mean, nd)  # centred, then scaled in place
        self.var = _channel_dot(xp, xhat, xhat) / (x.size // x.shape[1])
        self.inv_std = 1.0 / xp.sqrt(self.var + self.eps)
        xhat *= _per_channel(self.inv_std, nd)
        self.xhat, self.gamma = xhat, gamma
        if self.stats is not None:
            self.stats.update(mean=self.mean, var=self.var, count=x.size // x.shape[1])
        y = xhat * _per_channel(gamma, nd)
        y += _per_channel(beta, nd)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        axes, nd = _axes(gy), gy.ndim
        m = gy.size // gy.shape[1]
        sum_dy = gy.sum(axis=axes)
        sum_dy_xhat = _channel_dot(xp, gy, self.xhat)
        gx = None
        if self.needs_input_grad[0]:
            # the docstring's dL/dx as a·dy + b + c·x̂ with per-channel a, b, c: two new arrays, four passes
            a = self.gamma * self.inv_std
            gx = gy * _per_channel(a, nd)
            gx += _per_channel(-a * sum_dy / m, nd)
            gx += self.xhat * _per_channel(-a * sum_dy_xhat / m, nd)
        return gx, sum_dy_xhat, sum_dy


class BatchNormEval(Function):
    """y = γ (x − μ_run) / √(σ²_run + ε) + β with fixed running statistics."""

    def __init__(self, running_mean, running_var, eps=1e-5):
        self.running_mean, self.running_var, self.eps = running_mean, running_var, eps

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        nd = x.ndim
        mean, var = self.running_mean.astype(x.dtype, copy=False), self.running_var.astype(x.dtype, copy=False)
        self.inv_std = 1.0 / xp.sqrt(var + self.eps)
        self.xhat = (x - _per_channel(mean, nd)) * _per_channel(self.inv_std, nd)
        self.gamma = gamma
        return self.xhat * _per_channel(gamma, nd) + _per_channel(beta, nd)

    def backward(self, gy):
        axes, nd = _axes(gy), gy.ndim
        gx = gy * _per_channel(self.gamma * self.inv_std, nd) if self.needs_input_grad[0] else None
        return gx, (gy * self.xhat).sum(axis=axes), gy.sum(axis=axes)
