"""Checking a sequence of token ids before it is decoded."""

from __future__ import annotations

import numpy as np

from ...errors import ShapeError


def as_id_array(ids, vocab_size: int) -> np.ndarray:
    """``ids`` (a list, an array, a Tensor, or one int) as a 1-D int64 array, each in ``[0, vocab_size)``."""
    ids = np.asarray(getattr(ids, "data", ids))
    if ids.ndim > 1:
        raise ShapeError(f"decode takes a 1-D sequence of ids, got shape {ids.shape}; decode a batch row by row")
    if ids.size and ids.dtype.kind not in "iu":
        raise TypeError(f"token ids must be integers, got dtype {ids.dtype}")
    ids = ids.reshape(-1).astype(np.int64, copy=False)
    bad = (ids < 0) | (ids >= vocab_size)
    if bad.any():
        raise ValueError(f"token id {int(ids[bad][0])} (at position {int(np.argmax(bad))}) is outside the vocabulary "
                         f"[0, {vocab_size})")
    return ids
