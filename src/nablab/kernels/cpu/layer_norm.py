"""CPU kernel for layer normalisation: :class:`nablab.ops.LayerNorm` (the reference, with the math
and the derivation of its backward) on contiguous inputs, a block of rows at a time on every thread.

Each row is one group of M = the normalised shape's size values. The reference makes ten passes
over whole arrays (each a trip to memory); here every step works on a block of rows that stays in
the core's cache, the sums of squares and of products are one ``einsum`` each (no product array),
and x̂ is centred and scaled in place in the array saved for backward (only in a cached block when
no graph is recorded):

    forward:  μ = Σx/M,  x̂ = (x − μ)·(Σ(x − μ)²/M + ε)^(−½),  y = γ ⊙ x̂ + β
    backward: g = γ ⊙ dL/dy,  dL/dx = (1/σ)·(g − Σg/M − x̂·Σ(g ⊙ x̂)/M),
              dL/dγ = Σ_rows dL/dy ⊙ x̂,  dL/dβ = Σ_rows dL/dy   (per thread, then added)

The same numbers as the reference up to float rounding (the sums run in another order).
"""

from __future__ import annotations

import numpy as np

from ... import kernels, ops
from ...scratch import scratch
from .threads import parallel_blocks


def _contiguous(x, weight, bias, normalized_ndim=1, eps=1e-5):
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.flags.c_contiguous and x.size > 0
            and x.ndim >= int(normalized_ndim) and weight.dtype == x.dtype and bias.dtype == x.dtype
            and tuple(x.shape[x.ndim - int(normalized_ndim):]) == tuple(weight.shape) == tuple(bias.shape))


class LayerNormRows(ops.LayerNorm):
    """:class:`nablab.ops.LayerNorm` on a contiguous input, blocked over rows and threaded."""

    def forward(self, x, weight, bias):
        self._check(x, weight, bias)
        m = weight.size
        x2 = x.reshape(-1, m)
        w, b = weight.reshape(-1), bias.reshape(-1)
        y = np.empty_like(x2)
        xhat = np.empty_like(x2) if self.recording else None  # without a graph x̂ lives only in cache
        inv_std = np.empty((x2.shape[0], 1), dtype=x.dtype)
        eps = self.eps

        def work(lo, hi):
            xb = x2[lo:hi]
            hb = xhat[lo:hi] if xhat is not None else scratch(np, "layer-norm-xhat", xb.shape, xb.dtype)
            np.subtract(xb, xb.sum(axis=1, keepdims=True) / m, out=hb)
            var = np.einsum("ij,ij->i", hb, hb) / m
            inv = inv_std[lo:hi]
            inv[:, 0] = 1.0 / np.sqrt(var + eps)
            hb *= inv
            yb = np.multiply(hb, w, out=y[lo:hi])
            yb += b

        parallel_blocks(work, x2.shape[0], m, x.itemsize)
        self.xhat, self.inv_std, self.weight, self.shape = xhat, inv_std, w, x.shape
        return y.reshape(x.shape)

    def backward(self, gy):
        needs_x, needs_w, needs_b = self.needs_input_grad
        xhat, inv_std, w = self.xhat, self.inv_std, self.weight
        m = w.size
        gy2 = np.ascontiguousarray(gy).reshape(-1, m)
        gx = np.empty_like(gy2) if needs_x else None

        def work(lo, hi):
            gyb, hb = gy2[lo:hi], xhat[lo:hi]
            if needs_x:
                g = np.multiply(gyb, w, out=gx[lo:hi])
                mean_g = g.sum(axis=1, keepdims=True) / m
                mean_gh = np.einsum("ij,ij->i", g, hb)[:, None] / m
                g -= mean_g
                g -= np.multiply(hb, mean_gh, out=scratch(np, "layer-norm-tmp", hb.shape, hb.dtype))
                g *= inv_std[lo:hi]
            gw = np.multiply(gyb, hb, out=scratch(np, "layer-norm-tmp", hb.shape, hb.dtype)).sum(axis=0) \
                if needs_w else None
            return gw, gyb.sum(axis=0) if needs_b else None

        results = parallel_blocks(work, gy2.shape[0], m, gy2.itemsize)
        gw = sum(r[0] for r in results).reshape(self.shape[len(self.shape) - self.k:]) if needs_w else None
        gb = sum(r[1] for r in results).reshape(self.shape[len(self.shape) - self.k:]) if needs_b else None
        return (gx.reshape(gy.shape) if needs_x else None), gw, gb


kernels.register(ops.LayerNorm, LayerNormRows, when=_contiguous)
