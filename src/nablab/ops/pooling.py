"""Pooling over 2-D windows of NCHW tensors: max and average (1-D pooling is 2-D pooling of height 1).

A window of kh×kw elements, stride (sh, sw), padding (ph, pw) and dilation (dh, dw) (max pooling
only) gives, per axis, with PyTorch's rule for ``ceil_mode``,

    Ho = ⌊(H + 2p − d(k − 1) − 1 + (s − 1 if ceil_mode else 0)) / s⌋ + 1,

less one where ceil_mode would start the last window in the right padding ((Ho − 1)·s ≥ H + p):
every window starts inside the input or its left padding. The windows of the padded input (padded
on the right as far as the last window reaches) are the strided view ``windows(x_pad)`` of shape
(N, C, Ho, Wo, kh, kw) (no copy), and

    max pooling:      y[n, c, i, j] = max_{u,v} x_pad[n, c, i·sh + u·dh, j·sw + v·dw]     (padding −∞)
    average pooling:  y[n, c, i, j] = (1/D[i, j]) Σ_{u,v} x_pad[n, c, i·sh + u, j·sw + v]  (padding 0)

where the divisor D is ``divisor_override`` if given, else the window's size cut to the padded
input (``count_include_pad``) or to the input itself: D[i, j] = count_h[i] · count_w[j].

Backward: max pooling routes dL/dy[n, c, i, j] to the one element of its window that was picked
— the first maximum in row-major order, as PyTorch routes ties (in a window holding NaN, whose
maximum is NaN, the last NaN, as PyTorch does) — and average pooling gives every element of the
window dL/dy / D. Both then add the windows' gradients back onto the input (col2im, since
windows overlap when s < k). ``return_indices`` gives the picked elements' flat positions
h·W + w in each (unpadded) plane, as PyTorch does; :class:`nablab.ops.unpooling.MaxUnpool2d` puts values back there.

This is the reference, for every window, stride, padding, dilation and mode on any array module.
The CPU kernels (a running maximum over strided views that keeps a channels-last layout, average
pooling over tiles by reshape) are :mod:`nablab.kernels.cpu.pooling`.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function


def pair(value, name: str = "argument") -> tuple:
    """(a, b) from an int or a sequence of one or two ints (PyTorch's int-or-tuple arguments)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return int(value[0]), int(value[0])
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def pooled_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """The number of windows along an axis of ``size`` (see the module docstring)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class Window:
    """The geometry of a 2-D pool: kernel, stride, padding and dilation pairs and ceil_mode."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        self.kernel = pair(kernel_size, "kernel_size")
        self.stride = self.kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
        self.padding, self.dilation, self.ceil_mode = pair(padding, "padding"), pair(dilation, "dilation"), ceil_mode

    def output_hw(self, x, name: str) -> tuple:
        """(Ho, Wo) for x (N, C, H, W), or an error naming what does not fit."""
        if x.ndim != 4:
            raise ShapeError(f"{name} expects an (N, C, H, W) input, got shape {tuple(x.shape)}")
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"{name}: kernel_size {self.kernel}, stride {self.stride} and dilation "
                             f"{self.dilation} must be positive")
        for k, p, d in zip(self.kernel, self.padding, self.dilation):
            if p < 0 or p > (d * (k - 1) + 1) // 2:
                raise ValueError(f"{name}: padding {self.padding} must be at most half the effective kernel "
                                 f"(kernel_size {self.kernel}, dilation {self.dilation})")
        h, w = x.shape[2:]
        ho, wo = (pooled_size(n, k, s, p, d, self.ceil_mode)
                  for n, k, s, p, d in zip((h, w), self.kernel, self.stride, self.padding, self.dilation))
        if ho < 1 or wo < 1:
            raise ShapeError(f"{name}: an input of shape {tuple(x.shape)} gives an output of {ho}×{wo}: kernel_size "
                             f"{self.kernel} with padding {self.padding} and dilation {self.dilation} does not fit")
        return ho, wo

    def padded(self, xp, x, out_hw, fill):
        """x padded by ``fill``: p on the left, on the right p or as far as the last window reaches."""
        pads = [(0, 0), (0, 0)]
        for n, o, k, s, p, d in zip(x.shape[2:], out_hw, self.kernel, self.stride, self.padding, self.dilation):
            reach = (o - 1) * s + d * (k - 1) + 1  # the padded length the windows span
            pads.append((p, max(p, reach - n - p)))
        if not any(before or after for before, after in pads):
            return x
        return xp.pad(x, pads, constant_values=fill)

    def windows(self, xp, xpad, out_hw):
        """(N, C, Ho, Wo, kh, kw) strided view of every window of the padded input (no copy)."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, out_hw
        view = xp.lib.stride_tricks.sliding_window_view(xpad, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
        return view[:, :, : sh * (ho - 1) + 1 : sh, : sw * (wo - 1) + 1 : sw, ::dh, ::dw]

    def add_windows(self, xp, dwin, pad_shape, x_shape):
        """Sum window gradients (N, C, Ho, Wo, kh, kw) onto the padded input (col2im), cut to x_shape."""
        _, _, ho, wo, kh, kw = dwin.shape
        (sh, sw), (dh, dw), (ph, pw) = self.stride, self.dilation, self.padding
        dx = xp.zeros(pad_shape, dtype=dwin.dtype)
        for u in range(kh):
            for v in range(kw):
                r, c = u * dh, v * dw
                dx[:, :, r : r + sh * (ho - 1) + 1 : sh, c : c + sw * (wo - 1) + 1 : sw] += dwin[..., u, v]
        return dx[:, :, ph : ph + x_shape[2], pw : pw + x_shape[3]]


class MaxPool2d(Function):
    """y = max over each window (padding with −∞); dL/dx routes dL/dy to the first maximum of each
    window (to its last NaN where it holds NaN). With ``indices`` (a dict), forward stores the picked
    elements' flat positions per plane as ``indices["flat"]`` (int64, the shape of y)."""

    fresh_grads = True

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, indices=None):
        self.window, self.indices = Window(kernel_size, stride, padding, dilation, ceil_mode), indices

    def forward(self, x):
        xp, win = get_array_module(x), self.window
        out = win.output_hw(x, "max_pool2d")
        xpad = win.padded(xp, x, out, -xp.inf)
        kh, kw = win.kernel
        values = win.windows(xp, xpad, out).reshape(*x.shape[:2], *out, kh * kw)
        nan = xp.isnan(values)
        # the picked offset in each window: its first maximum, or its last NaN
        self.picked = xp.where(nan.any(axis=-1), kh * kw - 1 - nan[..., ::-1].argmax(axis=-1),
                               values.argmax(axis=-1))
        self.x_shape, self.pad_shape = x.shape, xpad.shape
        if self.indices is not None:
            self.indices["flat"] = self.flat_indices(xp, x.shape[3], out)
        return xp.take_along_axis(values, self.picked[..., None], axis=-1)[..., 0]

    def flat_indices(self, xp, width, out_hw):
        """h·W + w of each window's picked element in the unpadded plane."""
        w = self.window
        u, v = self.picked // w.kernel[1], self.picked % w.kernel[1]
        rows = (xp.arange(out_hw[0]) * w.stride[0] - w.padding[0])[:, None] + u * w.dilation[0]
        cols = xp.arange(out_hw[1]) * w.stride[1] - w.padding[1] + v * w.dilation[1]
        return (rows * width + cols).astype(xp.int64)

    def backward(self, gy):
        xp, (kh, kw) = get_array_module(gy), self.window.kernel
        dwin = xp.zeros(gy.shape + (kh * kw,), dtype=gy.dtype)  # dL/d(window element): dL/dy at the picked one
        xp.put_along_axis(dwin, self.picked[..., None], gy[..., None], axis=-1)
        return (self.window.add_windows(xp, dwin.reshape(gy.shape + (kh, kw)), self.pad_shape, self.x_shape),)


