"""The gradient checks of shape moves, indexing, gather/scatter and the linear-algebra products."""

from __future__ import annotations

from .case import Case

CASES: dict[str, Case] = {}
