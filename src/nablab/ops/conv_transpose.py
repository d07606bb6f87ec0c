"""2-D transposed convolution (``conv_transpose2d``, "deconvolution"), NCHW: the input-gradient of a
convolution, run forward.

For input x (N, C_in, H, W), weight w (C_in, C_out/g, kh, kw), stride s, padding p, output padding
q, dilation d and g groups (each an int or a (height, width) pair), every input pixel scatters its
kernel-weighted copy onto the output:

    y_full[n, g(c)·C_out/g + o, i·s + u·d, j·s + v·d] += x[n, c, i, j] · w[c, o, u, v]
    y = y_full[:, :, p : p + Ho, p : p + Wo] + b,    Ho = (H − 1)·s − 2p + d(kh − 1) + q + 1

(likewise Wo): y_full is the zero-padded input of the convolution whose dL/dx this is, with q extra
rows and columns at the end that no window reaches. So the forward is the convolution's backward
to its input, col2im of the columns X · W (X the (N·H·W) × C_in/g matrix of x per group, W the
C_in/g × (C_out/g·kh·kw) weight matrix), and the backward is the convolution's forward: with
``cols`` the windows of dL/dy padded by p (the (N·H·W) × (C_out/g·kh·kw) column matrix),

    dL/dx = cols · Wᵀ          dL/dW = Xᵀ · cols          dL/db = Σ_{n,i,j} dL/dy

The helpers are those of :mod:`nablab.ops.conv`.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function
from .conv import columns, columns_to_image, from_rows, pad_spatial, pair, rows, weight_matrices


def transposed_output_size(size, kernel, stride, padding, output_padding, dilation) -> int:
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def check_transposed_shapes(x, w, stride, padding, output_padding, dilation, groups):
    """(Ho, Wo) of the transposed convolution, or a ShapeError (ValueError) naming what does not fit."""
    if x.ndim != 4 or w.ndim != 4:
        raise ShapeError(f"conv_transpose2d expects an (N, C_in, H, W) input and a (C_in, C_out/groups, kh, kw) "
                         f"weight, got shapes {tuple(x.shape)} and {tuple(w.shape)}")
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise ShapeError(f"conv_transpose2d: input has {x.shape[1]} channels (shape {tuple(x.shape)}), the weight "
                         f"{tuple(w.shape)} expects {w.shape[0]} (divisible by groups={groups})")
    (sh, sw), (ph, pw), (qh, qw), (dh, dw) = pair(stride), pair(padding), pair(output_padding), pair(dilation)
    if not (qh < max(sh, dh) and qw < max(sw, dw)):
        raise ValueError(f"conv_transpose2d: output padding must be smaller than either stride or dilation, got "
                         f"output_padding {output_padding}, stride {stride}, dilation {dilation}")
    (h, wd), (kh, kw) = x.shape[2:], w.shape[2:]
    ho, wo = transposed_output_size(h, kh, sh, ph, qh, dh), transposed_output_size(wd, kw, sw, pw, qw, dw)
    if ho < 1 or wo < 1:
        raise ShapeError(f"conv_transpose2d: padding {padding} leaves no output of a {h}×{wd} input and a "
                         f"{kh}×{kw} kernel (the output would be {ho}×{wo})")
    return ho, wo


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b; see the module docstring for the math of forward and backward."""

    fresh_grads = True

    def __init__(self, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.dilation, self.groups = dilation, groups

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        ho, wo = check_transposed_shapes(x, w, self.stride, self.padding, self.output_padding, self.dilation,
                                         self.groups)
        (n, _, h, wd), (_, cog, kh, kw) = x.shape, w.shape
        (ph, pw), g = pair(self.padding), self.groups
        xmat = rows(x, g)  # (G, N·H·W, C_in/g)
        full_shape = (n, g * cog, ho + 2 * ph, wo + 2 * pw)
        full = columns_to_image(xp, xmat @ weight_matrices(w, g), full_shape, kh, kw, h, wd, self.stride,
                                self.dilation)
        y = full[:, :, ph : ph + ho, pw : pw + wo]
        if b is not None:
            y = y + b.reshape(1, -1, 1, 1)
        self.xmat, self.w, self.x_shape = xmat, w, x.shape
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        (n, _, h, wd), (_, _, kh, kw) = self.x_shape, self.w.shape
        (sh, sw), (dh, dw), g = pair(self.stride), pair(self.dilation), self.groups
        need = self.needs_input_grad
        # the padded dL/dy without the output padding's rows and columns, which no window reads
        reach_h, reach_w = (h - 1) * sh + dh * (kh - 1) + 1, (wd - 1) * sw + dw * (kw - 1) + 1
        gpad = pad_spatial(xp, gy, self.padding)[:, :, :reach_h, :reach_w]
        cols = columns(xp, gpad, kh, kw, self.stride, self.dilation, g)  # (G, N·H·W, C_out/g·kh·kw)
        gx = gw = gb = None
        if need[0]:
            gx = from_rows(cols @ weight_matrices(self.w, g).transpose(0, 2, 1), n, h, wd)
        if need[1]:
            gw = (self.xmat.transpose(0, 2, 1) @ cols).reshape(self.w.shape)
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)