class AvgPool2d(Function):
    """y = (1/D) Σ over each window (zero padding), D as in the module docstring;  dL/dx = dL/dy / D
    on every element of the window."""

    fresh_grads = True

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        self.window = Window(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def divisor(self, xp, x, out_hw):
        """D[i, j] for every window, shaped (Ho, Wo), in x's dtype."""
        if self.divisor_override is not None:
            if int(self.divisor_override) == 0:
                raise ValueError("avg_pool2d: divisor_override must be non-zero")
            return xp.full(out_hw, self.divisor_override, dtype=x.dtype)
        counts = []
        for n, o, k, s, p in zip(x.shape[2:], out_hw, self.window.kernel, self.window.stride, self.window.padding):
            start = xp.arange(o) * s - p
            end = xp.minimum(start + k, n + p)  # a window cut to the padded input
            counts.append(end - start if self.count_include_pad else xp.minimum(end, n) - xp.maximum(start, 0))
        return (counts[0][:, None] * counts[1]).astype(x.dtype)

    def forward(self, x):
        xp, win = get_array_module(x), self.window
        out = win.output_hw(x, "avg_pool2d")
        xpad = win.padded(xp, x, out, 0)
        self.d = self.divisor(xp, x, out)
        self.x_shape, self.pad_shape = x.shape, xpad.shape
        return win.windows(xp, xpad, out).sum(axis=(4, 5)) / self.d

    def backward(self, gy):
        xp = get_array_module(gy)
        dwin = xp.broadcast_to((gy / self.d)[..., None, None], gy.shape + self.window.kernel)
        return (self.window.add_windows(xp, dwin, self.pad_shape, self.x_shape),)
