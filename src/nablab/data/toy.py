"""Small synthetic sets for demos and checks: the reports' toy problem and a 2-D spiral."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, Split
from .splits import stratified_split


def toy_data(num_inputs: int = 5, input_size: int = 4, num_classes: int = 3, labels=None):
    """The reports' toy set: ``np.random.seed(1); X = 10 * np.random.randn(N, D)`` (drawn from a
    private generator seeded the same way, so NumPy's global state is left alone); labels are
    ``[0, 1, 2, 2, 1]`` for the default 5×4, else given or drawn from that generator."""
    rng = np.random.RandomState(1)
    X = 10 * rng.randn(num_inputs, input_size)
    if labels is None:
        labels = [0, 1, 2, 2, 1] if (num_inputs, num_classes) == (5, 3) else rng.randint(num_classes, size=num_inputs)
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (num_inputs,):
        raise ValueError(f"toy_data needs {num_inputs} labels, got {y.shape[0] if y.ndim else 0}")
    return X, y


def spiral(points_per_class: int = 100, num_classes: int = 3, noise: float = 0.2, seed: int = 0):
    """K interleaved 2-D spiral arms (CS231n's demo set): class k has radius r ∈ [0, 1] and angle
    θ = 4k + 4r + noise, at (r sin θ, r cos θ). Not linearly separable."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, points_per_class), num_classes)
    k = np.repeat(np.arange(num_classes), points_per_class)
    theta = 4 * k + 4 * r + noise * rng.standard_normal(r.shape)
    return np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1), k.astype(np.int64)


def load_toy(**kwargs) -> Dataset:
    """The toy set as a Dataset whose three splits are the same five examples (it checks math,
    not generalisation)."""
    X, y = toy_data(**kwargs)
    split = Split(X, y)
    classes = [str(c) for c in range(int(y.max()) + 1)]
    return Dataset("toy", split, split, split, classes, max_value=1.0, info={"source": "generated (seed 1)"})


def load_spiral(seed: int = 0, points_per_class: int = 100, num_classes: int = 3) -> Dataset:
    """The spiral, split stratified 70/15/15 with ``seed``."""
    X, y = spiral(points_per_class, num_classes, seed=seed)
    train, val, test = (Split(X[i], y[i]) for i in stratified_split(y, (0.7, 0.15, 0.15), seed))
    return Dataset("spiral", train, val, test, [str(c) for c in range(num_classes)], max_value=1.0,
                   info={"source": f"generated (seed {seed})"})
