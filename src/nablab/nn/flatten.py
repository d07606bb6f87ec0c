"""``Flatten``: (N, d₁, d₂, …) → (N, d₁·d₂·…), the bridge from images to Linear layers;
``Unflatten``: one axis back into several."""

from __future__ import annotations

import math

from ..errors import DimError, ShapeError
from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one entry may be −1, inferred), as
    ``torch.nn.Unflatten``: (N, 12) → (N, 3, 4) with ``Unflatten(1, (3, 4))``."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(int(n) for n in unflattened_size)

    def forward(self, x):
        if not -x.ndim <= self.dim < x.ndim:
            raise DimError(f"Unflatten: dim {self.dim} is out of range for an input of shape {tuple(x.shape)}")
        dim, sizes = self.dim % x.ndim, self.unflattened_size
        known, free, n = math.prod(m for m in sizes if m != -1), sizes.count(-1), x.shape[dim]
        if not ((free == 0 and known == n) or (free == 1 and known > 0 and n % known == 0)):
            raise ShapeError(f"Unflatten: sizes {sizes} do not multiply to dim {self.dim} of an input of shape "
                             f"{tuple(x.shape)} ({x.shape[dim]})")
        return x.reshape(tuple(x.shape[:dim]) + sizes + tuple(x.shape[dim + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Flatten", "Unflatten"]
