"""The functional forms of dropout, and of pooling and normalization (from
:mod:`~nablab.nn.functional_pooling` and :mod:`~nablab.nn.functional_normalization`):
``nablab.nn.functional`` exports them all (``F.dropout``, ``F.max_pool2d``, ``F.batch_norm``, ...).

``inplace=True`` is accepted for PyTorch's signatures; the result is always a new tensor.
"""

from __future__ import annotations

import math

from ..backend import like
from ..errors import ShapeError
from ..random import get_generator
from ..tensor import Tensor
from .functional_normalization import *  # noqa: F403
from .functional_normalization import __all__ as _normalization_names
from .functional_pooling import *  # noqa: F403
from .functional_pooling import __all__ as _pooling_names


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")


def _scaled_mask(x, shape, p):
    """A tensor of shape ``shape`` holding m / (1 − p) with m ~ Bernoulli(1 − p) (all 0 for p = 1)."""
    keep = get_generator().random(shape) >= p  # drawn on the host: the same masks on every device
    return Tensor._make(like(x.data, (keep / (1.0 - p) if p < 1.0 else keep * 0.0).astype(x.dtype)))


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p).

    y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p), so E[y] = x and evaluation needs no rescaling;
    dL/dx = dL/dy ⊙ m / (1 − p). The identity when not ``training`` or p = 0.
    """
    _check_p(p)
    if not training or p == 0.0:
        return x
    return x * _scaled_mask(x, x.shape, p)


def _channel_dropout(x, p, training, name, spatial):
    """Zero whole channels: m of shape (N, C, 1, ...) (or (C, 1, ...) unbatched), broadcast over the rest."""
    _check_p(p)
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ShapeError(f"{name} expects a {spatial + 1}-D (C, ...) or {spatial + 2}-D (N, C, ...) input, got "
                         f"shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    channels = x.ndim - spatial
    return x * _scaled_mask(x, tuple(x.shape[:channels]) + (1,) * spatial, p)


def dropout1d(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout of (N, C, L) or (C, L): each channel of each sample is zeroed with
    probability p, the others scaled by 1/(1−p)."""
    return _channel_dropout(x, p, training, "dropout1d", 1)


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout of (N, C, H, W) or (C, H, W): whole feature maps zeroed with probability p,
    the others scaled by 1/(1−p) (Tompson et al. 2015)."""
    return _channel_dropout(x, p, training, "dropout2d", 2)


#: SELU's λ·α: alpha dropout sets dropped elements to −ALPHA, SELU's negative saturation
ALPHA = 1.7580993408473766


def alpha_dropout(x, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks (Klambauer et al. 2017): keeps zero mean and unit variance.

    y = a · (x ⊙ m − α′(1 − m)) + a·α′·p with m ~ Bernoulli(1 − p), α′ = λα of SELU and
    a = 1/√((1 − p)(1 + p α′²)); dL/dx = a · m ⊙ dL/dy.
    """
    _check_p(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * ALPHA**2))
    keep = (get_generator().random(x.shape) >= p).astype(x.dtype)
    shift = Tensor._make(like(x.data, (a * ALPHA * (keep - 1.0 + p)).astype(x.dtype)))
    return x * Tensor._make(like(x.data, (a * keep).astype(x.dtype))) + shift


__all__ = ["alpha_dropout", "dropout", "dropout1d", "dropout2d", *_normalization_names, *_pooling_names]
