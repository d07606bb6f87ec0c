"""Batch normalisation (Ioffe & Szegedy 2015) with the hand-derived backward.

Over the m = N (or N·H·W) values of each channel, in training mode:

    μ = (1/m) Σ x          σ² = (1/m) Σ (x − μ)²          x̂ = (x − μ) / √(σ² + ε)
    y = γ x̂ + β

Backward in one expression (the UvA report's derivation), with dy = dL/dy per channel:

    dL/dγ = Σ dy · x̂        dL/dβ = Σ dy
    dL/dx = γ / (m √(σ² + ε)) · (m·dy − Σ dy − x̂ · Σ dy·x̂)

(differentiate y through x̂, μ and σ²: the two sums are what the mean and the variance pass back).
In evaluation mode the running estimates replace μ and σ², which are then constants:
dL/dx = dy · γ / √(σ²_run + ε).

This is the reference, on any array module; the CPU kernel that makes fewer passes and
temporaries is :mod:`nablab.kernels.cpu.batchnorm`.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


def channel_axes(x):
    """The axes reduced per channel: all but axis 1 ((N, C) or (N, C, H, W))."""
    return (0,) + tuple(range(2, x.ndim))


def per_channel(v, ndim):
    """A per-channel vector (C,) shaped to broadcast along axis 1 of an ndim-dimensional array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormTrain(Function):
    """Batch statistics; see the module docstring. The batch mean and (biased) variance are
    written into the ``stats`` dict, if given, for the layer's running estimates."""

    def __init__(self, eps=1e-5, stats=None):
        self.eps, self.stats = eps, stats

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        axes, nd, m = channel_axes(x), x.ndim, x.size // x.shape[1]
        mean = x.mean(axis=axes)
        centred = x - per_channel(mean, nd)
        var = (centred * centred).sum(axis=axes) / m
        self.inv_std = 1.0 / xp.sqrt(var + self.eps)
        self.xhat, self.gamma = centred * per_channel(self.inv_std, nd), gamma
        if self.stats is not None:
            self.stats.update(mean=mean, var=var, count=m)
        return self.xhat * per_channel(gamma, nd) + per_channel(beta, nd)

    def backward(self, gy):
        axes, nd, m = channel_axes(gy), gy.ndim, gy.size // gy.shape[1]
        sum_dy = gy.sum(axis=axes)
        sum_dy_xhat = (gy * self.xhat).sum(axis=axes)
        gx = None
        if self.needs_input_grad[0]:
            scale = per_channel(self.gamma * self.inv_std / m, nd)
            gx = scale * (m * gy - per_channel(sum_dy, nd) - self.xhat * per_channel(sum_dy_xhat, nd))
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
        self.xhat = (x - per_channel(mean, nd)) * per_channel(self.inv_std, nd)
        self.gamma = gamma
        return self.xhat * per_channel(gamma, nd) + per_channel(beta, nd)

    def backward(self, gy):
        axes, nd = channel_axes(gy), gy.ndim
        gx = gy * per_channel(self.gamma * self.inv_std, nd) if self.needs_input_grad[0] else None
        return gx, (gy * self.xhat).sum(axis=axes), gy.sum(axis=axes)
