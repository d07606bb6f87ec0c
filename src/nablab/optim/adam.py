"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019)."""

from __future__ import annotations

import math

from ..backend import get_array_module
from .blocks import cache_blocks
from .optimizer import Optimizer


class Adam(Optimizer):
    """PyTorch's update rule, with step t, gradient g and parameter θ:

        g ← g + λθ                       (weight_decay λ, L2 added to the gradient)
        m ← β₁m + (1 − β₁)g
        v ← β₂v + (1 − β₂)g²
        θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    The update runs in cache-sized blocks (:mod:`nablab.optim.blocks`) with its temporaries in
    scratch memory; ``.grad`` is left as it was.
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"Adam needs lr, eps and weight_decay ≥ 0, got {lr}, {eps}, {weight_decay}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam's betas must lie in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def _update(self, p, grad, state, group):
        if "step" not in state:
            xp = get_array_module(p.data)
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t, (b1, b2) = state["step"], group["betas"]
        rule = (get_array_module(grad), group["lr"], b1, b2, group["eps"], group["weight_decay"], self.decoupled,
                math.sqrt(1 - b2**t), group["lr"] / (1 - b1**t))
        for block in cache_blocks(p.data, grad, state["exp_avg"], state["exp_avg_sq"], temps=2):
            _update_block(rule, *block)


def _update_block(rule, theta, g, m, v, d, e):
    """The update of one block: parameter ``theta``, gradient ``g``, moments ``m`` and ``v``, scratch
    ``d`` and ``e``; ``rule`` is (array module, η, β₁, β₂, ε, λ, decoupled, √(1 − β₂ᵗ), η/(1 − β₁ᵗ))."""
    xp, lr, b1, b2, eps, wd, decoupled, root_bias2, step_size = rule
    if wd:
        if decoupled:
            theta *= 1 - lr * wd
        else:
            xp.multiply(theta, wd, out=d)
            g = xp.add(d, g, out=d)
    m *= b1
    m += xp.multiply(g, 1 - b1, out=e)
    v *= b2
    e = xp.multiply(g, g, out=e)
    e *= 1 - b2
    v += e
    denom = xp.sqrt(v, out=e)
    denom /= root_bias2
    denom += eps
    step = xp.divide(m, denom, out=e)
    step *= step_size
    theta -= step


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 − ηλ) before the Adam step (λ = 0.01 by default)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
