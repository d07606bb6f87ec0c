"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from ..backend import get_array_module
from .blocks import cache_blocks
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's update rule, with g the gradient and θ the parameter:

        g ← g + λθ                                 (weight_decay λ)
        b ← g on the first step, else μb + (1 − τ)g (momentum μ, dampening τ)
        g ← g + μb if nesterov else b
        θ ← θ − η g                                (learning rate η)

    The update runs in cache-sized blocks (:mod:`nablab.optim.blocks`) with its temporaries in
    scratch memory; ``.grad`` is left as it was.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD needs lr, momentum and weight_decay ≥ 0, got {lr}, {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def _update(self, p, grad, state, group):
        xp = get_array_module(grad)
        rule = (xp, group["lr"], group["momentum"], group["dampening"], group["nesterov"], group["weight_decay"])
        if not group["momentum"]:
            for theta, g, d in cache_blocks(p.data, grad, temps=1):
                _update_block(rule, theta, g, None, False, d)
            return
        first = "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = xp.empty_like(grad)
        temps = 2 if group["nesterov"] or group["dampening"] else 1  # only these need a second one
        for theta, g, b, *scratch in cache_blocks(p.data, grad, state["momentum_buffer"], temps=temps):
            _update_block(rule, theta, g, b, first, *scratch)


def _update_block(rule, theta, g, b, first, d, e=None):
    """The update of one block: parameter ``theta``, gradient ``g``, momentum buffer ``b`` (None
    without momentum), scratch ``d`` and, for dampening or Nesterov momentum, ``e``; ``rule`` is
    (array module, η, μ, τ, nesterov, λ)."""
    xp, lr, mu, damp, nesterov, wd = rule
    if wd:
        xp.multiply(theta, wd, out=d)
        g = xp.add(d, g, out=d)
    if b is not None:
        if first:
            b[...] = g
        else:
            b *= mu
            b += xp.multiply(g, 1 - damp, out=e) if damp else g
        if nesterov:
            xp.multiply(b, mu, out=e)
            g = xp.add(e, g, out=e)
        else:
            g = b
    theta -= xp.multiply(g, lr, out=d)
