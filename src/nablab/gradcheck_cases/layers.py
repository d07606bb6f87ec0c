"""The gradient checks of the layers' ops: convolutions, transposed convolutions, pooling,
upsampling and normalization."""

from __future__ import annotations

from .case import Case

CASES: dict[str, Case] = {}
