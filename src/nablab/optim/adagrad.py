"""Adagrad (Duchi, Hazan & Singer 2011): steps scaled by the root of each coordinate's summed squared gradients."""

from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_settings


def adagrad_update(param, grad, state, *, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    """One Adagrad step on the array ``param`` (in place), PyTorch's rule, with step t, gradient g:

        g ← g + λθ                                   (weight_decay λ)
        η_t = η / (1 + (t − 1)·lr_decay)
        s ← s + g²                                   (``sum``, from initial_accumulator_value)
        θ ← θ − η_t · g / (√s + ε)
    """
    xp = get_array_module(param)
    if "step" not in state:
        state.update(step=0, sum=xp.full_like(param, initial_accumulator_value))
    t = state["step"] = state["step"] + 1
    if weight_decay:
        grad = grad + weight_decay * param
    s = state["sum"] = state["sum"] + grad * grad
    param -= lr / (1 + (t - 1) * lr_decay) * (grad / (xp.sqrt(s) + eps))


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``: the rule of :func:`adagrad_update` for every parameter."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False):
        check_settings("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                       initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        adagrad_update(p.data, grad, state, lr=group["lr"], lr_decay=group["lr_decay"],
                       weight_decay=group["weight_decay"],
                       initial_accumulator_value=group["initial_accumulator_value"], eps=group["eps"])
