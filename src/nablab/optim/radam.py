"""RAdam (Liu et al. 2020): Adam with the variance of its adaptive step rectified in the first steps."""

from __future__ import annotations

import math

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_settings


def radam_update(param, grad, state, *, lr, betas, eps, weight_decay, decoupled_weight_decay):
    """One RAdam step on the array ``param`` (in place), PyTorch's rule, with step t, gradient g:

        θ ← θ(1 − ηλ)  if decoupled_weight_decay,  else  g ← g + λθ     (weight_decay λ)
        m ← β₁m + (1 − β₁)g        v ← β₂v + (1 − β₂)g²  (from 0)
        m̂ = m / (1 − β₁ᵗ)
        ρ∞ = 2/(1 − β₂) − 1,       ρ_t = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)   (length of the approximated SMA)
        ρ_t > 5:  r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)),
                  θ ← θ − η m̂ · √(1 − β₂ᵗ)/(√v + ε) · r
        else:     θ ← θ − η m̂                        (plain momentum while the variance is untrustworthy)
    """
    xp = get_array_module(param)
    b1, b2 = betas
    if "step" not in state:
        state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
    t = state["step"] = state["step"] + 1
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = grad + weight_decay * param
    m = state["exp_avg"] = state["exp_avg"] + (1 - b1) * (grad - state["exp_avg"])
    v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * (grad * grad)
    bias2 = 1 - b2**t
    m_hat = m / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2**t / bias2
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        param -= m_hat * lr * (math.sqrt(bias2) / (xp.sqrt(v) + eps)) * rect
    else:
        param -= m_hat * lr


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
    maximize=False)``: the rule of :func:`radam_update` for every parameter."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        check_settings("RAdam", lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=check_betas("RAdam", betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _update(self, p, grad, state, group):
        radam_update(p.data, grad, state, lr=group["lr"], betas=group["betas"], eps=group["eps"],
                     weight_decay=group["weight_decay"], decoupled_weight_decay=group["decoupled_weight_decay"])
