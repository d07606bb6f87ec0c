"""Pooling over 2-D windows of NCHW tensors: max and average.

With k×k windows, stride s and padding p, the windows of the padded input are the strided view
``windows(x_pad)`` of shape (N, C, Ho, Wo, k, k) (no copy), and

    max pooling:      y[n, c, i, j] = max_{u,v} x_pad[n, c, i·s + u, j·s + v]     (padding −∞)
    average pooling:  y[n, c, i, j] = (1/k²) Σ_{u,v} x_pad[n, c, i·s + u, j·s + v]  (padding 0, counted)

Backward: max pooling routes dL/dy[n, c, i, j] to the one element of its window that was picked
— the first maximum in row-major order, as PyTorch routes ties (in a window holding NaN, whose
maximum is NaN, the last NaN, as PyTorch does) — and average pooling gives every element of the
window dL/dy / k². Both then add the windows' gradients back onto the input (col2im, since
windows overlap when s < k).

This is the reference, for every window, stride and padding on any array module. The CPU kernels
(a running maximum over strided views that keeps a channels-last layout, average pooling over
tiles by reshape) are :mod:`nablab.kernels.cpu.pooling`.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .conv import col2im, conv_output_size, windows


def pool_output_size(x, k, s, p, name):
    """(Ho, Wo) of a k×k pool with stride s and padding p over x (N, C, H, W), or a ValueError."""
    if x.ndim != 4:
        raise ValueError(f"{name} expects an (N, C, H, W) input, got shape {tuple(x.shape)}")
    if p > k // 2:
        raise ValueError(f"{name}: padding {p} must be at most half the kernel ({k})")
    _, _, h, w = x.shape
    ho, wo = conv_output_size(h, k, s, p, 1), conv_output_size(w, k, s, p, 1)
    if ho < 1 or wo < 1:
        raise ValueError(f"{name}: a {k}×{k} window does not fit a {h}×{w} input with padding {p}")
    return ho, wo


class MaxPool2d(Function):
    """y = max over each k×k window (stride s, padding p with −∞); dL/dx routes dL/dy to the first
    maximum of each window (to its last NaN where it holds NaN)."""

    fresh_grads = True

    def __init__(self, kernel_size, stride=None, padding=0):
        self.k, self.s, self.p = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        xp = get_array_module(x)
        ho, wo = pool_output_size(x, self.k, self.s, self.p, "max_pool2d")
        p = self.p
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-xp.inf) if p else x
        win = windows(xp, xpad, self.k, self.k, self.s, 1).reshape(*x.shape[:2], ho, wo, self.k * self.k)
        nan = xp.isnan(win)
        # the picked offset in each window: its first maximum, or its last NaN
        self.picked = xp.where(nan.any(axis=-1), self.k * self.k - 1 - nan[..., ::-1].argmax(axis=-1),
                               win.argmax(axis=-1))
        self.x_shape, self.pad_shape = x.shape, xpad.shape
        return xp.take_along_axis(win, self.picked[..., None], axis=-1)[..., 0]

    def backward(self, gy):
        xp = get_array_module(gy)
        k, p = self.k, self.p
        dwin = xp.zeros(gy.shape + (k * k,), dtype=gy.dtype)  # dL/d(window element): dL/dy at the picked one
        xp.put_along_axis(dwin, self.picked[..., None], gy[..., None], axis=-1)
        dx = col2im(xp, dwin.reshape(gy.shape + (k, k)), self.pad_shape, self.s, 1)
        return (dx[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dx,)


class AvgPool2d(Function):
    """y = mean of each k×k window (zero padding included in the count);  dL/dx = dL/dy / k² per window."""

    fresh_grads = True

    def __init__(self, kernel_size, stride=None, padding=0):
        self.k, self.s, self.p = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        xp = get_array_module(x)
        pool_output_size(x, self.k, self.s, self.p, "avg_pool2d")
        p = self.p
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        self.x_shape, self.pad_shape = x.shape, xpad.shape
        return windows(xp, xpad, self.k, self.k, self.s, 1).mean(axis=(4, 5))

    def backward(self, gy):
        xp = get_array_module(gy)
        k, p = self.k, self.p
        dwin = xp.broadcast_to((gy / (k * k))[..., None, None], gy.shape + (k, k))
        dx = col2im(xp, dwin, self.pad_shape, self.s, 1)
        return (dx[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dx,)
