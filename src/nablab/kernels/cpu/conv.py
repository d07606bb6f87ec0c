"""CPU kernels for the common convolutions, channels-last inside: the stride-1 convolutions (every 3×3
"same" convolution, "valid" convolutions, the 1 × k kernels of a 1-D convolution) with columns in
cache-sized chunks and dL/dx as a transposed convolution, and the 1×1 convolutions of any stride as
one GEMM over the (subsampled) pixels. They compute :class:`nablab.ops.Conv2d` (the reference, with
the math) for the calls :func:`handles` and :func:`handles_1x1` accept, and keep the channels-last
layout from one layer to the next (an NCHW-shaped view of NHWC memory), so element-wise layers in
between never mix layouts.

The padded input is copied once to NHWC, where a window row of kw pixels × C channels is
contiguous, so the column copy moves long runs; the GEMM's (N·Ho·Wo) × O result already is NHWC and
is returned as an NCHW-shaped view. dL/dx is the transposed convolution — the windows of the
zero-padded dL/dy times the flipped kernel — which replaces the column gradient and the col2im scatter
by one window copy and one GEMM:

    dL/dx[n, i, j, c] = Σ_{o,u,v} dL/dy_pad[n, i + u, j + v, o] · w[o, c, kh−1−u, kw−1−v]

with dL/dy padded by kh − 1 − ph above and below and kw − 1 − pw left and right. The columns are
built and multiplied a few images at a time (about :data:`CHUNK_BYTES` of columns), so each chunk
is still in cache when its GEMM reads it, and dL/dw is summed over the chunks; the padded copies
and the column chunks live in :mod:`nablab.scratch` buffers that every step reuses instead of
mapping fresh pages. What the node keeps for backward is never scratch memory: the input x, or
(where the columns are no larger than the output, a first layer on few channels) a column matrix of
its own.
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from ...ops.conv import pair
from ...scratch import scratch
from .channels_last import channel_sum, per_channel

#: column bytes per chunk of images: a chunk's columns stay in cache between the copy that fills
#: them and the GEMM that reads them
CHUNK_BYTES = 4 * 2**20
#: scratch buffers the chunks' columns take in turn. With one, the main thread writes each chunk's
#: columns into the lines that the BLAS worker read from the chunk before; on the 2-core AMD host,
#: in the spells when the host runs it slowly (see BENCHMARKS.md), that one buffer made W6's 32→64
#: convolution 2.2× slower (24 against 11 ms), four in turn 1.15× (14.5 against 12.6 ms)
COLUMN_BUFFERS = 4


def _ints(*params) -> bool:
    """True when every parameter is a plain int (the same for both axes): the kernels below read them so;
    (height, width) pairs go to the reference."""
    return all(type(p) is int for p in params)


def _int_or_int_pair(p) -> bool:
    """A plain int or a pair of plain ints (the kernels read padding per axis; anything else goes to
    the reference)."""
    return type(p) is int or (type(p) is tuple and len(p) == 2 and _ints(*p))


def handles(x, w, b=None, *, stride, padding, dilation, groups):
    """Stride 1, no dilation, one group (ints), any kernel kh × kw with padding (an int or a pair)
    ph ≤ kh − 1, pw ≤ kw − 1, NumPy arrays that fit, a batch that is not empty."""
    if not (_ints(stride, dilation) and _int_or_int_pair(padding)):
        return False
    ph, pw = pair(padding)
    return (stride == 1 and dilation == 1 and groups == 1
            and type(x) is np.ndarray and x.ndim == 4 and x.shape[0] > 0 and w.ndim == 4
            and 0 <= ph <= w.shape[2] - 1 and 0 <= pw <= w.shape[3] - 1 and x.shape[1] == w.shape[1]
            and x.shape[2] + 2 * ph >= w.shape[2] and x.shape[3] + 2 * pw >= w.shape[3])


def fill_border(a, p, value) -> None:
    """Set the border of a's last two axes (…, H, W) to ``value``: p rows above and below and p
    columns left and right, or (ph, pw) of each (scratch memory holds whatever was there before, so
    a padded copy writes its border every time)."""
    ph, pw = pair(p)
    h, w = a.shape[-2:]
    a[..., :ph, :] = value
    a[..., h - ph :, :] = value
    a[..., ph : h - ph, :pw] = value
    a[..., ph : h - ph, w - pw :] = value


def handles_1x1(x, w, b=None, *, stride, padding, dilation, groups):
    """A 1×1 kernel, any (int) stride, no padding, one group, on NumPy arrays (dilation does not matter for
    k = 1)."""
    return (_ints(stride, padding) and padding == 0 and groups == 1 and type(x) is np.ndarray and x.ndim == 4
            and w.ndim == 4 and w.shape[2] == w.shape[3] == 1 and x.shape[1] == w.shape[1])


def _image_chunks(n, bytes_per_image):
    """(start, stop) ranges of images whose columns are computed and multiplied together."""
    step = max(1, CHUNK_BYTES // max(bytes_per_image, 1))
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def _nhwc_padded(x, ph, pw):
    """x (N, C, H, W) copied into a zero-bordered (N, H+2ph, W+2pw, C) scratch array."""
    n, c, h, w = x.shape
    out = scratch(np, "padded copy", (n, h + 2 * ph, w + 2 * pw, c), x.dtype)
    if ph or pw:
        fill_border(out.transpose(0, 3, 1, 2), (ph, pw), 0)
    out[:, ph : ph + h, pw : pw + w, :] = x.transpose(0, 2, 3, 1)
    return out


def _nhwc_columns(xpad, kh, kw, ho, wo, keep=False, chunk=0):
    """The (N·Ho·Wo) × (kh·kw·C) column matrix of a contiguous NHWC array: one copy of a window view
    whose innermost run (kw pixels × C channels of one row) is contiguous. Scratch memory, used only
    inside the op (the ``chunk``-th of a loop over chunks: :data:`COLUMN_BUFFERS` buffers in turn),
    unless ``keep``: then a new array of its own (for a 1×1 window the view is itself contiguous, a
    view of the scratch ``xpad``, so it is always copied)."""
    n, _, _, c = xpad.shape
    sn, sh, sw, sc = xpad.strides
    view = np.lib.stride_tricks.as_strided(xpad, (n, ho, wo, kh, kw * c), (sn, sh, sw, sh, sc))
    if keep:
        cols = view.copy()
    else:
        cols = scratch(np, f"im2col columns {chunk % COLUMN_BUFFERS}", view.shape, xpad.dtype)
        cols[...] = view
    return cols.reshape(n * ho * wo, kh * kw * c)


class Conv2dNHWC(ops.Conv2d):
    """:class:`nablab.ops.Conv2d` for the calls :func:`handles` accepts, channels-last inside."""

    def forward(self, x, w, b=None):
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        ph, pw = pair(self.padding)
        ho, wo = h + 2 * ph - kh + 1, wd + 2 * pw - kw + 1
        # keep the columns only where they are no larger than the output (a first layer on few
        # channels); otherwise keep x, and take dL/dw from the windows dL/dx is built from
        self.saved_cols = kh * kw * c <= o
        xpad = _nhwc_padded(x, ph, pw)
        # (O, kh·kw·C) rows, used transposed: a per-filter reordering is much cheaper to copy than (kh·kw·C, O)
        wmat = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(o, kh * kw * c).T
        if self.saved_cols:
            cols = _nhwc_columns(xpad, kh, kw, ho, wo, keep=True)
            y = cols @ wmat  # (N·Ho·Wo, O): NHWC
        else:
            y = np.empty((n * ho * wo, o), dtype=np.result_type(x, w))
            for i, (i0, i1) in enumerate(_image_chunks(n, ho * wo * kh * kw * c * x.itemsize)):
                np.matmul(_nhwc_columns(xpad[i0:i1], kh, kw, ho, wo, chunk=i), wmat,
                          out=y[i0 * ho * wo : i1 * ho * wo])
        if b is not None:
            per_channel(np.add, y, b, y)  # y is (N·Ho·Wo, O): the bias along long rows
        self.cols = cols if self.saved_cols else None
        self.x = None if self.saved_cols else x
        self.w, self.x_shape = w, x.shape
        return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    def backward(self, gy):
        n, o, ho, wo = gy.shape
        _, c, h, wd = self.x_shape
        kh, kw = self.w.shape[2:]
        ph, pw = pair(self.padding)
        need = self.needs_input_grad
        g = gy.transpose(0, 2, 3, 1)  # NHWC (a free view when gy came from this kernel)
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = channel_sum(gy)
        if need[1] and self.saved_cols:
            gmat = np.ascontiguousarray(g).reshape(n * ho * wo, o)
            gw = (gmat.T @ self.cols).reshape(o, kh, kw, c).transpose(0, 3, 1, 2).copy()
        take_gw = need[1] and not self.saved_cols
        if need[0] or take_gw:
            gpad = _nhwc_padded(gy, kh - 1 - ph, kw - 1 - pw)
            rows = h * wd  # one row of dL/dy windows per input position (n, a, b)
            if need[0]:
                wflip = self.w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(kh * kw * o, c)
                gx = np.empty((n * rows, c), dtype=np.result_type(gy, self.w))
            xmat = np.ascontiguousarray(self.x.transpose(0, 2, 3, 1)).reshape(n * rows, c) if take_gw else None
            gwt = None  # Σ_{n,a,b} gcols[(n, a, b), (u', v', o)] · x[n, c, a, b], accumulated over the chunks
            for i, (i0, i1) in enumerate(_image_chunks(n, rows * kh * kw * o * gy.itemsize)):
                gcols = _nhwc_columns(gpad[i0:i1], kh, kw, h, wd, chunk=i)
                if need[0]:
                    np.matmul(gcols, wflip, out=gx[i0 * rows : i1 * rows])
                if take_gw:
                    part = gcols.T @ xmat[i0 * rows : i1 * rows]
                    gwt = part if gwt is None else np.add(gwt, part, out=gwt)
            if need[0]:
                gx = gx.reshape(n, h, wd, c).transpose(0, 3, 1, 2)
            if take_gw:
                # dL/dw[o, c, u, v] = gwt[(kh−1−u, kw−1−v, o), c]
                gw = gwt.reshape(kh, kw, o, c)[::-1, ::-1].transpose(2, 3, 0, 1).copy()
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


class Conv2d1x1(ops.Conv2d):
    """:class:`nablab.ops.Conv2d` for a 1×1 kernel of stride s: a per-pixel linear map of the pixels
    x[:, :, ::s, ::s], i.e. one GEMM  Y = X_s W  with X_s the (N·Ho·Wo) × C matrix of those pixels.
    dL/dW = dL/dYᵀ X_s, and dL/dx is dL/dY W at the sampled pixels, zero elsewhere."""

    def forward(self, x, w, b=None):
        s, (n, c, _, _), o = self.stride, x.shape, w.shape[0]
        sampled = x[:, :, ::s, ::s] if s > 1 else x
        ho, wo = sampled.shape[2:]
        cols = np.empty((n, ho, wo, c), dtype=x.dtype)  # owned: kept for dL/dW
        cols[...] = sampled.transpose(0, 2, 3, 1)
        self.cols, self.w, self.x_shape = cols.reshape(n * ho * wo, c), w, x.shape
        y = self.cols @ w.reshape(o, c).T  # (N·Ho·Wo, O): NHWC
        if b is not None:
            per_channel(np.add, y, b, y)  # y is (N·Ho·Wo, O): the bias along long rows
        return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    def backward(self, gy):
        n, o, ho, wo = gy.shape
        _, c, h, wd = self.x_shape
        s, need = self.stride, self.needs_input_grad
        gmat = np.ascontiguousarray(gy.transpose(0, 2, 3, 1)).reshape(n * ho * wo, o)
        gx = gw = gb = None
        if need[0]:
            gsampled = (gmat @ self.w.reshape(o, c)).reshape(n, ho, wo, c)
            if s > 1:
                gx = np.zeros((n, h, wd, c), dtype=gsampled.dtype)
                gx[:, ::s, ::s, :] = gsampled
            else:
                gx = gsampled
            gx = gx.transpose(0, 3, 1, 2)
        if need[1]:
            gw = (gmat.T @ self.cols).reshape(self.w.shape)
        if len(need) > 2 and need[2]:
            gb = channel_sum(gmat)
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


kernels.register(ops.Conv2d, Conv2d1x1, when=handles_1x1)
kernels.register(ops.Conv2d, Conv2dNHWC, when=handles)
