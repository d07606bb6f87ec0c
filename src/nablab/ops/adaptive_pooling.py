"""Adaptive pooling: pooling to a given output size, over tiles that cover the input.

Along an axis of n inputs pooled to m outputs, output i covers the inputs [start_i, end_i) with

    start_i = ⌊i·n / m⌋        end_i = ⌈(i + 1)·n / m⌉

(PyTorch's tiles: they cover the axis, have one of two lengths, and overlap by one where m does
not divide n). On (N, C, H, W):

    average:  y[n, c, i, j] = mean of x[n, c, start_i:end_i, start_j:end_j]
              — that is y = A_H · x · A_Wᵀ per plane, with the averaging matrix A (m × n) holding
              1/(end_i − start_i) on row i's tile, so dL/dx = A_Hᵀ · dL/dy · A_W;
    max:      y[n, c, i, j] = max of the tile; dL/dx routes dL/dy to the tile's first maximum (its
              last NaN where it holds NaN), as PyTorch does, and ``indices`` records its flat
              position h·W + w in the plane.
"""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function


def tiles(n: int, m: int) -> list:
    """[(start_i, end_i)] of m adaptive tiles over n inputs."""
    return [(i * n // m, math.ceil((i + 1) * n / m)) for i in range(m)]


def averaging_matrix(xp, n: int, m: int, dtype):
    """A (m × n): row i holds 1/(end_i − start_i) over tile i, so A·v averages each tile of v."""
    a = xp.zeros((m, n), dtype=dtype)
    for i, (start, end) in enumerate(tiles(n, m)):
        a[i, start:end] = 1.0 / (end - start)
    return a


def _check(x, output_hw, name):
    if x.ndim != 4:
        raise ShapeError(f"{name} expects an (N, C, H, W) input, got shape {tuple(x.shape)}")
    if min(x.shape[2:]) < 1 or min(output_hw) < 1:
        raise ShapeError(f"{name}: planes of {x.shape[2]}×{x.shape[3]} cannot be pooled to {output_hw[0]}×"
                         f"{output_hw[1]} (both must be non-empty)")


class AdaptiveAvgPool2d(Function):
    """y = A_H · x · A_Wᵀ per plane;  dL/dx = A_Hᵀ · dL/dy · A_W (see the module docstring)."""

    fresh_grads = True

    def __init__(self, output_hw):
        self.output_hw = tuple(int(n) for n in output_hw)

    def forward(self, x):
        xp = get_array_module(x)
        _check(x, self.output_hw, "adaptive_avg_pool2d")
        (h, w), (ho, wo) = x.shape[2:], self.output_hw
        self.a_h, self.a_w = averaging_matrix(xp, h, ho, x.dtype), averaging_matrix(xp, w, wo, x.dtype)
        return self.a_h @ x @ self.a_w.T

    def backward(self, gy):
        return (self.a_h.T @ gy @ self.a_w,)


class AdaptiveMaxPool2d(Function):
    """y = max of each tile; dL/dx = dL/dy at each tile's picked element (first maximum, last NaN).
    With ``indices`` (a dict), forward stores the picked flat positions as ``indices["flat"]``."""

    fresh_grads = True

    def __init__(self, output_hw, indices=None):
        self.output_hw, self.indices = tuple(int(n) for n in output_hw), indices

    def forward(self, x):
        xp = get_array_module(x)
        _check(x, self.output_hw, "adaptive_max_pool2d")
        (n, c, h, w), (ho, wo) = x.shape, self.output_hw
        y = xp.empty((n, c, ho, wo), dtype=x.dtype)
        self.flat = xp.empty((n, c, ho, wo), dtype=xp.int64)  # the picked h·W + w of every tile
        for i, (h0, h1) in enumerate(tiles(h, ho)):
            for j, (w0, w1) in enumerate(tiles(w, wo)):
                tile = x[:, :, h0:h1, w0:w1].reshape(n, c, -1)
                nan = xp.isnan(tile)
                picked = xp.where(nan.any(axis=-1), tile.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1),
                                  tile.argmax(axis=-1))
                y[:, :, i, j] = xp.take_along_axis(tile, picked[..., None], axis=-1)[..., 0]
                self.flat[:, :, i, j] = (h0 + picked // (w1 - w0)) * w + w0 + picked % (w1 - w0)
        if self.indices is not None:
            self.indices["flat"] = self.flat
        self.x_shape = x.shape
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        n, c, h, w = self.x_shape
        dx = xp.zeros((n * c, h * w), dtype=gy.dtype)
        rows = xp.arange(n * c)[:, None]
        xp.add.at(dx, (rows, self.flat.reshape(n * c, -1)), gy.reshape(n * c, -1))  # tiles may overlap
        return (dx.reshape(self.x_shape),)
