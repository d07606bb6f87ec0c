"""CPU kernel for batch normalisation in training mode: :class:`nablab.ops.BatchNormTrain` (the
reference, with the math) in fewer passes and temporaries.

The per-channel sums and broadcasts run in long rows of the channels-last memory that the
convolution kernels return (:mod:`.channels_last`: Σ a as one sum over the long rows, Σ a·b as
one ``einsum`` without the product as a temporary, x − μ_c and the scalings with inner loops
thousands of elements long); x̂ is scaled in place in the centred copy; and the reference's
dL/dx = γ/(m√(σ²+ε)) · (m·dy − Σdy − x̂·Σdy·x̂) is regrouped as a·dy + b + c·x̂ with per-channel
a = γ/√(σ²+ε), b = −a·Σdy/m, c = −a·Σdy·x̂/m. The same numbers up to float rounding (the sums add
in another order).
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from .channels_last import channel_dot, channel_sum, per_channel


def _numpy(x, gamma, beta, **params):
    return type(x) is np.ndarray and x.ndim in (2, 3, 4, 5)


class BatchNormTrainFused(ops.BatchNormTrain):
    """:class:`nablab.ops.BatchNormTrain` with one-pass channel sums and in-place scaling."""

    def forward(self, x, gamma, beta):
        m = x.size // x.shape[1]
        mean = channel_sum(x) / m
        xhat = per_channel(np.subtract, x, mean, np.empty_like(x, dtype=np.result_type(x, mean)))
        var = channel_dot(xhat, xhat) / m
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        per_channel(np.multiply, xhat, self.inv_std, xhat)  # centred, then scaled in place
        self.xhat, self.gamma = xhat, gamma
        if self.stats is not None:
            self.stats.update(mean=mean, var=var, count=m)
        y = per_channel(np.multiply, xhat, gamma, np.empty_like(xhat, dtype=np.result_type(xhat, gamma, beta)))
        return per_channel(np.add, y, beta, y)

    def backward(self, gy):
        m = gy.size // gy.shape[1]
        sum_dy = channel_sum(gy)
        sum_dy_xhat = channel_dot(gy, self.xhat)
        gx = None
        if self.needs_input_grad[0]:
            a = self.gamma * self.inv_std
            gx = per_channel(np.multiply, gy, a, np.empty_like(gy, dtype=np.result_type(gy, a)))
            per_channel(np.add, gx, -a * sum_dy / m, gx)
            gx += per_channel(np.multiply, self.xhat, -a * sum_dy_xhat / m, np.empty_like(gx))
        return gx, sum_dy_xhat, sum_dy


kernels.register(ops.BatchNormTrain, BatchNormTrainFused, when=_numpy)
