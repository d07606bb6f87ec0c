"""Attention: scaled dot-product attention (``F.scaled_dot_product_attention``) and multi-head
attention (``F.multi_head_attention_forward``, what ``nn.MultiheadAttention`` runs), written as the
composition of the ops they are made of, so their backward is theirs."""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..backend import get_array_module
from ..errors import ShapeError
from ..shape_functions import cat
from ..tensor import Tensor
from .functional_activations import softmax
from .functional_layers import dropout


def _as_tensor(mask, like=None):
    """A mask as a tensor, keeping the dtype of an array (bool or float), on the device of the tensor
    ``like`` if given (a NumPy mask for CuPy scores)."""
    mask = mask if isinstance(mask, Tensor) else Tensor._make(np.asarray(mask))
    if like is None:
        return mask
    xp = get_array_module(like.data)
    return mask if get_array_module(mask.data) is xp else Tensor._make(xp.asarray(mask.data))


def _attention_weights(query, key, attn_mask, is_causal: bool, scale: float | None):
    """A = softmax(Q Kᵀ · scale + M) over the last dim: … × L × S weights, each row summing to 1.

    ``attn_mask`` M is boolean (True: attend; False: the score becomes −∞) or additive float,
    broadcast to … × L × S; ``is_causal`` masks every key after its query (the upper triangle).
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        xp = get_array_module(scores.data)
        attn_mask = Tensor._make(xp.tril(xp.ones((query.shape[-2], key.shape[-2]), dtype=bool)))
    if attn_mask is not None:
        mask = _as_tensor(attn_mask, like=scores)
        scores = scores.masked_fill(~mask, -math.inf) if mask.dtype == np.bool_ else scores + mask
    return softmax(scores, dim=-1)


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
    weights = _attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value


def _additive_mask(mask, name: str, like):
    """A boolean mask (True: masked out, as ``nn.MultiheadAttention`` reads it) as the additive float
    mask it stands for, 0 where allowed and −∞ where masked, in the dtype and on the device of the
    tensor ``like``; a float mask as it is (moved to that device)."""
    if mask is None:
        return None
    mask = _as_tensor(mask, like)
    if mask.dtype == np.bool_:
        xp = get_array_module(mask.data)
        return Tensor._make(xp.where(mask.data, -xp.inf, 0.0).astype(like.dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"{name} must be boolean or floating, got {mask.dtype}")
    return mask


def _check_shapes(query, key, value, key_padding_mask, attn_mask) -> bool:
    """Whether the inputs are batched ((L, N, E) query) or not ((L, E)); a ShapeError unless key,
    value and the masks have the dims that go with the query's."""
    if query.ndim not in (2, 3):
        raise ShapeError(f"multi-head attention: query must be 3-D (L, N, E) or unbatched 2-D (L, E), got shape "
                         f"{tuple(query.shape)}")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"multi-head attention: for a {kind} query, key and value must be {query.ndim}-D too, got "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ShapeError(f"multi-head attention: for a {kind} query, key_padding_mask must be "
                         f"{query.ndim - 1}-D {'(N, S)' if batched else '(S,)'}, got shape "
                         f"{tuple(key_padding_mask.shape)}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ShapeError(f"multi-head attention: attn_mask must be 2-D (L, S) or 3-D (N·num_heads, L, S), got shape "
                         f"{tuple(attn_mask.shape)}")
    return batched


def each_once(fn, *tensors):
    """``fn`` of each tensor, computed once per distinct tensor, so that self-attention's query, key
    and value (one tensor) stay one tensor after a transpose or reshape."""
    done = {}
    for t in tensors:
        if id(t) not in done:
            done[id(t)] = fn(t)
    return tuple(done[id(t)] for t in tensors)


def _heads(x, num_heads: int):
    """(N, L, E) → (N, H, L, E/H): each head's slice of the features as its own sequence."""
    n, length, e = x.shape
    return x.reshape(n, length, num_heads, e // num_heads).transpose(1, 2)


def _pad_key(mask):
    """A float mask over the keys with one more key, always allowed (for ``bias_k`` or a zero key)."""
    if mask is None:
        return None
    zeros = Tensor._make(get_array_module(mask.data).zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype))
    return cat([mask, zeros], dim=-1)


def _linear(x, weight, bias, what: str):
    """x Wᵀ + b, with an error naming ``what`` (query, key or value) if x's features do not fit W (out, in)."""
    if x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"multi-head attention: the {what} has {x.shape[-1]} features, its projection weight "
                         f"{tuple(weight.shape)} expects {weight.shape[1]}")
    return ops.Linear.apply(x, weight) if bias is None else ops.Linear.apply(x, weight, bias)


