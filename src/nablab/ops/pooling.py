"""Pooling over 2-D windows of NCHW tensors: max and average.

Max pooling: y[n, c, i, j] = max over the window of x_pad (padding with −∞); the gradient goes
to the one element that was picked (the first maximum in row-major order, as PyTorch routes
ties). Average pooling: y = (1/k²) Σ window (zero padding counted, PyTorch's default);
dL/dx gets dL/dy / k² at every position of each window.

Non-overlapping windows (stride = kernel, no padding, sizes divisible) take a fast path with no
window copy: the k² strided sub-grids x[:, :, u::k, v::k] hold each window's elements, so max
pooling is k² − 1 elementwise maxima and average pooling a reshape to (N, C, Ho, k, Wo, k) and a
mean. Max pooling's backward then finds the routing itself: sub-grid q gets dL/dy where it equals
y and no earlier sub-grid did (the first maximum). Arrays keep the input's memory layout, so the
channels-last output of a convolution stays channels-last through the pool and its gradient.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .conv import col2im, conv_output_size, windows


def _tiles(x, k):
    """True when k×k windows with stride k tile x exactly (the reshape fast path applies)."""
    return x.shape[2] % k == 0 and x.shape[3] % k == 0


class MaxPool2d(Function):
    """y = max over each k×k window (stride s, padding p); dL/dx routes dL/dy to the argmax."""

    fresh_grads = True

    def __init__(self, kernel_size, stride=None, padding=0):
        self.k, self.s, self.p = kernel_size, stride or kernel_size, padding
        if padding > kernel_size // 2:
            raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel ({kernel_size})")

    def forward(self, x):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        k, s, p = self.k, self.s, self.p
        self.x_shape = x.shape
        self.fast = s == k and p == 0 and k > 1 and _tiles(x, k)
        if self.fast:
            y = xp.maximum(x[:, :, 0::k, 0::k], x[:, :, 0::k, 1::k])
            for q in range(2, k * k):
                xp.maximum(y, x[:, :, q // k :: k, q % k :: k], out=y)
            self.x, self.y = x, y
            return y
        fill = xp.asarray(-xp.inf, dtype=x.dtype)
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill) if p else x
        self.pad_shape = xpad.shape
        ho, wo = conv_output_size(h, k, s, p, 1), conv_output_size(w, k, s, p, 1)
        if ho < 1 or wo < 1:
            raise ValueError(f"max_pool2d: a {k}×{k} window does not fit a {h}×{w} input")
        blocks = windows(xp, xpad, k, k, s, 1).reshape(n, c, ho, wo, k * k)
        self.argmax = blocks.argmax(axis=-1)
        return xp.take_along_axis(blocks, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, gy):
        xp = get_array_module(gy)
        k = self.k
        n, c, ho, wo = gy.shape
        if self.fast:
            return (self._route_to_first_maximum(xp, gy),)
        onehot = (self.argmax[..., None] == xp.arange(k * k)) * gy[..., None]  # (N, C, Ho, Wo, k²)
        dx = col2im(xp, onehot.reshape(n, c, ho, wo, k, k), self.pad_shape, self.s, 1)
        p = self.p
        return (dx[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dx,)

    def _route_to_first_maximum(self, xp, gy):
        """dL/dx of the fast path: sub-grid q takes dL/dy where it holds its window's first maximum."""
        x, y, k = self.x, self.y, self.k
        if gy.strides != y.strides:  # one copy into y's layout makes every pass below contiguous
            same_layout = xp.empty_like(y)
            same_layout[...] = gy
            gy = same_layout
        dx = xp.empty_like(x)  # the input's memory layout
        free = xp.ones_like(y, dtype=bool)  # windows whose gradient is not routed yet
        hit = xp.empty_like(y, dtype=bool)
        for q in range(k * k):
            xp.equal(x[:, :, q // k :: k, q % k :: k], y, out=hit)
            if q:
                xp.logical_and(hit, free, out=hit)
            if q < k * k - 1:
                xp.logical_xor(free, hit, out=free)
            xp.multiply(gy, hit, out=dx[:, :, q // k :: k, q % k :: k])
        return dx


class AvgPool2d(Function):
    """y = mean of each k×k window (zero padding included in the count);  dL/dx = dL/dy / k² per window."""

    def __init__(self, kernel_size, stride=None, padding=0):
        self.k, self.s, self.p = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        k, s, p = self.k, self.s, self.p
        self.x_shape = x.shape
        if s == k and p == 0 and _tiles(x, k):
            self.fast = True
            return x.reshape(n, c, h // k, k, w // k, k).mean(axis=(3, 5))
        self.fast = False
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        self.pad_shape = xpad.shape
        return windows(xp, xpad, k, k, s, 1).mean(axis=(4, 5))

    def backward(self, gy):
        xp = get_array_module(gy)
        k = self.k
        share = gy / (k * k)
        n, c, ho, wo = gy.shape
        if self.fast:
            dx = xp.broadcast_to(share[:, :, :, None, :, None], (n, c, ho, k, wo, k)).reshape(self.x_shape)
            return (dx,)
        dcols = xp.broadcast_to(share[..., None, None], (n, c, ho, wo, k, k))
        dx = col2im(xp, dcols, self.pad_shape, self.s, 1)
        p = self.p
        return (dx[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dx,)
