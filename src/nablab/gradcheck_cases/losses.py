"""The gradient checks of the losses and activations of nablab.nn.functional."""

from __future__ import annotations

from .case import Case

CASES: dict[str, Case] = {}
