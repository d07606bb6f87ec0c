"""The gradient checks of elementwise math (trigonometric, rounding, integer and logical ops),
reductions, scans and sorting."""

from __future__ import annotations

from .case import Case

CASES: dict[str, Case] = {}
