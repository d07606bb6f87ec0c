"""``nn.Embedding`` and ``F.embedding``: a table of learned vectors looked up by integer index."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..backend import check
from ..errors import ShapeError
from ..random import get_generator
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,  # noqa: A002
              sparse=False):
    """The rows of ``weight`` (num_embeddings × dim) named by the integer tensor ``input``: output
    shape ``input.shape + (dim,)``. ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not
    supported (an error says so)."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse gradients are not supported")
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding expects integer indices (int64 or int32), got {indices.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding expects a 2-D weight (num_embeddings, dim), got shape {tuple(weight.shape)}")
    rows = weight.shape[0]
    if indices.size:  # PyTorch refuses negative indices too; on a GPU the check waits for the next read
        check(((indices < 0) | (indices >= rows)).any(), IndexError, lambda: (
            f"embedding: index {int(indices.max() if indices.max() >= rows else indices.min())} is out of range "
            f"for {rows} embeddings (0..{rows - 1})"))
    if padding_idx is not None:
        padding_idx = int(padding_idx) % rows
    # a copy: the node keeps the indices for backward, and the caller's index tensor may change meanwhile
    return ops.Embedding.apply(weight, indices=indices.copy(), padding_idx=padding_idx)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1)
    as PyTorch does (the ``padding_idx`` row, if any, at zero)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"padding_idx {padding_idx} must be within the {num_embeddings} embeddings")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.max_norm, self.scale_grad_by_freq, self.sparse = max_norm, scale_grad_by_freq, sparse
        if _weight is None:
            w = get_generator().standard_normal((num_embeddings, embedding_dim)).astype(dtype or np.float32)
            if self.padding_idx is not None:
                w[self.padding_idx] = 0
        else:
            w = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
        self.weight = Parameter(w)
        self.weight.requires_grad_(not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, **kwargs):
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze, **kwargs)

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return embedding(input, self.weight, self.padding_idx, self.max_norm,
                         scale_grad_by_freq=self.scale_grad_by_freq, sparse=self.sparse)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


__all__ = ["Embedding"]
