"""Adadelta (Zeiler 2012): per-coordinate step sizes from running averages of squared gradients and steps."""

from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_settings


def adadelta_update(param, grad, state, *, lr, rho, eps, weight_decay):
    """One Adadelta step on the array ``param`` (in place), PyTorch's rule, with gradient g:

        g ← g + λθ                                   (weight_decay λ)
        v ← ρv + (1 − ρ)g²                           (``square_avg``, from 0)
        Δ ← √(u + ε) / √(v + ε) · g                  (u: ``acc_delta``, from 0)
        u ← ρu + (1 − ρ)Δ²
        θ ← θ − ηΔ                                   (η = 1 by default: Δ carries the units of θ)
    """
    xp = get_array_module(param)
    if "step" not in state:
        state.update(step=0, square_avg=xp.zeros_like(param), acc_delta=xp.zeros_like(param))
    state["step"] += 1
    if weight_decay:
        grad = grad + weight_decay * param
    v = state["square_avg"] = rho * state["square_avg"] + (1 - rho) * (grad * grad)
    u = state["acc_delta"]
    delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * grad
    state["acc_delta"] = rho * u + (1 - rho) * (delta * delta)
    param -= lr * delta


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``:
    the rule of :func:`adadelta_update` for every parameter."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                 *, maximize: bool = False):
        check_settings("Adadelta", lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta's rho must lie in [0, 1], got {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, p, grad, state, group):
        adadelta_update(p.data, grad, state, lr=group["lr"], rho=group["rho"], eps=group["eps"],
                        weight_decay=group["weight_decay"])
