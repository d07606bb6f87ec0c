"""2-D convolution (cross-correlation, as every framework computes it), NCHW, through im2col.

For input x (N, C, H, W), weight w (O, C/g, kh, kw), stride s, padding p, dilation d and g groups:

    y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x_pad[n, g(o)·C/g + c, i·s + u·d, j·s + v·d]

Forward: the windows of the padded input are a strided view (``sliding_window_view``, no copy);
one copy gathers them into the column matrix (N·Ho·Wo) × (C/g·kh·kw), and one GEMM per group
multiplies it with the weight matrix. Backward, with G = dL/dy as an (N·Ho·Wo) × O matrix:

    dL/dw = Gᵀ · cols            dL/db = Σ_{n,i,j} G
    dL/dcols = G · W             dL/dx = col2im(dL/dcols)

where col2im adds every window's gradient back onto the input positions it was read from
(windows overlap when the stride is smaller than the kernel); it loops over the kh·kw kernel
offsets, adding one strided slice each.

Fast path (stride 1, no dilation, one group, square kernel, padding ≤ k − 1 — every 3×3 "same"
convolution): the op works channels-last inside. The padded input is copied once to NHWC, where
a window row of kw pixels × C channels is contiguous, so the column copy moves long runs; the
GEMM's (N·Ho·Wo) × O result already is NHWC and is returned as an NCHW-shaped view. dL/dx is
computed as the transposed convolution — the windows of the zero-padded dL/dy times the
flipped kernel — which replaces the column gradient and the col2im scatter by one window copy
and one GEMM:

    dL/dx[n, i, j, c] = Σ_{o,u,v} dL/dy_pad[n, i + u, j + v, o] · w[o, c, k−1−u, k−1−v]

On the CPU the fast path builds and multiplies the columns a few images at a time (about
:data:`CHUNK_BYTES` of columns), so each chunk is still in cache when its GEMM reads it, and dL/dw
is summed over the chunks; the padded copies and the column chunks live in :mod:`nablab.scratch`
buffers that every step reuses instead of mapping fresh pages.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from ..scratch import scratch


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(xp, x, kh, kw, stride, dilation):
    """(N, C, Ho, Wo, kh, kw) strided view of every kernel window of the (padded) input x."""
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    view = xp.lib.stride_tricks.sliding_window_view(x, (span_h, span_w), axis=(2, 3))
    return view[:, :, ::stride, ::stride, ::dilation, ::dilation]


def col2im(xp, dcols, shape, stride, dilation):
    """Sum window gradients (N, C, Ho, Wo, kh, kw) back onto an input of ``shape`` (N, C, Hp, Wp)."""
    _, _, ho, wo, kh, kw = dcols.shape
    dx = xp.zeros(shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            r, c = u * dilation, v * dilation
            dx[:, :, r : r + stride * (ho - 1) + 1 : stride, c : c + stride * (wo - 1) + 1 : stride] += dcols[..., u, v]
    return dx


#: column bytes per chunk of images on the CPU: a chunk's columns stay in cache between the copy
#: that fills them and the GEMM that reads them
CHUNK_BYTES = 4 * 2**20


def _image_chunks(xp, n, bytes_per_image):
    """(start, stop) ranges of images whose columns are computed and multiplied together: chunks of
    about :data:`CHUNK_BYTES` with NumPy, the whole batch on a GPU (which wants one large GEMM)."""
    step = n if xp.__name__ != "numpy" else max(1, CHUNK_BYTES // max(bytes_per_image, 1))
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def fill_border(a, p, value) -> None:
    """Set the border of width p of a's last two axes (…, H, W) to ``value``."""
    a[..., :p, :] = value
    a[..., a.shape[-2] - p :, :] = value
    a[..., p : a.shape[-2] - p, :p] = value
    a[..., p : a.shape[-2] - p, a.shape[-1] - p :] = value


