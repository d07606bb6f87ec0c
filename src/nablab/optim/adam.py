"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019)."""

from __future__ import annotations

import math

from .. import kernels
from ..backend import get_array_module
from .optimizer import Optimizer


def adam_update(param, grad, state, *, lr, betas, eps, weight_decay, decoupled):
    """One Adam step on the array ``param`` (in place), PyTorch's rule, with step t, gradient g:

        θ ← θ(1 − ηλ)  if decoupled (AdamW),  else  g ← g + λθ     (weight_decay λ)
        m ← β₁m + (1 − β₁)g                 v ← β₂v + (1 − β₂)g²  (kept in ``state``, from 0)
        θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    This is the reference; the CPU kernel updates in cache-sized blocks with scratch temporaries
    (:mod:`nablab.kernels.cpu.optim`), with the same numbers.
    """
    xp = get_array_module(param)
    b1, b2 = betas
    if "step" not in state:
        state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
    t = state["step"] = state["step"] + 1
    if weight_decay and decoupled:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = param * weight_decay + grad
    m = state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * grad
    v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * (grad * grad)
    denom = xp.sqrt(v) / math.sqrt(1 - b2**t) + eps
    param -= lr / (1 - b1**t) * (m / denom)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``: the rule of
    :func:`adam_update` (L2 added to the gradient) for every parameter; ``.grad`` is left as it was."""

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"Adam needs lr, eps and weight_decay ≥ 0, got {lr}, {eps}, {weight_decay}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam's betas must lie in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def _update(self, p, grad, state, group):
        update = kernels.select(adam_update, p.data, grad)
        update(p.data, grad, state, lr=group["lr"], betas=group["betas"], eps=group["eps"],
               weight_decay=group["weight_decay"], decoupled=self.decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 − ηλ) before the Adam step (λ = 0.01 by default)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
