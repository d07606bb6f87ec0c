"""``nn.MultiheadAttention``: H heads of scaled dot-product attention side by side, as ``torch.nn``'s
(the math is in :func:`~nablab.nn.functional.multi_head_attention_forward`)."""

from __future__ import annotations

import numpy as np

from . import init
from .functional_attention import each_once, multi_head_attention_forward
from .linear import Linear
from .module import Module
from .parameter import Parameter


class MultiheadAttention(Module):
    """y = [head₁ … head_H] W_oᵀ + b_o, headₕ = softmax(Qₕ Kₕᵀ / √d + M) Vₕ, d = embed_dim / num_heads,
    with Q, K, V the projections of query, key and value (Vaswani et al. 2017).

    PyTorch's parameters and initialisation: ``in_proj_weight`` (3E × E, Xavier-uniform) holds
    W_q, W_k, W_v stacked — or ``q_proj_weight`` (E × E), ``k_proj_weight`` (E × kdim) and
    ``v_proj_weight`` (E × vdim) when ``kdim`` or ``vdim`` differ from E; ``in_proj_bias`` (3E,
    zeros); ``out_proj`` a Linear (E → E, bias zeros); with ``add_bias_kv``, ``bias_k`` and
    ``bias_v`` (1, 1, E, Xavier-normal) are appended to the keys and values. ``batch_first``
    takes (N, L, E) inputs instead of (L, N, E); unbatched (L, E) inputs work too. Dropout on the
    attention weights only in training mode.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout probability must be in [0, 1], got {dropout}")
        dtype = dtype or "float32"
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.head_dim = embed_dim // num_heads
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        if device is not None:
            self.to(device)

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal ``bias_k``/``bias_v``
        (``out_proj.weight`` keeps the Linear default)."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        """``(attn_output, attn_weights)``: the output has the query's shape; the weights are (N, L, S)
        averaged over the heads, (N, H, L, S) with ``average_attn_weights=False`` (no N unbatched),
        None unless ``need_weights``. Masks as in :func:`~nablab.nn.functional.multi_head_attention_forward`
        (boolean True, or −∞, masks a key out)."""
        batched = query.ndim == 3
        if self.batch_first and batched:
            query, key, value = each_once(lambda t: t.transpose(0, 1), query, key, value)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        return (out.transpose(0, 1) if self.batch_first and batched else out), weights


__all__ = ["MultiheadAttention"]
