"""2-D convolution (cross-correlation, as every framework computes it), NCHW, through im2col.

For input x (N, C, H, W), weight w (O, C/g, kh, kw), stride s, padding p, dilation d and g groups:

    y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x_pad[n, g(o)·C/g + c, i·s + u·d, j·s + v·d]

with Ho = ⌊(H + 2p − d(kh − 1) − 1) / s⌋ + 1 (likewise Wo).

Forward (im2col): the windows of the padded input are a strided view (``sliding_window_view``,
no copy); one copy gathers them into the column matrix ``cols`` of shape (N·Ho·Wo) × (C/g·kh·kw),
one row per output position, and one GEMM per group multiplies it with the weight matrix
W (O/g × C/g·kh·kw):  Y = cols · Wᵀ.  Backward, with G = dL/dy as an (N·Ho·Wo) × O/g matrix
per group:

    dL/dW = Gᵀ · cols            dL/db = Σ_{n,i,j} G
    dL/dcols = G · W             dL/dx = col2im(dL/dcols)

where col2im adds every window's gradient back onto the input positions it was read from
(windows overlap when the stride is smaller than the kernel).

This is the reference: every shape, stride, padding, dilation and group count goes through it,
on any array module. The CPU kernel for the common stride-1 convolutions (channels-last, in
cache-sized chunks, dL/dx as a transposed convolution) is :mod:`nablab.kernels.cpu.conv`.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(xp, x, kh, kw, stride, dilation):
    """(N, C, Ho, Wo, kh, kw) strided view of every kernel window of the (padded) input x."""
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    view = xp.lib.stride_tricks.sliding_window_view(x, (span_h, span_w), axis=(2, 3))
    return view[:, :, ::stride, ::stride, ::dilation, ::dilation]


def col2im(xp, dcols, shape, stride, dilation):
    """Sum window gradients (N, C, Ho, Wo, kh, kw) back onto an input of ``shape`` (N, C, Hp, Wp):
    one strided slice per kernel offset (u, v)."""
    _, _, ho, wo, kh, kw = dcols.shape
    dx = xp.zeros(shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            r, c = u * dilation, v * dilation
            dx[:, :, r : r + stride * (ho - 1) + 1 : stride, c : c + stride * (wo - 1) + 1 : stride] += dcols[..., u, v]
    return dx


def check_conv_shapes(x, w, stride, padding, dilation, groups):
    """(Ho, Wo) of the convolution, or a ValueError naming what does not fit."""
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv2d expects an (N, C, H, W) input and an (O, C/groups, kh, kw) weight, got shapes "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    (_, c, h, wd), (o, cg, kh, kw) = x.shape, w.shape
    if c != cg * groups or o % groups:
        raise ValueError(f"conv2d: input has {c} channels, the weight {tuple(w.shape)} with groups={groups} "
                         f"expects {cg * groups} (and out channels divisible by groups)")
    ho = conv_output_size(h, kh, stride, padding, dilation)
    wo = conv_output_size(wd, kw, stride, padding, dilation)
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: a {kh}×{kw} kernel (dilation {dilation}) does not fit a {h}×{wd} input with "
                         f"padding {padding}")
    return ho, wo


class Conv2d(Function):
    """y = conv2d(x, w) + b; see the module docstring for the math of forward and backward."""

    fresh_grads = True

    def __init__(self, stride=1, padding=0, dilation=1, groups=1):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        ho, wo = check_conv_shapes(x, w, self.stride, self.padding, self.dilation, self.groups)
        n, g, p = x.shape[0], self.groups, self.padding
        o, cg, kh, kw = w.shape
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        # windows (N, G·C/g, Ho, Wo, kh, kw) → cols (G, N·Ho·Wo, C/g·kh·kw): one copy
        win = windows(xp, xpad, kh, kw, self.stride, self.dilation)
        cols = win.reshape(n, g, cg, ho, wo, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
        cols = cols.reshape(g, n * ho * wo, cg * kh * kw)  # a copy, unless the windows already lie so in x
        y = cols @ w.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1)  # (G, N·Ho·Wo, O/g)
        y = y.reshape(g, n, ho, wo, o // g).transpose(1, 0, 4, 2, 3).reshape(n, o, ho, wo)
        if b is not None:
            y = y + b.reshape(1, o, 1, 1)
        self.cols, self.w, self.x_shape, self.pad_shape = cols, w, x.shape, xpad.shape
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        n, o, ho, wo = gy.shape
        g = self.groups
        _, cg, kh, kw = self.w.shape
        need = self.needs_input_grad
        gmat = gy.reshape(n, g, o // g, ho, wo).transpose(1, 0, 3, 4, 2).reshape(g, n * ho * wo, o // g)
        gx = gw = gb = None
        if need[1]:
            gw = (gmat.transpose(0, 2, 1) @ self.cols).reshape(self.w.shape)
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        if need[0]:
            dcols = gmat @ self.w.reshape(g, o // g, cg * kh * kw)  # (G, N·Ho·Wo, C/g·kh·kw)
            dcols = dcols.reshape(g, n, ho, wo, cg, kh, kw).transpose(1, 0, 4, 2, 3, 5, 6)
            dx = col2im(xp, dcols.reshape(n, g * cg, ho, wo, kh, kw), self.pad_shape, self.stride, self.dilation)
            p = self.padding
            gx = dx[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dx
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)
