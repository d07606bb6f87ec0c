"""The digits data set bundled with scikit-learn: 1,797 real 8×8 handwritten digits (UCI).

Pixel values are 0–16 (4-bit counts of an original 32×32 bitmap); nablab keeps them as uint8
N×1×8×8 and splits them stratified 70/15/15 with a fixed seed. Nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, Split
from .splits import stratified_split


def load_digits(seed: int = 0, fractions=(0.7, 0.15, 0.15)) -> Dataset:
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError(
            "the digits data set ships with scikit-learn: pip install 'nablab[lab]' (or scikit-learn)"
        ) from None
    bunch = sklearn_digits()
    x = bunch.images.astype(np.uint8)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    train, val, test = (Split(x[i], y[i]) for i in stratified_split(y, fractions, seed))
    return Dataset("digits", train, val, test, classes=[str(d) for d in range(10)], max_value=16.0,
                   info={"source": "scikit-learn (bundled)", "split": f"stratified {fractions}, seed {seed}"})