def _project(query, key, value, in_proj_weight, in_proj_bias, separate_weights):
    """Q, K, V = query W_qᵀ + b_q, key W_kᵀ + b_k, value W_vᵀ + b_v, with W_q, W_k, W_v the thirds of
    ``in_proj_weight`` (3E × E) or the three ``separate_weights``, b the thirds of ``in_proj_bias``."""
    biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    names = ("query", "key", "value")
    if separate_weights is not None:
        return tuple(_linear(x, w, b, n) for x, w, b, n in zip((query, key, value), separate_weights, biases, names))
    if query is key and key is value:  # self-attention: one product for all three
        return _linear(query, in_proj_weight, in_proj_bias, "query").chunk(3, dim=-1)
    return tuple(_linear(x, w, b, n) for x, w, b, n in zip((query, key, value), in_proj_weight.chunk(3), biases, names))


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight,
                                 out_proj_bias, training: bool = True, key_padding_mask=None, need_weights: bool = True,
                                 attn_mask=None, use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, *, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """Multi-head attention (Vaswani et al. 2017) of a query (L, N, E) over a key (S, N, E_k) and a
    value (S, N, E_v), or unbatched (L, E), (S, E_k), (S, E_v), with H = ``num_heads`` heads of size d = E/H:

        Q = query W_qᵀ + b_q,  K = key W_kᵀ + b_k,  V = value W_vᵀ + b_v      (each split into H heads)
        Aₕ = softmax(Qₕ Kₕᵀ / √d + M),   headₕ = Aₕ Vₕ
        y = [head₁ … head_H] W_oᵀ + b_o

    Returns ``(y, A)``: y of the query's shape; A of shape (N, L, S) (averaged over the heads) or
    (N, H, L, S) (``average_attn_weights=False``), unbatched without N, None unless ``need_weights``.

    Masks, PyTorch's: ``attn_mask`` (L, S) or (N·H, L, S) and ``key_padding_mask`` (N, S) are boolean
    (True: masked out) or additive float, and add up in M. ``bias_k``/``bias_v`` (1, 1, E) append one
    learned key and value, ``add_zero_attn`` one key and value of zeros (after the projection).
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask, which must then be given; without
    ``need_weights`` or a key padding mask the causal mask is applied in its place. ``dropout_p``
    drops attention weights in ``training`` (A is returned after dropout, as PyTorch does).
    Gradients are those of the ops it is composed of.
    """
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask)
    if not batched:
        query, key, value = each_once(lambda t: t.unsqueeze(1), query, key, value)
        key_padding_mask = None if key_padding_mask is None else _as_tensor(key_padding_mask).unsqueeze(0)
    length, batch, embed_dim = query.shape
    source = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"multi-head attention: expected embedding dimension {embed_dim_to_check}, got query of "
                         f"shape {tuple(query.shape)}")
    if embed_dim % num_heads:
        raise ValueError(f"multi-head attention: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != batch:
        raise ShapeError(f"multi-head attention: key {tuple(key.shape)} and value {tuple(value.shape)} must share "
                         f"their (S, N) dims, with N = {batch} as the query's")
    if is_causal and attn_mask is None:
        raise ValueError("multi-head attention: is_causal is a hint that attn_mask is the causal mask; give attn_mask "
                         "too (nn.generate_square_subsequent_mask(L) makes one)")
    key_padding_mask = _additive_mask(key_padding_mask, "key_padding_mask", query)
    causal = is_causal and key_padding_mask is None and not need_weights
    attn_mask = None if causal else _additive_mask(attn_mask, "attn_mask", query)
    if attn_mask is not None:
        wanted = (length, source) if attn_mask.ndim == 2 else (batch * num_heads, length, source)
        if tuple(attn_mask.shape) != wanted:
            raise ShapeError(f"multi-head attention: the {attn_mask.ndim}-D attn_mask has shape "
                             f"{tuple(attn_mask.shape)}, expected {wanted}")
        attn_mask = attn_mask.reshape((1, 1) + wanted if attn_mask.ndim == 2 else (batch, num_heads, length, source))
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source):
            raise ShapeError(f"multi-head attention: key_padding_mask has shape {tuple(key_padding_mask.shape)}, "
                             f"expected (N, S) = {(batch, source)}")
        key_padding_mask = key_padding_mask.reshape(batch, 1, 1, source)

    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    q, k, v = _project(*each_once(lambda t: t.transpose(0, 1), query, key, value), in_proj_weight, in_proj_bias,
                       separate)  # (N, L, E), (N, S, E), (N, S, E)
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(batch, 1, embed_dim)], dim=1)
        v = cat([v, bias_v.expand(batch, 1, embed_dim)], dim=1)
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    q, k, v = _heads(q, num_heads), _heads(k, num_heads), _heads(v, num_heads)
    if add_zero_attn:
        xp = get_array_module(k.data)
        zeros = Tensor._make(xp.zeros((batch, num_heads, 1, embed_dim // num_heads), dtype=k.dtype))
        k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    if key_padding_mask is not None:
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    weights = _attention_weights(q, k, attn_mask, causal, None)  # (N, H, L, S)
    if training and dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    heads = (weights @ v).transpose(1, 2).reshape(batch, length, embed_dim)
    out = _linear(heads, out_proj_weight, out_proj_bias, "attention output").transpose(0, 1)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))


__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]