def _nhwc_padded(xp, x, p):
    """x (N, C, H, W) copied into a zero-bordered (N, H+2p, W+2p, C) scratch array."""
    n, c, h, w = x.shape
    out = scratch(xp, "padded copy", (n, h + 2 * p, w + 2 * p, c), x.dtype)
    if p:
        fill_border(out.transpose(0, 3, 1, 2), p, 0)
    out[:, p : p + h, p : p + w, :] = x.transpose(0, 2, 3, 1)
    return out


def _nhwc_columns(xp, xpad, k, ho, wo, reuse=True):
    """The (N·Ho·Wo) × (k·k·C) column matrix of a contiguous NHWC array: one copy of a window view
    whose innermost run (k pixels × C channels of one row) is contiguous. A scratch array when
    ``reuse`` (the columns are used only inside the op), else a new one."""
    n, _, _, c = xpad.shape
    sn, sh, sw, sc = xpad.strides
    view = xp.lib.stride_tricks.as_strided(xpad, (n, ho, wo, k, k * c), (sn, sh, sw, sh, sc))
    if reuse:
        cols = scratch(xp, "im2col columns", view.shape, xpad.dtype)
        cols[...] = view
    else:  # always a copy: for k = 1 the view is contiguous, and it views the scratch padded copy
        cols = view.copy()
    return cols.reshape(n * ho * wo, k * k * c)


