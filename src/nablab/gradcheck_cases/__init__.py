"""The registered gradient checks: one case per op (and per model), run by the tests and by
``nablab gradcheck``. Each area of the library keeps its cases in its own module here; ``CASES``
holds them all.
"""

from __future__ import annotations

import numpy as np

from . import core, layers, losses, math, recurrent, shape
from .case import Case

CASES: dict[str, Case] = {}
for _module in (core, math, shape, losses, layers, recurrent):
    _clash = CASES.keys() & _module.CASES.keys()
    assert not _clash, f"gradient check cases named twice: {sorted(_clash)}"
    CASES.update(_module.CASES)


def covered_ops() -> set:
    """The Function classes that at least one case exercises directly."""
    return {case.op for case in CASES.values()}


def run(cases=None, eps: float = 1e-6, seed: int = 0):
    """Yield ``(name, case, errors)`` with the max relative error of every input of each case
    (``eps`` is the step of every case that does not set its own)."""
    from ..gradcheck import check

    for name, case in (cases or CASES).items():
        inputs = case.make_inputs(np.random.default_rng(seed))
        yield name, case, check(case.fn, inputs, eps=case.eps or eps, tiny=case.tiny, order=case.order)
