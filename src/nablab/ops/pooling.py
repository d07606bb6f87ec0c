"""Pooling over 2-D windows of NCHW tensors: max and average.

Max pooling: y[n, c, i, j] = max over the window of x_pad (padding with −∞); the gradient goes
to the one element that was picked (the first maximum in row-major order, as PyTorch routes
ties). Average pooling: y = (1/k²) Σ window (zero padding counted, PyTorch's default);
dL/dx gets dL/dy / k² at every position of each window.

Max pooling never copies windows: the element at offset (u, v) of every window is the strided
view x_pad[:, :, u::s, v::s] (cut to Ho × Wo), so y is the running maximum of k² such views, and
the backward finds the routing itself — view q gets dL/dy where it equals y and no earlier view
did (the first maximum), added onto the input positions it was read from (windows overlap when
s < k). Arrays keep the input's memory layout, so the channels-last output of a convolution stays
channels-last through the pool and its gradient. Average pooling over non-overlapping windows is
a reshape to (N, C, Ho, k, Wo, k) and a mean; other windows go through the window view and col2im.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from ..scratch import scratch
from .conv import col2im, conv_output_size, fill_border, windows


def _tiles(x, k):
    """True when k×k windows with stride k tile x exactly (the reshape fast path applies)."""
    return x.shape[2] % k == 0 and x.shape[3] % k == 0


def _channels_last(x) -> bool:
    """True when x (N, C, H, W) is laid out as N, H, W, C in memory (a channels-last convolution's output)."""
    return x.strides[1] < x.strides[3]


def _new_like(xp, x, shape, zeros=False, reuse=False):
    """A new (or, with ``reuse``, scratch) NCHW array of ``shape`` in x's memory layout."""
    n, c, h, w = shape
    nhwc = _channels_last(x)
    full = (n, h, w, c) if nhwc else (n, c, h, w)
    if reuse:
        out = scratch(xp, "padded copy", full, x.dtype)
    else:
        out = (xp.zeros if zeros else xp.empty)(full, dtype=x.dtype)
    return out.transpose(0, 3, 1, 2) if nhwc else out


class MaxPool2d(Function):
    """y = max over each k×k window (stride s, padding p); dL/dx routes dL/dy to the first maximum
    (to the last NaN in a window that holds NaN, whose maximum is NaN, as PyTorch does)."""

    fresh_grads = True

    def __init__(self, kernel_size, stride=None, padding=0):
        self.k, self.s, self.p = kernel_size, stride or kernel_size, padding
        if padding > kernel_size // 2:
            raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel ({kernel_size})")

    def _padded(self, xp, x):
        """x with a −∞ border of width p: a scratch copy (used only inside forward or backward)."""
        p = self.p
        if not p:
            return x
        n, c, h, w = x.shape
        xpad = _new_like(xp, x, (n, c, h + 2 * p, w + 2 * p), reuse=True)
        fill_border(xpad, p, -xp.inf)
        xpad[:, :, p : p + h, p : p + w] = x
        return xpad

    def _views(self, a):
        """The k² strided (N, C, Ho, Wo) views of window offsets (u, v), in row-major order."""
        k, s, (ho, wo) = self.k, self.s, self.out_hw
        return [a[:, :, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s] for u in range(k) for v in range(k)]

    def forward(self, x):
        xp = get_array_module(x)
        _, _, h, w = x.shape
        k, s, p = self.k, self.s, self.p
        self.out_hw = conv_output_size(h, k, s, p, 1), conv_output_size(w, k, s, p, 1)
        if min(self.out_hw) < 1:
            raise ValueError(f"max_pool2d: a {k}×{k} window does not fit a {h}×{w} input")
        views = self._views(self._padded(xp, x))
        y = xp.array(views[0], order="K") if k == 1 else xp.maximum(views[0], views[1])
        for view in views[2:]:
            xp.maximum(y, view, out=y)
        self.x, self.y = x, y
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        x, y, k, s, p = self.x, self.y, self.k, self.s, self.p
        n, c, h, w = x.shape
        if gy.strides != y.strides:  # one copy into y's layout makes every pass below contiguous
            same_layout = xp.empty_like(y)
            same_layout[...] = gy
            gy = same_layout
        # windows that tile x exactly write every input position once; others add up (or leave zeros)
        exact = s == k and p == 0 and _tiles(x, k)
        dxpad = _new_like(xp, x, (n, c, h + 2 * p, w + 2 * p), zeros=not exact)
        free = xp.ones_like(y, dtype=bool)  # windows whose gradient is not routed yet
        hit = xp.empty_like(y, dtype=bool)
        routed = None if exact else xp.empty_like(gy)
        windows = list(zip(self._views(self._padded(xp, x)), self._views(dxpad)))
        for q, (view, target) in enumerate(windows):
            xp.equal(view, y, out=hit)
            if q:
                xp.logical_and(hit, free, out=hit)
            if q < k * k - 1:
                xp.logical_xor(free, hit, out=free)
            if exact:
                xp.multiply(gy, hit, out=target)
            else:
                xp.multiply(gy, hit, out=routed)
                target += routed
        nan = xp.isnan(y)  # a window holding NaN has NaN as its maximum, which equals nothing above
        if nan.any():  # route it to the window's last NaN, as PyTorch does
            for view, target in reversed(windows):
                xp.logical_and(xp.isnan(view), nan, out=hit)
                xp.logical_xor(nan, hit, out=nan)
                target += gy * hit
        return (dxpad[:, :, p : p + h, p : p + w] if p else dxpad,)


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
