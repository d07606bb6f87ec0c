"""2-D convolution (cross-correlation, as every framework computes it), NCHW, through im2col.

For input x (N, C, H, W), weight w (O, C/g, kh, kw), stride (sh, sw), padding (ph, pw), dilation
(dh, dw) and g groups:

    y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x_pad[n, g(o)·C/g + c, i·sh + u·dh, j·sw + v·dw]

with Ho = ⌊(H + 2ph − dh(kh − 1) − 1) / sh⌋ + 1 (likewise Wo). Each of stride, padding and
dilation is an int (the same for both axes) or a pair (height, width).

Forward (im2col): the windows of the padded input are a strided view (``sliding_window_view``,
no copy); one copy gathers them into the column matrix ``cols`` of shape (N·Ho·Wo) × (C/g·kh·kw),
one row per output position, and one GEMM per group multiplies it with the weight matrix
W (O/g × C/g·kh·kw):  Y = cols · Wᵀ.  Backward, with G = dL/dy as an (N·Ho·Wo) × O/g matrix
per group:

    dL/dW = Gᵀ · cols            dL/db = Σ_{n,i,j} G
    dL/dcols = G · W             dL/dx = col2im(dL/dcols)

where col2im adds every window's gradient back onto the input positions it was read from
(windows overlap when the stride is smaller than the kernel). The transposed convolution
(:mod:`nablab.ops.conv_transpose`) is the same three products in the other roles, from the
helpers below.

This is the reference: every shape, stride, padding, dilation and group count goes through it,
on any array module. The CPU kernel for the common stride-1 convolutions (channels-last, in
cache-sized chunks, dL/dx as a transposed convolution) is :mod:`nablab.kernels.cpu.conv`.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function


def pair(value) -> tuple:
    """An int or a pair of ints as the pair (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"expected an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(xp, x, kh, kw, stride, dilation):
    """(N, C, Ho, Wo, kh, kw) strided view of every kernel window of the (padded) input x;
    ``stride`` and ``dilation`` are ints or (height, width) pairs."""
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    view = xp.lib.stride_tricks.sliding_window_view(x, (span_h, span_w), axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def col2im(xp, dcols, shape, stride, dilation):
    """Sum window gradients (N, C, Ho, Wo, kh, kw) back onto an input of ``shape`` (N, C, Hp, Wp):
    one strided slice per kernel offset (u, v)."""
    _, _, ho, wo, kh, kw = dcols.shape
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    dx = xp.zeros(shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            r, c = u * dh, v * dw
            dx[:, :, r : r + sh * (ho - 1) + 1 : sh, c : c + sw * (wo - 1) + 1 : sw] += dcols[..., u, v]
    return dx


def check_conv_shapes(x, w, stride, padding, dilation, groups):
    """(Ho, Wo) of the convolution, or a ShapeError naming what does not fit."""
    if x.ndim != 4 or w.ndim != 4:
        raise ShapeError(f"conv2d expects an (N, C, H, W) input and an (O, C/groups, kh, kw) weight, got shapes "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    (_, c, h, wd), (o, cg, kh, kw) = x.shape, w.shape
    if c != cg * groups or o % groups:
        raise ShapeError(f"conv2d: input has {c} channels (shape {tuple(x.shape)}), the weight {tuple(w.shape)} "
                         f"with groups={groups} expects {cg * groups} (and out channels divisible by groups)")
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    ho = conv_output_size(h, kh, sh, ph, dh)
    wo = conv_output_size(wd, kw, sw, pw, dw)
    if ho < 1 or wo < 1:
        raise ShapeError(f"conv2d: a {kh}×{kw} kernel (dilation {dilation}) does not fit a {h}×{wd} input with "
                         f"padding {padding}")
    return ho, wo


def pad_spatial(xp, x, padding):
    """x (N, C, H, W) with ph zero rows above and below and pw zero columns left and right."""
    ph, pw = pair(padding)
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x


def columns(xp, xpad, kh, kw, stride, dilation, groups):
    """The column matrices (G, N·Ho·Wo, C/g·kh·kw) of a padded input: one row per output position
    and group, holding the window it reads (one copy of the window view)."""
    n, c = xpad.shape[:2]
    win = windows(xp, xpad, kh, kw, stride, dilation)  # (N, G·C/g, Ho, Wo, kh, kw)
    ho, wo = win.shape[2:4]
    cols = win.reshape(n, groups, c // groups, ho, wo, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
    return cols.reshape(groups, n * ho * wo, c // groups * kh * kw)  # a copy, unless the windows lie so in x


def rows(a, groups):
    """(N, O, H, W) as its per-group matrices (G, N·H·W, O/g): one row per position."""
    n, o, h, w = a.shape
    return a.reshape(n, groups, o // groups, h, w).transpose(1, 0, 3, 4, 2).reshape(groups, n * h * w, o // groups)


def from_rows(m, n, h, w):
    """The inverse of :func:`rows`: (G, N·H·W, O/g) back to (N, O, H, W)."""
    g, _, og = m.shape
    return m.reshape(g, n, h, w, og).transpose(1, 0, 4, 2, 3).reshape(n, g * og, h, w)


def columns_to_image(xp, dcols, shape, kh, kw, h, w, stride, dilation):
    """col2im of per-group column gradients (G, N·H·W, C/g·kh·kw) onto a padded input of ``shape``
    (N, C, Hp, Wp), where (h, w) are the window counts."""
    g, _, width = dcols.shape
    n, cg = shape[0], width // (kh * kw)
    dcols = dcols.reshape(g, n, h, w, cg, kh, kw).transpose(1, 0, 4, 2, 3, 5, 6)
    return col2im(xp, dcols.reshape(n, g * cg, h, w, kh, kw), shape, stride, dilation)


def weight_matrices(w, groups):
    """w (O, C/g, kh, kw) as per-group matrices (G, O/g, C/g·kh·kw)."""
    o = w.shape[0]
    return w.reshape(groups, o // groups, -1)


class Conv2d(Function):
    """y = conv2d(x, w) + b; see the module docstring for the math of forward and backward."""

    fresh_grads = True

    def __init__(self, stride=1, padding=0, dilation=1, groups=1):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        ho, wo = check_conv_shapes(x, w, self.stride, self.padding, self.dilation, self.groups)
        n, o, (_, _, kh, kw) = x.shape[0], w.shape[0], w.shape
        xpad = pad_spatial(xp, x, self.padding)
        cols = columns(xp, xpad, kh, kw, self.stride, self.dilation, self.groups)
        y = from_rows(cols @ weight_matrices(w, self.groups).transpose(0, 2, 1), n, ho, wo)
        if b is not None:
            y = y + b.reshape(1, o, 1, 1)
        self.cols, self.w, self.x_shape, self.pad_shape = cols, w, x.shape, xpad.shape
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        _, _, ho, wo = gy.shape
        kh, kw = self.w.shape[2:]
        need = self.needs_input_grad
        gmat = rows(gy, self.groups)
        gx = gw = gb = None
        if need[1]:
            gw = (gmat.transpose(0, 2, 1) @ self.cols).reshape(self.w.shape)
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        if need[0]:
            dcols = gmat @ weight_matrices(self.w, self.groups)  # (G, N·Ho·Wo, C/g·kh·kw)
            dx = columns_to_image(xp, dcols, self.pad_shape, kh, kw, ho, wo, self.stride, self.dilation)
            (ph, pw), (h, w) = pair(self.padding), self.x_shape[2:]
            gx = dx[:, :, ph : ph + h, pw : pw + w] if ph or pw else dx
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)
