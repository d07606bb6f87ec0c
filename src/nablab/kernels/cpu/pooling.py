"""CPU kernels for pooling: max pooling as a running maximum over strided views, average pooling
over tiles by reshape. They compute :class:`nablab.ops.MaxPool2d` and :class:`nablab.ops.AvgPool2d`
(the references, with the math).

Max pooling never copies windows: the element at offset (u, v) of every window is the strided
view x_pad[:, :, u::s, v::s] (cut to Ho × Wo), so y is the running maximum of k² such views, and
the backward finds the routing itself — view q gets dL/dy where it equals y and no earlier view
did (the first maximum), added onto the input positions it was read from (windows overlap when
s < k). Arrays keep the input's memory layout, so the channels-last output of a convolution stays
channels-last through the pool and its gradient. The −∞-padded copy lives in scratch memory and
is used only inside forward and inside backward (each makes its own); the node keeps x and y.

Average pooling over non-overlapping windows that tile the input is a reshape to
(N, C, Ho, k, Wo, k) and a mean; its gradient a broadcast of dL/dy / k² back to that shape. Adaptive
average pooling to an output that divides the input (but global pooling) is the same over
(H/Ho) × (W/Wo) tiles.
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from ...ops.adaptive_pooling import AdaptiveAvgPool2d
from ...ops.pooling import Window
from ...scratch import scratch
from .conv import fill_border


def _channels_last(x) -> bool:
    """True when x (N, C, H, W) is laid out as N, H, W, C in memory (a channels-last convolution's output)."""
    return x.strides[1] < x.strides[3]


def _new_like(x, shape, zeros=False, reuse=False):
    """A new (or, with ``reuse``, scratch) NCHW array of ``shape`` in x's memory layout."""
    n, c, h, w = shape
    nhwc = _channels_last(x)
    full = (n, h, w, c) if nhwc else (n, c, h, w)
    if reuse:
        out = scratch(np, "padded copy", full, x.dtype)
    else:
        out = (np.zeros if zeros else np.empty)(full, dtype=x.dtype)
    return out.transpose(0, 3, 1, 2) if nhwc else out


def _square(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, **options):
    """The window as (k, s, p) when it is square with dilation 1 and no ceil_mode, else None."""
    w = Window(kernel_size, stride, padding, dilation, ceil_mode)
    (kh, kw), (sh, sw), (ph, pw) = w.kernel, w.stride, w.padding
    if ceil_mode or w.dilation != (1, 1) or kh != kw or sh != sw or ph != pw:
        return None
    return kh, sh, ph


def _numpy_4d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, indices=None):
    """Max pools the running maximum takes: square windows, dilation 1, no ceil_mode, no indices."""
    return type(x) is np.ndarray and x.ndim == 4 and indices is None and _square(kernel_size, stride, padding,
                                                                                 dilation, ceil_mode) is not None


class _SquareWindow:
    """The kernels' k, s, p of the square window their predicates accepted (ceil_mode aside: the
    tiles take it, where it changes nothing)."""

    def __init__(self, **params):
        super().__init__(**params)
        self.k, self.s, self.p = _square(params["kernel_size"], params.get("stride"), params.get("padding", 0))


