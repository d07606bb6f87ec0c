"""One seeded random generator for every draw nablab makes (initialisation, dropout, shuffling).

``nablab.manual_seed(n)`` resets it, so a run started with the same seed draws the same numbers.
Components that need their own reproducible stream (a DataLoader, say) derive one with
:func:`spawn_generator`, so that adding a draw in one place never shifts the numbers of another.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed nablab's global generator (and return it), like ``torch.manual_seed``."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an integer seed, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def get_generator() -> np.random.Generator:
    """The global generator that initialisation and dropout draw from."""
    return _generator


def spawn_generator() -> np.random.Generator:
    """A new generator seeded from the global one (deterministic after ``manual_seed``)."""
    return np.random.default_rng(_generator.integers(0, 2**63 - 1))


def get_rng_state() -> dict:
    """The global generator's state (a JSON-able dict), for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
