"""CPU kernels for the optimizers' updates: :func:`nablab.optim.sgd.sgd_update` and
:func:`nablab.optim.adam.adam_update` (the references, with the math) block by block
(:func:`~nablab.kernels.cpu.blocks.cache_blocks`), every pass writing into the parameter, its
state or a scratch temporary instead of a new array.

Each block goes through the same operations in the same order as the reference expression, so
the results are the same, bit for bit: a·b and b·a, a + b and b + a round alike, and where the
reference writes μb + (1 − τ)g the kernel scales b in place and adds (1 − τ)g to it.
"""

from __future__ import annotations

import math

import numpy as np

from ... import kernels
from ...optim.adam import adam_update
from ...optim.sgd import sgd_update
from .blocks import cache_blocks


def _numpy(param, grad):
    return type(param) is np.ndarray and type(grad) is np.ndarray


def sgd_blocks(param, grad, state, *, lr, momentum, dampening, nesterov, weight_decay):
    """:func:`~nablab.optim.sgd.sgd_update` in cache-sized blocks."""
    rule = (lr, momentum, dampening, nesterov, weight_decay)
    if not momentum:
        for theta, g, d in cache_blocks(param, grad, temps=1):
            _sgd_block(rule, theta, g, None, False, d)
        return
    first = "momentum_buffer" not in state
    if first:
        state["momentum_buffer"] = np.empty_like(grad)
    temps = 2 if nesterov or dampening else 1  # only these need a second temporary
    for theta, g, b, *scratch in cache_blocks(param, grad, state["momentum_buffer"], temps=temps):
        _sgd_block(rule, theta, g, b, first, *scratch)


def _sgd_block(rule, theta, g, b, first, d, e=None):
    """One block: parameter ``theta``, gradient ``g``, momentum buffer ``b`` (None without
    momentum), scratch ``d`` and, for dampening or Nesterov momentum, ``e``."""
    lr, mu, damp, nesterov, wd = rule
    if wd:
        np.multiply(theta, wd, out=d)
        g = np.add(d, g, out=d)
    if b is not None:
        if first:
            b[...] = g
        else:
            b *= mu
            b += np.multiply(g, 1 - damp, out=e) if damp else g
        if nesterov:
            np.multiply(b, mu, out=e)
            g = np.add(e, g, out=e)
        else:
            g = b
    theta -= np.multiply(g, lr, out=d)


def adam_blocks(param, grad, state, *, lr, betas, eps, weight_decay, decoupled):
    """:func:`~nablab.optim.adam.adam_update` in cache-sized blocks."""
    if "step" not in state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    state["step"] += 1
    t, (b1, b2) = state["step"], betas
    rule = (lr, b1, b2, eps, weight_decay, decoupled, math.sqrt(1 - b2**t), lr / (1 - b1**t))
    for block in cache_blocks(param, grad, state["exp_avg"], state["exp_avg_sq"], temps=2):
        _adam_block(rule, *block)


def _adam_block(rule, theta, g, m, v, d, e):
    """One block: parameter ``theta``, gradient ``g``, moments ``m`` and ``v``, scratch ``d`` and ``e``;
    ``rule`` is (η, β₁, β₂, ε, λ, decoupled, √(1 − β₂ᵗ), η/(1 − β₁ᵗ))."""
    lr, b1, b2, eps, wd, decoupled, root_bias2, step_size = rule
    if wd:
        if decoupled:
            theta *= 1 - lr * wd
        else:
            np.multiply(theta, wd, out=d)
            g = np.add(d, g, out=d)
    m *= b1
    m += np.multiply(g, 1 - b1, out=e)
    v *= b2
    e = np.multiply(g, g, out=e)
    e *= 1 - b2
    v += e
    denom = np.sqrt(v, out=e)
    denom /= root_bias2
    denom += eps
    step = np.divide(m, denom, out=e)
    step *= step_size
    theta -= step


kernels.register(sgd_update, sgd_blocks, when=_numpy)
kernels.register(adam_update, adam_blocks, when=_numpy)
