"""Adam (Kingma & Ba 2015), its AMSGrad variant (Reddi et al. 2018) and AdamW (Loshchilov & Hutter 2019)."""

from __future__ import annotations

import math

from .. import kernels
from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_settings


def adam_update(param, grad, state, *, lr, betas, eps, weight_decay, decoupled, amsgrad=False):
    """One Adam step on the array ``param`` (in place), PyTorch's rule, with step t, gradient g:

        θ ← θ(1 − ηλ)  if decoupled (AdamW),  else  g ← g + λθ     (weight_decay λ)
        m ← β₁m + (1 − β₁)g                 v ← β₂v + (1 − β₂)g²  (kept in ``state``, from 0)
        v̂ ← max(v̂, v) with amsgrad (v̂ kept as ``max_exp_avg_sq``), else v̂ = v
        θ ← θ − η/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

    This is the reference; the CPU kernel (without amsgrad) updates in cache-sized blocks with
    scratch temporaries (:mod:`nablab.kernels.cpu.optim`), with the same numbers.
    """
    xp = get_array_module(param)
    b1, b2 = betas
    if "step" not in state:
        state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
        if amsgrad:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
    t = state["step"] = state["step"] + 1
    if weight_decay and decoupled:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = param * weight_decay + grad
    m = state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * grad
    v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * (grad * grad)
    if amsgrad:
        v = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], v)
    denom = xp.sqrt(v) / math.sqrt(1 - b2**t) + eps
    param -= lr / (1 - b1**t) * (m / denom)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False)``: the rule of :func:`adam_update` for every
    parameter (L2 added to the gradient unless ``decoupled_weight_decay``); ``.grad`` is left as it was."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        name = type(self).__name__
        check_settings(name, lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=check_betas(name, betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, grad, state, group):
        rule = dict(lr=group["lr"], betas=group["betas"], eps=group["eps"], weight_decay=group["weight_decay"],
                    decoupled=group["decoupled_weight_decay"])
        if group["amsgrad"]:
            adam_update(p.data, grad, state, amsgrad=True, **rule)
        else:
            kernels.select(adam_update, p.data, grad)(p.data, grad, state, **rule)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 − ηλ) before the Adam step (λ = 0.01 by default)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
