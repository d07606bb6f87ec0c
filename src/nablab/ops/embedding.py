"""Embedding lookup: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

from ..backend import get_array_module, like
from ..function import Function


class Embedding(Function):
    """y[i…] = W[idx[i…]]: for indices of any shape, the rows of W (num_embeddings × dim) they name.

    dL/dW[r] = Σ over the positions i with idx[i] = r of dL/dy[i] (a scatter-add: a row looked up
    twice gets both gradients); the row ``padding_idx``, if given, gets none (as in PyTorch, it
    stays as it is when trained). The indices get no gradient.
    """

    saves_inputs = False  # backward reads only the saved indices, never W

    def __init__(self, indices, padding_idx=None):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        self.rows, self.dtype = weight.shape[0], weight.dtype
        self.indices = like(weight, self.indices)
        return weight[self.indices]

    def backward(self, gy):
        xp = get_array_module(gy)
        gw = xp.zeros((self.rows, gy.shape[-1]), dtype=gy.dtype)
        xp.add.at(gw, self.indices.reshape(-1), gy.reshape(-1, gy.shape[-1]))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return (gw,)
