"""Per-channel arithmetic on channels-last memory, in long rows: the sums and broadcasts of batch
norm and of a convolution's bias.

An (N, C, H, W) array from the convolution kernels is a view of NHWC memory (a plain (N, C) batch
is channels-last already): the C values of one pixel lie side by side, so x − μ_c or x·γ_c + β_c
broadcasts a C-vector along rows of only C elements, and NumPy runs its inner loop once per pixel.
For a 64 × 32 × 32 batch on 32 channels that is 65 536 loops of 32 elements each, and the loops'
overhead costs more than the arithmetic (x − μ took 1.8 ms where a copy of x took 1.0). The same
memory seen as a (P/k, k·C) matrix, k pixels per row, broadcasts against the C-vector repeated k
times, v_tiled[j] = v[j mod C], with inner loops thousands of elements long:

    (x − μ)[p, c] = x_rows[p // k, (p mod k)·C + c] − μ_tiled[(p mod k)·C + c]

The same operation on the same pair of numbers for every element, so a broadcast gives the result
of the plain one bit for bit. A per-channel sum is a sum over the rows of that matrix (one pass in
memory order, each row added into one long accumulator) followed by the sum of its k groups of C:

    Σ_p a[p, c] = Σ_{j<k} (Σ_r a_rows[r, j·C + c])

which adds the same numbers in another order: equal up to float rounding.

The repeated vector is placed in memory half a page (2 KiB modulo 4 KiB) away from the output.
Where the two addresses agree in their low 12 bits within a few bytes, the core takes each load
of the vector for one that may depend on a store to the output just issued ("4K aliasing") and
waits: one placement of the same subtraction ran 3.2 ms, others 0.31–0.41 (a (1024, 1024) matrix
on the AMD host).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...ops import normalization

#: elements per row of the long-row matrix, at most: rows this long make the inner loops' overhead
#: negligible; a few rows still fill a thread's share of a batch
ROW_ELEMENTS = 16384
_PAGE = 4096


@lru_cache(maxsize=256)
def _pixels_per_row(pixels: int, channels: int) -> int:
    """The largest k ≤ ROW_ELEMENTS / C that divides the pixel count (1 where none does)."""
    for k in range(max(1, ROW_ELEMENTS // channels), 0, -1):
        if pixels % k == 0:
            return k
    return 1  # pragma: no cover - k = 1 always divides


def pixel_matrix(a):
    """``a`` (N, C, …), channels-last in memory, as its (pixels, C) matrix (a view); None for any
    other layout (then the callers use NumPy's per-axis operations)."""
    if type(a) is not np.ndarray or a.ndim < 2 or a.size == 0:
        return None
    last = np.moveaxis(a, 1, -1)
    if not last.flags.c_contiguous:
        return None
    return last.reshape(-1, a.shape[1])


def long_rows(matrix):
    """A contiguous (pixels, C) matrix as (pixels / k, k·C): k pixels per row."""
    pixels, channels = matrix.shape
    k = _pixels_per_row(pixels, channels)
    return matrix.reshape(pixels // k, k * channels)


def tiled(v, length: int, near):
    """The C-vector ``v`` repeated to ``length`` elements (a multiple of C), placed 2 KiB away from
    the array ``near`` modulo a page (see the module docstring)."""
    itemsize = v.dtype.itemsize
    buffer = np.empty(length + _PAGE // itemsize, dtype=v.dtype)
    gap = (near.ctypes.data + _PAGE // 2 - buffer.ctypes.data) % _PAGE
    out = buffer[gap // itemsize : gap // itemsize + length]
    out.reshape(-1, v.size)[...] = v
    return out


def channel_sum(a):
    """Σ over every axis but 1 of ``a`` (N, C, …): Σ_p a[p, c], in long rows when ``a`` is
    channels-last in memory."""
    matrix = pixel_matrix(a)
    if matrix is None:
        return a.sum(axis=normalization.channel_axes(a))
    lanes = long_rows(matrix).sum(axis=0)  # row by row into one long accumulator: no BLAS call
    return lanes.reshape(-1, a.shape[1]).sum(axis=0)


def channel_dot(a, b):
    """Σ_p a[p, c]·b[p, c] in one pass without the product as a temporary (``einsum``), in long rows
    when both are channels-last in memory."""
    ma, mb = pixel_matrix(a), pixel_matrix(b)
    if ma is None or mb is None:
        axes = "nchwd"[: a.ndim]
        return np.einsum(f"{axes},{axes}->c", a, b)
    lanes = np.einsum("rl,rl->l", long_rows(ma), long_rows(mb))
    return lanes.reshape(-1, a.shape[1]).sum(axis=0)


def per_channel(ufunc, a, v, out):
    """``out = ufunc(a, v_c)`` for every element of channel c of ``a`` (N, C, …), v a C-vector;
    ``out`` has ``a``'s shape and may be ``a`` itself. In long rows when both are channels-last in
    memory; else NumPy's broadcast of v along axis 1."""
    ma, mo = pixel_matrix(a), pixel_matrix(out)
    if ma is None or mo is None:
        return ufunc(a, normalization.per_channel(v, a.ndim), out=out)
    rows_out = long_rows(mo)
    ufunc(long_rows(ma), tiled(v, rows_out.shape[1], out), out=rows_out)
    return out
