"""What a gradient check case is, and the input makers the cases share.

Each case builds float64 inputs from a seeded generator, away from kinks (no input of ReLU or
abs near 0, no ties for max), so that central differences are exact to rounding and the errors
stay below 1e-8 for smooth ops and below 1e-6 for all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    """``fn(*tensors)`` checked at ``make_inputs(rng)``; ``op`` names the Function it covers.

    ``eps`` overrides the step for scalar losses: there every element's difference is taken
    from one rounded sum, and ε = 1e-5 balances rounding (∝ 1/ε) against truncation (∝ ε²).
    ``order=4`` (five-point stencil, ε = 1e-3) serves ops whose every output depends on many
    inputs (convolution, batch norm), where the two-point stencil's rounding noise dominates.
    ``tiny`` is the floor of the relative error's denominator: batch norm's input gradient has
    elements far below its scale (its rows sum to zero), which are then held to an absolute
    error below tiny · 1e-8 instead.
    """

    op: type
    fn: Callable
    make_inputs: Callable
    smooth: bool = True
    eps: float | None = None
    order: int = 2
    tiny: float = 1e-8


def away_from_zero(rng, *shape, margin=0.1):
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin + x, x)


def distinct(rng, *shape):
    """Values with gaps of at least 0.05 between any two, so max/min have no near-ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.05 + rng.uniform(0, 0.01)).reshape(shape)


def positive(rng, *shape):
    return rng.uniform(0.5, 2.0, shape)


def normal(rng, *shape):
    return rng.standard_normal(shape)