class Conv2d(Function):
    """y = conv2d(x, w) + b; see the module docstring for the math of forward and backward."""

    fresh_grads = True

    def __init__(self, stride=1, padding=0, dilation=1, groups=1):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def _fast(self, w):
        k = w.shape[2]
        return (self.stride == 1 and self.dilation == 1 and self.groups == 1 and w.shape[3] == k
                and self.padding <= k - 1)

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        self.fast = self._fast(w) and x.ndim == 4 and x.shape[1] == w.shape[1]
        if self.fast:
            return self._forward_nhwc(xp, x, w, b)
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        g, p = self.groups, self.padding
        if c != cg * g:
            raise ValueError(f"conv2d: input has {c} channels, the weight {tuple(w.shape)} with groups={g} "
                             f"expects {cg * g}")
        ho = conv_output_size(h, kh, self.stride, p, self.dilation)
        wo = conv_output_size(wd, kw, self.stride, p, self.dilation)
        if ho < 1 or wo < 1:
            raise ValueError(f"conv2d: a {kh}×{kw} kernel (dilation {self.dilation}) does not fit a {h}×{wd} "
                             f"input with padding {p}")
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        # (N, Ho, Wo, G, C/g, kh, kw) → (G, N·Ho·Wo, C/g·kh·kw): one contiguous copy
        win = windows(xp, xpad, kh, kw, self.stride, self.dilation)
        cols = win.reshape(n, g, cg, ho, wo, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
        cols = xp.ascontiguousarray(cols).reshape(g, n * ho * wo, cg * kh * kw)
        wmat = w.reshape(g, o // g, cg * kh * kw)
        y = cols @ wmat.transpose(0, 2, 1)  # (G, N·Ho·Wo, O/g)
        y = y.reshape(g, n, ho, wo, o // g).transpose(1, 0, 4, 2, 3).reshape(n, o, ho, wo)
        if b is not None:
            y = y + b.reshape(1, o, 1, 1)
        self.cols, self.w, self.x_shape, self.pad_shape = cols, w, x.shape, xpad.shape
        return y

    def _forward_nhwc(self, xp, x, w, b):
        n, c, h, wd = x.shape
        o, _, k, _ = w.shape
        p = self.padding
        ho, wo = h + 2 * p - k + 1, wd + 2 * p - k + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"conv2d: a {k}×{k} kernel does not fit a {h}×{wd} input with padding {p}")
        # keep the columns only where they are no larger than the output (a first layer on few
        # channels); otherwise keep x, and take dL/dw from the windows dL/dx is built from
        self.saved_cols = k * k * c <= o
        xpad = _nhwc_padded(xp, x, p)
        # (O, k·k·C) rows, used transposed: a per-filter reordering is much cheaper to copy than (k·k·C, O)
        wmat = xp.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(o, k * k * c).T
        if self.saved_cols:
            cols = _nhwc_columns(xp, xpad, k, ho, wo, reuse=False)
            y = cols @ wmat  # (N·Ho·Wo, O): NHWC
        else:
            y = xp.empty((n * ho * wo, o), dtype=xp.result_type(x, w))
            for i0, i1 in _image_chunks(xp, n, ho * wo * k * k * c * x.itemsize):
                cols = _nhwc_columns(xp, xpad[i0:i1], k, ho, wo)
                xp.matmul(cols, wmat, out=y[i0 * ho * wo : i1 * ho * wo])
        if b is not None:
            y += b
        self.cols = cols if self.saved_cols else None
        self.x = None if self.saved_cols else x
        self.w, self.x_shape = w, x.shape
        return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    def _backward_nhwc(self, xp, gy):
        n, o, ho, wo = gy.shape
        _, c, h, wd = self.x_shape
        k = self.w.shape[2]
        need = self.needs_input_grad
        g = gy.transpose(0, 2, 3, 1)  # NHWC (a free view when gy came from this fast path)
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = g.sum(axis=(0, 1, 2))
        if need[1] and self.saved_cols:
            gmat = xp.ascontiguousarray(g).reshape(n * ho * wo, o)
            gw = (gmat.T @ self.cols).reshape(o, k, k, c).transpose(0, 3, 1, 2).copy()
        if need[0] or (need[1] and not self.saved_cols):
            # windows of the zero-padded dL/dy, one row per input position (n, a, b)
            q = k - 1 - self.padding
            gpad = _nhwc_padded(xp, gy, q)
            rows = h * wd  # one row of dL/dy windows per input position (n, a, b)
            if need[0]:
                wflip = self.w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(k * k * o, c)
                gx = xp.empty((n * rows, c), dtype=xp.result_type(gy, self.w))
            take_gw = need[1] and not self.saved_cols
            xmat = xp.ascontiguousarray(self.x.transpose(0, 2, 3, 1)).reshape(n * rows, c) if take_gw else None
            gwt = None  # Σ_{n,a,b} gcols[(n, a, b), (u', v', o)] · x[n, c, a, b], accumulated over the chunks
            for i0, i1 in _image_chunks(xp, n, rows * k * k * o * gy.itemsize):
                gcols = _nhwc_columns(xp, gpad[i0:i1], k, h, wd)
                if need[0]:
                    xp.matmul(gcols, wflip, out=gx[i0 * rows : i1 * rows])
                if take_gw:
                    part = gcols.T @ xmat[i0 * rows : i1 * rows]
                    gwt = part if gwt is None else xp.add(gwt, part, out=gwt)
            if need[0]:
                gx = gx.reshape(n, h, wd, c).transpose(0, 3, 1, 2)
            if take_gw:
                # dL/dw[o, c, u, v] = gwt[(k−1−u, k−1−v, o), c]
                gw = gwt.reshape(k, k, o, c)[::-1, ::-1].transpose(2, 3, 0, 1).copy()
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.fast:
            return self._backward_nhwc(xp, gy)
        n, o, ho, wo = gy.shape
        g = self.groups
        _, cg, kh, kw = self.w.shape
        need = self.needs_input_grad
        # (N, O, Ho, Wo) → (G, N·Ho·Wo, O/g)
        gmat = gy.reshape(n, g, o // g, ho, wo).transpose(1, 0, 3, 4, 2).reshape(g, n * ho * wo, o // g)
        gx = gw = gb = None
        if need[1]:
            gw = (gmat.transpose(0, 2, 1) @ self.cols).reshape(self.w.shape)
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        if need[0]:
            dcols = gmat @ self.w.reshape(g, o // g, cg * kh * kw)  # (G, N·Ho·Wo, C/g·kh·kw)
            dcols = dcols.reshape(g, n, ho, wo, cg, kh, kw).transpose(1, 0, 4, 2, 3, 5, 6)
            dcols = dcols.reshape(n, g * cg, ho, wo, kh, kw)
            dx = col2im(xp, dcols, self.pad_shape, self.stride, self.dilation)
            p = self.padding
            gx = dx[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dx
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)
