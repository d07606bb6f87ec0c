"""CPU kernels that save work across the boundary of two ops: a ReLU that masks an owned dL/dy
in place, and a Linear layer or a batch norm (training) with its ReLU as one graph node. Each
computes exactly the numbers of its reference (:class:`nablab.ops.ReLU`;
:func:`nablab.nn.functional.linear_relu`, ``relu(linear(x, W, b))``; and
:func:`nablab.nn.functional.batch_norm_relu`, ``relu(batch_norm(x, ...))`` — the batch norm being
its own kernel's): the same operations on the same values, in fewer arrays.

In-place masks rest on the backward sweep's ownership rule (:mod:`nablab.function`): an op whose
backward returns only new arrays declares ``fresh_grads``, and the sweep tells the op that
receives such an array (``grad_owned``) that nobody else holds it, so it may write into it.
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from ...nn import functional as F
from .batchnorm import BatchNormTrainFused


def _numpy(x, *rest, **params):
    return type(x) is np.ndarray


class ReLUInPlace(ops.ReLU):
    """:class:`nablab.ops.ReLU` whose backward masks dL/dy in place when the node owns it."""

    def backward(self, gy):
        if self.grad_owned:  # nobody else holds dL/dy
            return (np.multiply(gy, self.y > 0, out=gy),)
        return (gy * (self.y > 0),)


class LinearReLU(ops.Linear):
    """y = max(x Wᵀ + b, 0): a Linear layer and the ReLU after it, as one node.

    With z = x Wᵀ + b: dL/dz = dL/dy ⊙ [y > 0], then Linear's backward turns dL/dz into dL/dx,
    dL/dW and dL/db. The ReLU runs in place on the fresh product, so the graph holds one node and
    one activation less. ``nn.Sequential`` calls :func:`~nablab.nn.functional.linear_relu` for a
    Linear directly followed by a ReLU.
    """

    def forward(self, x, weight, bias=None):
        y = super().forward(x, weight, bias)
        self.y = np.maximum(y, 0, out=y)
        return y

    def backward(self, gy):
        if self.grad_owned:  # nobody else holds dL/dy: mask it in place
            gz = np.multiply(gy, self.y > 0, out=gy)
        else:
            gz = gy * (self.y > 0)
        return super().backward(gz)


class BatchNormReLU(BatchNormTrainFused):
    """y = max(batch_norm(x), 0) in training mode, as one node: the ReLU runs in place on the batch
    norm's fresh output, and backward masks dL/dy (in place when owned) before the batch norm's
    backward. ``nn.Sequential`` calls :func:`~nablab.nn.functional.batch_norm_relu` for a batch norm
    directly followed by a ReLU."""

    def forward(self, x, gamma, beta):
        y = super().forward(x, gamma, beta)
        self.y = np.maximum(y, 0, out=y)
        return y

    def backward(self, gy):
        if self.grad_owned:
            gz = np.multiply(gy, self.y > 0, out=gy)
        else:
            gz = gy * (self.y > 0)
        return super().backward(gz)


kernels.register(ops.ReLU, ReLUInPlace, when=_numpy)
kernels.register(F.batch_norm_relu, BatchNormReLU.apply, when=_numpy)
kernels.register(F.linear_relu, LinearReLU.apply, when=_numpy)
