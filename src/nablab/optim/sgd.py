"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from .. import kernels
from .optimizer import Optimizer, check_settings


def sgd_update(param, grad, state, *, lr, momentum, dampening, nesterov, weight_decay):
    """One SGD step on the array ``param`` (in place), PyTorch's rule, with g the gradient:

        g ← g + λθ                                  (weight_decay λ)
        b ← g on the first step, else μb + (1 − τ)g  (momentum μ, dampening τ; b kept in ``state``)
        g ← g + μb if nesterov else b
        θ ← θ − η g                                  (learning rate η)

    This is the reference; the CPU kernel updates in cache-sized blocks with scratch temporaries
    (:mod:`nablab.kernels.cpu.optim`), with the same numbers.
    """
    g = grad + weight_decay * param if weight_decay else grad
    if momentum:
        b = state.get("momentum_buffer")
        b = g.copy() if b is None else momentum * b + (1 - dampening) * g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    param -= lr * g


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``:
    the rule of :func:`sgd_update` for every parameter; ``.grad`` is left as it was."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        check_settings("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _update(self, p, grad, state, group):
        update = kernels.select(sgd_update, p.data, grad)
        update(p.data, grad, state, lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
               nesterov=group["nesterov"], weight_decay=group["weight_decay"])
