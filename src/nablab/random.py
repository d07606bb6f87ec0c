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


class Generator:
    """A random stream of its own, as ``torch.Generator``: ``Generator().manual_seed(42)`` for a
    reproducible ``random_split``, sampler or factory (``generator=``) that leaves nablab's global
    generator alone. It wraps a NumPy Generator (``.numpy``)."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.numpy = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an integer seed, got {type(seed).__name__}")
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed


def numpy_generator(generator=None) -> np.random.Generator:
    """The NumPy Generator to draw from: the global one for None, a :class:`Generator`'s, or a NumPy one."""
    if generator is None:
        return _generator
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a nablab.Generator or a numpy.random.Generator, got {type(generator).__name__}")
