"""The transformer of Vaswani et al. (2017), as ``torch.nn`` builds it: ``TransformerEncoderLayer``,
``TransformerDecoderLayer``, their stacks ``TransformerEncoder`` and ``TransformerDecoder``, the
encoder–decoder ``Transformer``, and the causal mask ``generate_square_subsequent_mask``.

The sub-modules have PyTorch's names (``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``,
``linear2``, ``norm1``–``norm3``, ``dropout1``–``dropout3``, ``layers.0`` …), so
``nablab.io.from_torch``/``to_torch`` move the weights of the same architecture both ways.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from . import functional as F
from . import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """The causal mask for a sequence of ``sz``: an additive (sz, sz) float mask, −∞ above the
    diagonal (position i may not look at j > i) and 0 elsewhere; float32 unless ``dtype`` is given."""
    mask = Tensor._make(np.triu(np.full((sz, sz), -np.inf, dtype=np.dtype(dtype or "float32")), k=1))
    return mask if device is None else mask.to(device)


def _activation(activation):
    """"relu", "gelu" or a callable (a function such as F.gelu, or a module such as nn.GELU())."""
    if isinstance(activation, str):
        named = {"relu": F.relu, "gelu": F.gelu}
        if activation not in named:
            raise ValueError(f"activation should be 'relu', 'gelu' or a callable, not {activation!r}")
        return named[activation]
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got a {type(activation).__name__}")
    return activation


class _Block(Module):
    """What both layers share: their sub-layers in PyTorch's order (``self_attn``, the decoder's
    ``multihead_attn``, the feed-forward ``linear1``, ``dropout``, ``linear2``, then one ``norm{i}``
    and one ``dropout{i}`` per residual sub-block), the feed-forward block
    linear2(dropout(activation(linear1(x)))), and the residual wiring of a sub-block f with its
    norm and dropout:

        post-norm (``norm_first=False``, the original):  x ← norm(x + dropout(f(x)))
        pre-norm  (``norm_first=True``, Xiong et al. 2020): x ← x + dropout(f(norm(x)))
    """

    def __init__(self, sub_blocks: int, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                 batch_first, norm_first, bias, device, dtype):
        super().__init__()
        dtype = dtype or "float32"
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        if sub_blocks == 3:  # a decoder layer: attention over the encoder's output too
            self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for i in range(1, sub_blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for i in range(1, sub_blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)
        if device is not None:
            self.to(device)

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _residual(self, x, block, norm, drop):
        if self.norm_first:
            return x + drop(block(norm(x)))
        return norm(x + drop(block(x)))


class TransformerEncoderLayer(_Block):
    """Self-attention and a feed-forward network, each in a residual block with layer norm:

        post-norm: x ← norm1(x + SA(x));  x ← norm2(x + FF(x))
        pre-norm:  x ← x + SA(norm1(x));  x ← x + FF(norm2(x))

    SA(x) = dropout1(self_attn(x, x, x)), FF(x) = dropout2(linear2(dropout(activation(linear1(x))))).
    PyTorch's arguments; ``activation`` is "relu", "gelu" or a callable. Inputs (S, N, E), or
    (N, S, E) with ``batch_first``, or unbatched (S, E).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__(2, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, device, dtype)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """``src_mask`` (S, S) or (N·nhead, S, S) and ``src_key_padding_mask`` (N, S): boolean (True
        masks out) or additive float; ``is_causal`` says that ``src_mask`` is the causal mask."""
        def attend(x):
            return self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                                  need_weights=False, is_causal=is_causal)[0]

        x = self._residual(src, attend, self.norm1, self.dropout1)
        return self._residual(x, self._feed_forward, self.norm2, self.dropout2)


class TransformerDecoderLayer(_Block):
    """Self-attention over the target, attention over the encoder's output (``memory``) and a
    feed-forward network, each in a residual block with layer norm:

        post-norm: x ← norm1(x + SA(x));  x ← norm2(x + MA(x, m));  x ← norm3(x + FF(x))
        pre-norm:  x ← x + SA(norm1(x));  x ← x + MA(norm2(x), m);  x ← x + FF(norm3(x))

    SA(x) = dropout1(self_attn(x, x, x)), MA(x, m) = dropout2(multihead_attn(x, m, m)),
    FF(x) = dropout3(linear2(dropout(activation(linear1(x))))). PyTorch's arguments.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__(3, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, device, dtype)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        """``tgt_mask`` (T, T) and ``tgt_key_padding_mask`` (N, T) mask the self-attention,
        ``memory_mask`` (T, S) and ``memory_key_padding_mask`` (N, S) the attention over ``memory``."""
        def attend_self(x):
            return self.self_attn(x, x, x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                                  need_weights=False, is_causal=tgt_is_causal)[0]

        def attend_memory(x):
            return self.multihead_attn(x, memory, memory, attn_mask=memory_mask,
                                       key_padding_mask=memory_key_padding_mask, need_weights=False,
                                       is_causal=memory_is_causal)[0]

        x = self._residual(tgt, attend_self, self.norm1, self.dropout1)
        x = self._residual(x, attend_memory, self.norm2, self.dropout2)
        return self._residual(x, self._feed_forward, self.norm3, self.dropout3)


def _clones(layer: Module, num_layers: int) -> ModuleList:
    if not isinstance(layer, Module):
        raise TypeError(f"expected a layer (a Module) to copy, got a {type(layer).__name__}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0`` …, independent weights) run in
    turn, then ``norm`` if given. ``enable_nested_tensor`` and ``mask_check`` are accepted for
    PyTorch's signature: they steer PyTorch's nested-tensor inference path, which nablab does not have."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        """Each layer gets ``mask``, ``src_key_padding_mask`` and ``is_causal`` (None, PyTorch's "find
        out", gives the same numbers as False: a causal ``mask`` is applied either way)."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` run in turn over the target, each attending
    to ``memory``, then ``norm`` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder–decoder transformer: memory = encoder(src), y = decoder(tgt, memory), with
    ``num_encoder_layers`` and ``num_decoder_layers`` layers each followed by a final LayerNorm
    (or ``custom_encoder`` / ``custom_decoder``). As PyTorch, every parameter with 2 or more dims
    is then re-initialised Xavier-uniform. src (S, N, E) and tgt (T, N, E), or batch-first, or unbatched.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)
        dtype = dtype or "float32"
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*layer_args, dtype=dtype), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*layer_args, dtype=dtype), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        if device is not None:
            self.to(device)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        """``src_mask`` (S, S), ``tgt_mask`` (T, T) (the causal mask,
        :meth:`generate_square_subsequent_mask`, for a decoder that must not look ahead),
        ``memory_mask`` (T, S) and the key padding masks (N, S), (N, T), (N, S)."""
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_dim] != tgt.shape[batch_dim]):
            raise ShapeError(f"Transformer: src {tuple(src.shape)} and tgt {tuple(tgt.shape)} must have the same "
                             f"batch size (dim {batch_dim}, batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: src {tuple(src.shape)} and tgt {tuple(tgt.shape)} must have d_model = "
                             f"{self.d_model} features")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)


__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer", "generate_square_subsequent_mask"]
