"""Drawing the next token of a language model: temperature and top-k over the last position's logits.

With logits z (one row per sequence), temperature τ > 0 and top-k k, the next token is drawn from

    p_i ∝ exp(z_i / τ)   for the k largest z_i (every i when k is None), 0 for the others,

so τ < 1 sharpens the distribution (τ → 0: always the most likely token), τ > 1 flattens it, and
k = 1 is greedy decoding. Draws come from nablab's seeded generator, or from ``generator``.
"""

from __future__ import annotations

import numpy as np

from ..random import numpy_generator


def check_sampling(temperature: float, top_k: int | None, vocab_size: int) -> None:
    """A ValueError naming ``temperature`` or ``top_k`` if it is not a temperature > 0 or a k in 1..vocab_size."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a number > 0 (1 samples the model's own distribution), "
                         f"got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or not 1 <= top_k <= vocab_size):
        raise ValueError(f"top_k must be an integer from 1 to the vocabulary size {vocab_size} (or None: every "
                         f"token), got {top_k!r}")


def next_token_probabilities(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """p (N, V) from the logits (N, V) of the last position, as the module docstring says (float64)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def draw(probabilities: np.ndarray, generator=None) -> np.ndarray:
    """One token id per row of ``probabilities`` (N, V), as an int64 array (N,)."""
    rng = numpy_generator(generator)
    cumulative = np.cumsum(probabilities, axis=-1)
    u = rng.random((len(probabilities), 1)) * cumulative[:, -1:]
    return np.minimum((cumulative <= u).sum(axis=-1), probabilities.shape[-1] - 1).astype(np.int64)
