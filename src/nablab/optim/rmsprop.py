"""RMSprop (Hinton's lecture 6e, 2012), with optional momentum and the centred variant (Graves 2013)."""

from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_settings


def rmsprop_update(param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered):
    """One RMSprop step on the array ``param`` (in place), PyTorch's rule, with gradient g:

        g ← g + λθ                                   (weight_decay λ)
        v ← αv + (1 − α)g²                           (``square_avg``, from 0)
        centred:  ḡ ← ḡ + (1 − α)(g − ḡ)  (``grad_avg``, from 0),  d = √(v − ḡ²) + ε
        else:     d = √v + ε
        momentum μ > 0:  b ← μb + g/d  (``momentum_buffer``, from 0),  θ ← θ − ηb
        else:            θ ← θ − η g/d
    """
    xp = get_array_module(param)
    if "step" not in state:
        state.update(step=0, square_avg=xp.zeros_like(param))
        if momentum > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        if centered:
            state["grad_avg"] = xp.zeros_like(param)
    state["step"] += 1
    if weight_decay:
        grad = grad + weight_decay * param
    v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * (grad * grad)
    if centered:
        mean = state["grad_avg"] = state["grad_avg"] + (1 - alpha) * (grad - state["grad_avg"])
        denom = xp.sqrt(v - mean * mean) + eps
    else:
        denom = xp.sqrt(v) + eps
    if momentum > 0:
        b = state["momentum_buffer"] = momentum * state["momentum_buffer"] + grad / denom
        param -= lr * b
    else:
        param -= lr * (grad / denom)


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``: the rule of :func:`rmsprop_update` for every parameter."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, *, maximize: bool = False):
        check_settings("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _update(self, p, grad, state, group):
        rmsprop_update(p.data, grad, state, lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                       weight_decay=group["weight_decay"], momentum=group["momentum"], centered=group["centered"])
