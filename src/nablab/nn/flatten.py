"""``Flatten``: (N, d₁, d₂, …) → (N, d₁·d₂·…), the bridge from images to Linear layers."""

from __future__ import annotations

from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

__all__ = ["Flatten"]
