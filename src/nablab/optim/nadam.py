"""NAdam (Dozat 2016): Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_settings


def nadam_update(param, grad, state, *, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay):
    """One NAdam step on the array ``param`` (in place), PyTorch's rule, with step t, gradient g:

        θ ← θ(1 − ηλ)  if decoupled_weight_decay,  else  g ← g + λθ     (weight_decay λ)
        μ_t = β₁(1 − ½·0.96^(tψ))                      (momentum_decay ψ)
        Π_t = Π_{t−1} μ_t                               (``mu_product``, from 1)
        m ← β₁m + (1 − β₁)g        v ← β₂v + (1 − β₂)g²  (from 0)
        d = √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − η(1 − μ_t)/(1 − Π_t) · g/d − η μ_{t+1}/(1 − Π_t μ_{t+1}) · m/d
    """
    xp = get_array_module(param)
    b1, b2 = betas
    if "step" not in state:
        state.update(step=0, mu_product=1.0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
    t = state["step"] = state["step"] + 1
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = grad + weight_decay * param
    mu = b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_product = state["mu_product"] = state["mu_product"] * mu
    m = state["exp_avg"] = state["exp_avg"] + (1 - b1) * (grad - state["exp_avg"])
    v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * (grad * grad)
    denom = xp.sqrt(v / (1 - b2**t)) + eps
    param -= lr * (1 - mu) / (1 - mu_product) * (grad / denom)
    param -= lr * mu_next / (1 - mu_product * mu_next) * (m / denom)


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False)``: the rule of :func:`nadam_update` for every parameter."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, maximize: bool = False):
        check_settings("NAdam", lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        super().__init__(params, dict(lr=lr, betas=check_betas("NAdam", betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        nadam_update(p.data, grad, state, lr=group["lr"], betas=group["betas"], eps=group["eps"],
                     weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                     decoupled_weight_decay=group["decoupled_weight_decay"])
