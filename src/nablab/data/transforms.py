"""Per-batch preprocessing of raw image arrays (more arrive with the data-sets issue)."""

from __future__ import annotations

import numpy as np


class ScaleFlatten:
    """x ↦ (x / max_value) reshaped to (N, features), as float32: the input of an MLP."""

    def __init__(self, max_value: float = 255.0, dtype="float32"):
        self.scale = np.asarray(1.0 / max_value, dtype=dtype)
        self.dtype = np.dtype(dtype)

    def __call__(self, x):
        return x.reshape(len(x), -1).astype(self.dtype) * self.scale
