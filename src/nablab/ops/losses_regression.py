"""Robust regression losses, elementwise in the difference d = x − t: smooth L1 and Huber.

Both are quadratic near 0 and linear far from it; x and t broadcast, and the gradients are summed
back to each one's shape (dL/dt = −dL/dx before the sum).
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


class _LossOfDifference:
    """The forward and backward of an elementwise loss ℓ(d) of d = x − t, for ops that give ℓ
    (``loss``) and ℓ' (``slope``)."""

    def forward(self, x, t):
        self.shapes = (x.shape, t.shape)
        self.d = x - t
        return self.loss(self.d, get_array_module(x))

    def backward(self, gy):
        g = gy * self.slope(self.d, get_array_module(gy))
        gx = unbroadcast(g, self.shapes[0]) if self.needs_input_grad[0] else None
        gt = unbroadcast(-g, self.shapes[1]) if self.needs_input_grad[1] else None
        return gx, gt


class SmoothL1(_LossOfDifference, Function):
    """ℓ = ½d²/β where |d| < β, else |d| − ½β;  dℓ/dd = d/β clipped to [−1, 1].  β = 0 is the L1 loss
    (dℓ/dd = sign d)."""

    saves_inputs = False

    def __init__(self, beta=1.0):
        if beta < 0:
            raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def loss(self, d, xp):
        a = xp.abs(d)
        if self.beta == 0:
            return a
        return xp.where(a < self.beta, 0.5 * d * d / self.beta, a - 0.5 * self.beta)

    def slope(self, d, xp):
        if self.beta == 0:
            return xp.sign(d)
        return xp.clip(d / self.beta, -1, 1)


class Huber(_LossOfDifference, Function):
    """ℓ = ½d² where |d| < δ, else δ(|d| − ½δ)  (δ · smooth L1 with β = δ);  dℓ/dd = d clipped to [−δ, δ]."""

    saves_inputs = False

    def __init__(self, delta=1.0):
        if delta <= 0:
            raise ValueError(f"huber_loss: delta must be positive, got {delta}")
        self.delta = delta

    def loss(self, d, xp):
        a = xp.abs(d)
        return xp.where(a < self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta))

    def slope(self, d, xp):
        return xp.clip(d, -self.delta, self.delta)
