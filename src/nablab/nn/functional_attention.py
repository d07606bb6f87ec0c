"""Scaled dot-product attention (``F.scaled_dot_product_attention``), written as the composition
of the ops it is made of, so its backward is theirs."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from .functional_activations import softmax
from .functional_layers import dropout


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False):
    """softmax(Q Kᵀ · scale + M) V, scale = 1/√d by default, over the last two dims (… × L × d for
    Q, … × S × d for K, … × S × d_v for V).

    ``attn_mask`` is boolean (True: attend, False: masked out, as PyTorch) or additive float,
    broadcast to … × L × S; ``is_causal`` masks every key after its query (the upper triangle).
    ``dropout_p`` drops attention weights (always applied when given, as PyTorch's function does:
    pass 0 in evaluation). ``enable_gqa`` (grouped-query attention) is not supported.
    """
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: query {tuple(query.shape)}, key {tuple(key.shape)} and "
                         f"value {tuple(value.shape)} do not fit (need query[-1] == key[-1], key[-2] == value[-2])")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        attn_mask = Tensor._make(np.tril(np.ones((length, source), dtype=bool)))
    if attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(attn_mask)
        if mask.dtype == np.bool_:
            scores = scores.masked_fill(~mask, -math.inf)
        else:
            scores = scores + mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value


__all__ = ["scaled_dot_product_attention"]
