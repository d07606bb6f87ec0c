"""Dropout layers, active in training mode only: ``Dropout`` (elements), ``Dropout1d`` and
``Dropout2d`` (whole channels), ``AlphaDropout`` (for SELU networks)."""

from __future__ import annotations

from . import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability p during training and scale the rest by 1/(1−p).
    ``inplace`` is accepted for PyTorch's signature; the result is a new tensor."""

    drop = staticmethod(F.dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return self.drop(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest by 1/(1−p)."""

    drop = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zero whole feature maps of (N, C, H, W) or (C, H, W) with probability p, scale the rest by 1/(1−p)."""

    drop = staticmethod(F.dropout2d)


class AlphaDropout(Dropout):
    """Dropout that keeps SELU's zero mean and unit variance (see :func:`~nablab.nn.functional.alpha_dropout`)."""

    drop = staticmethod(F.alpha_dropout)


__all__ = ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d"]
