"""``Tensor.unfold(dimension, size, step)``: every window of ``size`` elements along a dim, ``step``
apart, as a new last dim. Overlapping windows share elements, so the backward adds up."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class Unfold(Function):
    """y[…, w, …, k] = x[…, w·step + k, …] for window w along ``dim`` and k < size (the windows in
    place of ``dim``, their elements as a new last dim);
    dL/dx[…, i, …] = Σ_{w, k: w·step + k = i} dL/dy[…, w, …, k]."""

    saves_inputs = False

    def __init__(self, dim, size, step):
        self.dim, self.size, self.step = dim, size, step

    def _window(self, k, count):
        """The positions w·step + k along dim, for every window w, as a slice."""
        return (slice(None),) * self.dim + (slice(k, k + self.step * (count - 1) + 1, self.step),)

    def forward(self, x):
        xp = get_array_module(x)
        self.shape = x.shape
        self.count = (x.shape[self.dim] - self.size) // self.step + 1
        return xp.stack([x[self._window(k, self.count)] for k in range(self.size)], axis=-1)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        for k in range(self.size):
            gx[self._window(k, self.count)] += gy[..., k]
        return (gx,)