class MaxPool2dViews(_SquareWindow, ops.MaxPool2d):
    """:class:`nablab.ops.MaxPool2d` as a running maximum over the k² strided views of window offsets."""

    def _padded(self, x):
        """x with a −∞ border of width p: a scratch copy (used only inside forward or backward)."""
        p = self.p
        if not p:
            return x
        n, c, h, w = x.shape
        xpad = _new_like(x, (n, c, h + 2 * p, w + 2 * p), reuse=True)
        fill_border(xpad, p, -np.inf)
        xpad[:, :, p : p + h, p : p + w] = x
        return xpad

    def _views(self, a):
        """The k² strided (N, C, Ho, Wo) views of window offsets (u, v), in row-major order."""
        k, s, (ho, wo) = self.k, self.s, self.out_hw
        return [a[:, :, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s] for u in range(k) for v in range(k)]

    def forward(self, x):
        self.out_hw = self.window.output_hw(x, "max_pool2d")
        views = self._views(self._padded(x))
        y = np.array(views[0], order="K") if self.k == 1 else np.maximum(views[0], views[1])
        for view in views[2:]:
            np.maximum(y, view, out=y)
        self.x, self.y = x, y
        return y

    def backward(self, gy):
        x, y, k, s, p = self.x, self.y, self.k, self.s, self.p
        n, c, h, w = x.shape
        if gy.strides != y.strides:  # one copy into y's layout makes every pass below contiguous
            same_layout = np.empty_like(y)
            same_layout[...] = gy
            gy = same_layout
        # windows that tile x exactly write every input position once; others add up (or leave zeros)
        exact = s == k and p == 0 and h % k == 0 and w % k == 0
        dxpad = _new_like(x, (n, c, h + 2 * p, w + 2 * p), zeros=not exact)
        free = np.ones_like(y, dtype=bool)  # windows whose gradient is not routed yet
        hit = np.empty_like(y, dtype=bool)
        routed = None if exact else np.empty_like(gy)
        pairs = list(zip(self._views(self._padded(x)), self._views(dxpad)))
        for q, (view, target) in enumerate(pairs):
            np.equal(view, y, out=hit)
            if q:
                np.logical_and(hit, free, out=hit)
            if q < k * k - 1:
                np.logical_xor(free, hit, out=free)
            if exact:
                np.multiply(gy, hit, out=target)
            else:
                np.multiply(gy, hit, out=routed)
                target += routed
        nan = np.isnan(y)  # a window holding NaN has NaN as its maximum, which equals nothing above
        if nan.any():  # route it to the window's last NaN, as PyTorch does
            for view, target in reversed(pairs):
                np.logical_and(np.isnan(view), nan, out=hit)
                np.logical_xor(nan, hit, out=nan)
                target += gy * hit
        return (dxpad[:, :, p : p + h, p : p + w] if p else dxpad,)


def _tiles(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """k×k windows with stride k and no padding that tile x exactly (the reshape applies; ceil_mode and
    count_include_pad then change nothing), without a divisor_override."""
    square = _square(kernel_size, stride, padding)
    if type(x) is not np.ndarray or x.ndim != 4 or square is None or divisor_override is not None:
        return False
    k, s, p = square
    return s == k and p == 0 and x.shape[2] % k == 0 and x.shape[3] % k == 0 and x.shape[2] >= k


class AvgPool2dTiles(_SquareWindow, ops.AvgPool2d):
    """:class:`nablab.ops.AvgPool2d` over windows that tile the input: a reshape and a mean."""

    fresh_grads = False  # for k = 1 the gradient is a read-only broadcast view

    def forward(self, x):
        n, c, h, w = x.shape
        k = self.k
        self.x_shape = x.shape
        return x.reshape(n, c, h // k, k, w // k, k).mean(axis=(3, 5))

    def backward(self, gy):
        n, c, ho, wo = gy.shape
        k = self.k
        share = gy / (k * k)
        return (np.broadcast_to(share[:, :, :, None, :, None], (n, c, ho, k, wo, k)).reshape(self.x_shape),)


def _adaptive_tiles(x, output_hw):
    """Adaptive outputs that divide the input: equal, disjoint tiles. Global pooling (1 × 1) stays on
    the reference, whose numbers the kernel path then gives bit for bit."""
    ho, wo = output_hw
    return type(x) is np.ndarray and x.ndim == 4 and ho > 0 and wo > 0 and (ho, wo) != (1, 1) \
        and x.shape[2] % ho == 0 and x.shape[3] % wo == 0


class AdaptiveAvgPool2dTiles(AdaptiveAvgPool2d):
    """:class:`nablab.ops.adaptive_pooling.AdaptiveAvgPool2d` where the output divides the input: tiles of
    (H/Ho) × (W/Wo), a reshape and a mean; the gradient a broadcast of dL/dy / tile size."""

    fresh_grads = False  # for 1×1 tiles the gradient is a read-only broadcast view

    def forward(self, x):
        (n, c, h, w), (ho, wo) = x.shape, self.output_hw
        self.x_shape = x.shape
        return x.reshape(n, c, ho, h // ho, wo, w // wo).mean(axis=(3, 5))

    def backward(self, gy):
        (n, c, h, w), (ho, wo) = self.x_shape, self.output_hw
        share = gy / ((h // ho) * (w // wo))
        tiles = np.broadcast_to(share[:, :, :, None, :, None], (n, c, ho, h // ho, wo, w // wo))
        return (tiles.reshape(self.x_shape),)


kernels.register(ops.MaxPool2d, MaxPool2dViews, when=_numpy_4d)
kernels.register(ops.AvgPool2d, AvgPool2dTiles, when=_tiles)
kernels.register(AdaptiveAvgPool2d, AdaptiveAvgPool2dTiles, when=_adaptive_tiles)
