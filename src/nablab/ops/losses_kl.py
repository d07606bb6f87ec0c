"""The Kullback–Leibler divergence, elementwise: the pointwise terms of KL(t ‖ exp x)."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


class KLDivergence(Function):
    """ℓ = t·(log t − x) for log-probabilities x and probabilities t (0 where t = 0, as t log t → 0);
    with ``log_target`` the target is log t:  ℓ = eᵗ·(t − x).

    dL/dx = −dL/dℓ · t  (log_target: −dL/dℓ · eᵗ);
    dL/dt = dL/dℓ · (log t − x + 1)  (log_target: dL/dℓ · eᵗ·(t − x + 1)); x and t broadcast.
    """

    def __init__(self, log_target=False):
        self.log_target = log_target

    def forward(self, x, t):
        xp = get_array_module(x)
        self.shapes, self.x, self.t = (x.shape, t.shape), x, t
        if self.log_target:
            self.p = xp.exp(t)
            return self.p * (t - x)
        self.positive = t > 0
        with xp.errstate(divide="ignore", invalid="ignore"):
            self.log_t = xp.log(t)
            return xp.where(self.positive, t * (self.log_t - x), 0 * x)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = gt = None
        if self.log_target:
            if self.needs_input_grad[0]:
                gx = -gy * self.p
            if self.needs_input_grad[1]:
                gt = gy * self.p * (self.t - self.x + 1)
        else:
            if self.needs_input_grad[0]:
                gx = -gy * self.t
            if self.needs_input_grad[1]:
                with xp.errstate(invalid="ignore"):
                    gt = gy * (self.log_t - self.x + 1)
        gx = None if gx is None else unbroadcast(gx, self.shapes[0])
        gt = None if gt is None else unbroadcast(gt, self.shapes[1])
        return gx, gt
