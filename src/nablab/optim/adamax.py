"""Adamax (Kingma & Ba 2015, section 7): Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_settings


def adamax_update(param, grad, state, *, lr, betas, eps, weight_decay):
    """One Adamax step on the array ``param`` (in place), PyTorch's rule, with step t, gradient g:

        g ← g + λθ                                   (weight_decay λ)
        m ← β₁m + (1 − β₁)g                          (``exp_avg``, from 0)
        u ← max(β₂u, |g| + ε)                        (``exp_inf``, from 0)
        θ ← θ − η/(1 − β₁ᵗ) · m/u
    """
    xp = get_array_module(param)
    b1, b2 = betas
    if "step" not in state:
        state.update(step=0, exp_avg=xp.zeros_like(param), exp_inf=xp.zeros_like(param))
    t = state["step"] = state["step"] + 1
    if weight_decay:
        grad = grad + weight_decay * param
    m = state["exp_avg"] = state["exp_avg"] + (1 - b1) * (grad - state["exp_avg"])
    u = state["exp_inf"] = xp.maximum(b2 * state["exp_inf"], xp.abs(grad) + eps)
    param -= lr / (1 - b1**t) * (m / u)


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False)``:
    the rule of :func:`adamax_update` for every parameter."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 *, maximize: bool = False):
        check_settings("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=check_betas("Adamax", betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        adamax_update(p.data, grad, state, lr=group["lr"], betas=group["betas"], eps=group["eps"],
                      weight_decay=group["weight_decay"])
