"""Max unpooling: the values a max pool picked, put back where it found them, zeros elsewhere.

With the flat per-plane positions ``indices`` a max pool returned (``return_indices=True``) and an
output plane of Ho × Wo,

    y[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j]          (every other y is 0)
    dL/dx[n, c, i, j] = dL/dy[n, c].flat[indices[n, c, i, j]]

a scatter forward and a gather backward. Where two windows picked the same element (overlapping
windows), the later write wins, and each reads that element's gradient back.
"""

from __future__ import annotations

from ..backend import get_array_module, like
from ..errors import ShapeError
from ..function import Function


class MaxUnpool2d(Function):
    """y = zeros (N, C, Ho, Wo) with x scattered to ``indices``; dL/dx = dL/dy gathered at ``indices``."""

    fresh_grads = True

    def __init__(self, indices, output_hw):
        self.indices, self.output_hw = indices, tuple(int(n) for n in output_hw)

    def forward(self, x):
        xp = get_array_module(x)
        self.indices = like(x, self.indices)
        if x.ndim != 4 or tuple(self.indices.shape) != tuple(x.shape):
            raise ShapeError(f"max_unpool2d expects an (N, C, H, W) input and indices of its shape, got shapes "
                             f"{tuple(x.shape)} and {tuple(self.indices.shape)}")
        n, c = x.shape[:2]
        ho, wo = self.output_hw
        self.flat = self.indices.reshape(n * c, -1).astype(xp.int64, copy=False)
        if self.flat.size and (self.flat.min() < 0 or self.flat.max() >= ho * wo):
            bad = int(self.flat.max() if self.flat.max() >= ho * wo else self.flat.min())
            raise ValueError(f"max_unpool2d: found an invalid max index {bad} (the output planes are {ho}×{wo})")
        y = xp.zeros((n * c, ho * wo), dtype=x.dtype)
        xp.put_along_axis(y, self.flat, x.reshape(n * c, -1), axis=1)
        self.x_shape = x.shape
        return y.reshape(n, c, ho, wo)

    def backward(self, gy):
        xp = get_array_module(gy)
        planes = gy.reshape(self.flat.shape[0], -1)
        return (xp.take_along_axis(planes, self.flat, axis=1).reshape(self.x_shape),)
