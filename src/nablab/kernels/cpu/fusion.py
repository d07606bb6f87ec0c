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


def _relu_in_place(y):
    """max(y, 0) written into the node's own fresh output y."""
    return np.maximum(y, 0, out=y)


def _relu_backward(fn, gy):
    """dL/dy ⊙ [y > 0] for a node ``fn`` that saved its ReLU output ``fn.y``: in place when it owns dL/dy."""
    if fn.grad_owned:  # nobody else holds dL/dy
        return np.multiply(gy, fn.y > 0, out=gy)
    return gy * (fn.y > 0)


class ReLUInPlace(ops.ReLU):
    """:class:`nablab.ops.ReLU` whose backward masks dL/dy in place when the node owns it."""

    def backward(self, gy):
        return (_relu_backward(self, gy),)


class LinearReLU(ops.Linear):
    """y = max(x Wᵀ + b, 0): a Linear layer and the ReLU after it, as one node.

    With z = x Wᵀ + b: dL/dz = dL/dy ⊙ [y > 0], then Linear's backward turns dL/dz into dL/dx,
    dL/dW and dL/db. The ReLU runs in place on the fresh product, so the graph holds one node and
    one activation less. ``nn.Sequential`` calls :func:`~nablab.nn.functional.linear_relu` for a
    Linear directly followed by a ReLU.
    """

    saves_output = True  # backward masks with y > 0

    def forward(self, x, weight, bias=None):
        self.y = _relu_in_place(super().forward(x, weight, bias))
        return self.y

    def backward(self, gy):
        return super().backward(_relu_backward(self, gy))


class BatchNormReLU(BatchNormTrainFused):
    """y = max(batch_norm(x), 0) in training mode, as one node: the ReLU runs in place on the batch
    norm's fresh output, and backward masks dL/dy (in place when owned) before the batch norm's
    backward. ``nn.Sequential`` calls :func:`~nablab.nn.functional.batch_norm_relu` for a batch norm
    directly followed by a ReLU."""

    saves_output = True  # backward masks with y > 0

    def forward(self, x, gamma, beta):
        self.y = _relu_in_place(super().forward(x, gamma, beta))
        return self.y

    def backward(self, gy):
        return super().backward(_relu_backward(self, gy))


kernels.register(ops.ReLU, ReLUInPlace, when=_numpy)
kernels.register(F.batch_norm_relu, BatchNormReLU.apply, when=_numpy)
kernels.register(F.linear_relu, LinearReLU.apply, when=_numpy)
