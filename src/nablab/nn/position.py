"""Position embeddings for sequence models, added to the token embeddings so that attention (which
sees a set) knows the order: ``SinusoidalPositionalEncoding`` (fixed) and
``LearnedPositionalEmbedding`` (trained). Both are nablab's own; PyTorch has neither as a layer."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


class _AddedPositions(Module):
    """y = x + P[:L], one row of the (max_len, d_model) table P per position, broadcast over the
    batch: x is (N, L, d) with ``batch_first``, else (L, N, d), or unbatched (L, d)."""

    def __init__(self, max_len: int, d_model: int, batch_first: bool):
        super().__init__()
        if max_len < 1 or d_model < 1:
            raise ValueError(f"{type(self).__name__}: max_len and d_model must be positive, got max_len={max_len}, "
                             f"d_model={d_model}")
        self.max_len, self.d_model, self.batch_first = max_len, d_model, batch_first

    #: the name of the (max_len, d_model) table P: a buffer or a parameter
    table: str

    def forward(self, x):
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ShapeError(f"{type(self).__name__}(d_model={self.d_model}) expects (L, N, {self.d_model}), "
                             f"(N, L, {self.d_model}) with batch_first, or (L, {self.d_model}); got shape "
                             f"{tuple(x.shape)}")
        seq_first = x.ndim == 3 and not self.batch_first
        length = x.shape[0] if seq_first or x.ndim == 2 else x.shape[1]
        if length > self.max_len:
            raise ShapeError(f"{type(self).__name__}: the sequence has {length} positions, more than max_len = "
                             f"{self.max_len}")
        rows = getattr(self, self.table)[:length]
        return x + (rows.unsqueeze(1) if seq_first else rows)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"


class SinusoidalPositionalEncoding(_AddedPositions):
    """The fixed encoding of Vaswani et al. (2017), added to the input:

        PE[pos, 2i]   = sin(pos / 10000^(2i/d))
        PE[pos, 2i+1] = cos(pos / 10000^(2i/d))

    for pos < ``max_len`` and d = ``d_model``: each pair of features is a sinusoid of its own
    wavelength (2π to 10000·2π), so PE[pos + k] is a linear function of PE[pos]. The table is a
    buffer ``pe`` (saved, moved and cast with the module, not trained). x is (L, N, d), (N, L, d)
    with ``batch_first``, or (L, d); L > ``max_len`` is an error.
    """

    table = "pe"

    def __init__(self, d_model: int, max_len: int = 5000, batch_first: bool = False, dtype=None):
        super().__init__(max_len, d_model, batch_first)
        pos = np.arange(max_len, dtype=np.float64)[:, None]
        angle = pos / 10000.0 ** (np.arange(0, d_model, 2, dtype=np.float64) / d_model)  # (max_len, ⌈d/2⌉)
        pe = np.empty((max_len, d_model))
        pe[:, 0::2] = np.sin(angle)
        pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
        self.register_buffer("pe", Tensor._make(pe.astype(dtype or "float32")))


class LearnedPositionalEmbedding(_AddedPositions):
    """A trained vector per position, added to the input: y = x + W[:L], W of shape
    (``max_len``, ``d_model``) — an ``nn.Embedding`` looked up at positions 0, 1, …, L−1, with its
    ``weight`` name and N(0, 1) initialisation. x is (L, N, d), (N, L, d) with ``batch_first``,
    or (L, d); L > ``max_len`` is an error.
    """

    table = "weight"

    def __init__(self, max_len: int, d_model: int, batch_first: bool = False, dtype=None):
        super().__init__(max_len, d_model, batch_first)
        self.weight = Parameter(np.empty((max_len, d_model), dtype=dtype or "float32"))
        init.normal_(self.weight)


__all__ = ["LearnedPositionalEmbedding", "SinusoidalPositionalEncoding"]
