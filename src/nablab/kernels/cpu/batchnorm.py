"""CPU kernel for batch normalisation in training mode: :class:`nablab.ops.BatchNormTrain` (the
reference, with the math) in fewer passes and temporaries.

Per-channel sums Σ a of a channels-last array (an NCHW-shaped view of NHWC memory, as the
convolution kernels return) are one matrix-vector product with a vector of ones, which reads the
array once in memory order; per-channel sums of products Σ a·b go through one ``einsum`` (no
product array); x̂ is scaled in place in the centred copy; and the reference's
dL/dx = γ/(m√(σ²+ε)) · (m·dy − Σdy − x̂·Σdy·x̂) is regrouped as a·dy + b + c·x̂ with per-channel
a = γ/√(σ²+ε), b = −a·Σdy/m, c = −a·Σdy·x̂/m: two new arrays and four passes instead of five of
each. The same numbers up to float rounding.
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from ...ops.normalization import channel_axes, per_channel


def _channel_sum(a):
    """Σ a per channel (axis 1): a GEMV with ones over the pixels when a is channels-last in memory."""
    if a.ndim == 4 and a.strides[1] == a.itemsize and a.transpose(0, 2, 3, 1).flags.c_contiguous:
        rows = a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])
        return np.ones(rows.shape[0], dtype=a.dtype) @ rows
    return a.sum(axis=channel_axes(a))


def _channel_dot(a, b):
    """Σ a·b per channel (axis 1) in one pass, without the product as a temporary."""
    axes = "nchwd"[: a.ndim]
    return np.einsum(f"{axes},{axes}->c", a, b)


def _numpy(x, gamma, beta, **params):
    return type(x) is np.ndarray and x.ndim in (2, 3, 4, 5)


class BatchNormTrainFused(ops.BatchNormTrain):
    """:class:`nablab.ops.BatchNormTrain` with one-pass channel sums and in-place scaling."""

    def forward(self, x, gamma, beta):
        nd, m = x.ndim, x.size // x.shape[1]
        mean = _channel_sum(x) / m
        xhat = x - per_channel(mean, nd)  # centred, then scaled in place
        var = _channel_dot(xhat, xhat) / m
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat *= per_channel(self.inv_std, nd)
        self.xhat, self.gamma = xhat, gamma
        if self.stats is not None:
            self.stats.update(mean=mean, var=var, count=m)
        y = xhat * per_channel(gamma, nd)
        y += per_channel(beta, nd)
        return y

    def backward(self, gy):
        nd, m = gy.ndim, gy.size // gy.shape[1]
        sum_dy = _channel_sum(gy)
        sum_dy_xhat = _channel_dot(gy, self.xhat)
        gx = None
        if self.needs_input_grad[0]:
            a = self.gamma * self.inv_std
            gx = gy * per_channel(a, nd)
            gx += per_channel(-a * sum_dy / m, nd)
            gx += self.xhat * per_channel(-a * sum_dy_xhat / m, nd)
        return gx, sum_dy_xhat, sum_dy


kernels.register(ops.BatchNormTrain, BatchNormTrainFused, when=_numpy)
