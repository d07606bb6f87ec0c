"""Group normalisation (Wu & He 2018); instance normalisation is its case of one channel per group.

x of shape (N, C, *) is split into G groups of C/G channels; each sample's group of
M = (C/G)·Π* values is standardised on its own (:func:`nablab.ops.layer_norm.standardize`), and
each channel c gets its own scale and shift:

    x̂ = (x − μ_{n,g}) / √(σ²_{n,g} + ε)          y[n, c, …] = γ[c] · x̂[n, c, …] + β[c]

Backward (derived in :mod:`nablab.ops.layer_norm`), with g = dL/dx̂ = γ[c] · dL/dy:

    dL/dx = (1/σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂))     (means over each (n, group))
    dL/dγ[c] = Σ_{n, …} dL/dy · x̂                        dL/dβ[c] = Σ_{n, …} dL/dy

The per-group μ and σ² go into the ``stats`` dict, if given (instance norm's running estimates).
"""

from __future__ import annotations

from ..errors import ShapeError
from ..function import Function
from .layer_norm import standardize, standardize_backward
from .normalization import channel_axes, per_channel


class GroupNorm(Function):
    """y = γ[c] · x̂ + β[c] with x̂ standardised per sample and group; see the module docstring."""

    fresh_grads = True

    def __init__(self, num_groups, eps=1e-5, stats=None):
        self.groups, self.eps, self.stats = int(num_groups), eps, stats

    def forward(self, x, weight, bias):
        if x.ndim < 2 or self.groups < 1 or x.shape[1] % self.groups or weight.shape != (x.shape[1],) \
                or bias.shape != (x.shape[1],):
            raise ShapeError(f"group_norm: an input (N, C, *) with C divisible by num_groups={self.groups} and "
                             f"weight and bias of shape (C,) expected, got shapes {tuple(x.shape)}, "
                             f"{tuple(weight.shape)} and {tuple(bias.shape)}")
        grouped = x.reshape(x.shape[0], self.groups, -1)
        xhat, self.inv_std = standardize(grouped, (2,), self.eps)
        if self.stats is not None:
            self.stats.update(mean=grouped.mean(axis=2), var=grouped.var(axis=2), count=grouped.shape[2])
        self.xhat, self.weight = xhat.reshape(x.shape), weight
        return self.xhat * per_channel(weight, x.ndim) + per_channel(bias, x.ndim)

    def backward(self, gy):
        gx = None
        if self.needs_input_grad[0]:
            g = (gy * per_channel(self.weight, gy.ndim)).reshape(gy.shape[0], self.groups, -1)
            gx = standardize_backward(g, self.xhat.reshape(g.shape), self.inv_std, (2,)).reshape(gy.shape)
        axes = channel_axes(gy)
        gw = (gy * self.xhat).sum(axis=axes) if self.needs_input_grad[1] else None
        return gx, gw, gy.sum(axis=axes) if self.needs_input_grad[2] else None
