"""Seeded train/validation/test splits, stratified so every class keeps its share."""

from __future__ import annotations

import numpy as np


def stratified_split(y, fractions, seed: int = 0) -> list[np.ndarray]:
    """Partition the indices of ``y`` into parts of the given fractions (summing to 1), per class.

    Each class's examples are shuffled with ``seed`` and cut at the cumulative fractions (rounded),
    so every part holds about ``fraction`` of every class. Returns sorted index arrays.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    if np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {fractions.tolist()}")
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fractions]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for part, chunk in zip(parts, np.split(idx, cuts)):
            part.append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def carve_validation(n: int, val_size: int, seed: int = 0, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) holding out ``val_size`` of ``n`` examples, chosen with ``seed``.

    With ``labels`` the hold-out is stratified (each class keeps its share; the size is then
    ``val_size`` up to per-class rounding). Both index arrays are sorted, keeping the file order.
    """
    if not 0 <= val_size < n:
        raise ValueError(f"val_size must be between 0 and {n - 1} (the training set has {n} examples), got {val_size}")
    if labels is not None:
        return tuple(stratified_split(labels, [1 - val_size / n, val_size / n], seed))
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n - val_size]), np.sort(order[n - val_size :])
