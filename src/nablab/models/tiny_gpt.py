"""``TinyGPT``: a small GPT-style decoder (nanoGPT's design, written here from its description).

For token ids x₁…x_T (T ≤ block_size)::

    h⁰_t = E[x_t] + P[t]                                   token + learned position embeddings
    for each of the n_layer blocks (pre-norm):
        h ← h + Dropout(W_o · Attention(LayerNorm₁(h)))     causal self-attention, n_head heads
        h ← h + Dropout(W₂ · GELU(W₁ · LayerNorm₂(h)))       MLP, 4·n_embd hidden units
    logits_t = LayerNorm_f(h_t) · Eᵀ                       the head shares the token embedding E

Attention(u): one Linear gives q, k, v = u W_qkv (split in three, each in n_head heads of
d = n_embd / n_head), then softmax(q kᵀ / √d + causal mask) v per head
(``F.scaled_dot_product_attention(is_causal=True)``), heads concatenated.

Initialisation as GPT-2: every Linear and Embedding weight N(0, 0.02²), biases 0, and the
projections back into the residual stream (W_o, W₂) N(0, (0.02/√(2·n_layer))²), so the residual
sum of 2·n_layer branches keeps its scale. LayerNorms start at weight 1, bias 0.

The names follow nanoGPT's (``transformer.wte``, ``transformer.h.0.attn.c_attn``, ``lm_head``, …).
The head's weight *is* the token embedding's Parameter: ``parameters()`` and ``state_dict()`` list
it once (as ``transformer.wte.weight``), and loading a state dict writes into that one Parameter,
so the tie survives saving and loading. :meth:`TinyGPT.expected_state` lists those tensors without
building the model, so that ``nablab.models.load`` checks a file against its metadata first.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..grad_mode import no_grad
from ..io.expected_state import constructor_arguments, layer_state
from ..nn import functional as F
from ..nn.modes import evaluating
from ..tensor import Tensor
from .sampling import check_sampling, draw, next_token_probabilities


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one qkv projection ``c_attn`` and an output projection ``c_proj``."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head}): each head gets "
                             "n_embd / n_head features")
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def _heads(self, x):
        """q, k, v of shape (N, n_head, T, d) from x (N, T, n_embd)."""
        n, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        return [part.reshape(n, t, self.n_head, c // self.n_head).transpose(1, 2) for part in (q, k, v)]

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self._heads(x)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(n, t, c)))

    def weights(self, x) -> np.ndarray:
        """The attention weights softmax(q kᵀ/√d + causal mask) of ``x``, an array (N, n_head, T, T)."""
        q, k, _ = (part.data.astype(np.float64) for part in self._heads(x))
        scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
        t = scores.shape[-1]
        scores = np.where(np.tril(np.ones((t, t), dtype=bool)), scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        w = np.exp(scores)
        return w / w.sum(axis=-1, keepdims=True)


class MLP(nn.Module):
    """Linear n_embd → 4·n_embd (``c_fc``), GELU, Linear back (``c_proj``), dropout."""

    def __init__(self, n_embd: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """One pre-norm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(·))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """A GPT-style decoder over ``vocab_size`` tokens and contexts of up to ``block_size`` (see the module's
    docstring): ``n_layer`` blocks of ``n_head`` heads over ``n_embd`` features, ``dropout`` on the
    embeddings, attention weights and residual branches, ``bias`` in the Linears and LayerNorms.

    ``forward(ids)`` maps ids (N, T) to logits (N, T, vocab_size).
    """

    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 2, n_head: int = 4, n_embd: int = 64,
                 dropout: float = 0.0, bias: bool = True):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("block_size", block_size), ("n_layer", n_layer),
                            ("n_head", n_head), ("n_embd", n_embd)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"TinyGPT: {name} must be a positive integer, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"TinyGPT: dropout must be in [0, 1), got {dropout!r}")
        self.vocab_size, self.block_size, self.n_layer = vocab_size, block_size, n_layer
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(vocab_size, n_embd),
            "wpe": nn.Embedding(block_size, n_embd),
            "drop": nn.Dropout(dropout),
            "h": nn.ModuleList([Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)]),
            "ln_f": nn.LayerNorm(n_embd, bias=bias),
        })
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying: one Parameter
        self._init_weights()

    @classmethod
    def expected_state(cls, *args, **kwargs) -> dict:
        """``{name: (shape, dtype)}`` of the ``state_dict()`` that ``TinyGPT(*args, **kwargs)`` would hold, worked
        out without building it (see :mod:`nablab.io.expected_state`); the head's weight is wte's, listed once."""
        a = constructor_arguments(cls, args, kwargs)
        d, bias = a["n_embd"], a["bias"]
        state = {**layer_state("transformer.wte", nn.Embedding, a["vocab_size"], d),
                 **layer_state("transformer.wpe", nn.Embedding, a["block_size"], d)}
        for i in range(a["n_layer"]):
            block = f"transformer.h.{i}"
            for name, layer, layer_args in (("ln_1", nn.LayerNorm, (d,)), ("attn.c_attn", nn.Linear, (d, 3 * d)),
                                            ("attn.c_proj", nn.Linear, (d, d)), ("ln_2", nn.LayerNorm, (d,)),
                                            ("mlp.c_fc", nn.Linear, (d, 4 * d)), ("mlp.c_proj", nn.Linear, (4 * d, d))):
                state.update(layer_state(f"{block}.{name}", layer, *layer_args, bias=bias))
        return {**state, **layer_state("transformer.ln_f", nn.LayerNorm, d, bias=bias)}

    def _init_weights(self) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.n_layer)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith("c_proj") else 0.02
                if module is not self.lm_head:  # its weight is wte's, drawn once
                    nn.init.normal_(module.weight, 0.0, std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)

    def _check(self, ids) -> Tensor:
        ids = ids if isinstance(ids, Tensor) else Tensor(np.asarray(ids))
        if ids.ndim != 2:
            raise ValueError(f"TinyGPT takes token ids of shape (N, T), got shape {tuple(ids.shape)}")
        if ids.shape[1] > self.block_size:
            raise ValueError(f"TinyGPT: a sequence of {ids.shape[1]} tokens is longer than block_size "
                             f"{self.block_size}")
        return ids

    def _embed(self, ids):
        positions = Tensor(np.arange(ids.shape[1]))
        return self.transformer.drop(self.transformer.wte(ids) + self.transformer.wpe(positions))

    def forward(self, ids):
        x = self._embed(self._check(ids))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))

    def attention_maps(self, ids) -> list[np.ndarray]:
        """Where each head looks: per layer, the attention weights (N, n_head, T, T) of a forward of ``ids``
        (in eval mode, no graph), row t the weights query t gives keys 1…t."""
        maps = []
        with evaluating(self), no_grad():
            x = self._embed(self._check(ids))
            for block in self.transformer.h:
                maps.append(block.attn.weights(block.ln_1(x)))
                x = block(x)
        return maps

    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 generator=None) -> np.ndarray:
        """``ids`` (N, T) followed by ``max_new_tokens`` sampled ids, an int64 array (N, T + max_new_tokens).

        Each new token is drawn from the last position's logits with ``temperature`` and ``top_k``
        (:mod:`nablab.models.sampling`), the context cropped to its last ``block_size`` tokens;
        eval mode, no graph. ``generator``: a :class:`nablab.Generator` (default: nablab's global one).
        """
        check_sampling(temperature, top_k, self.vocab_size)
        out = np.asarray(ids.data if isinstance(ids, Tensor) else ids, dtype=np.int64)
        if out.ndim != 2 or out.shape[1] == 0:
            raise ValueError(f"generate takes a prompt of token ids (N, T) with T ≥ 1, got shape {out.shape}")
        with evaluating(self), no_grad():
            for _ in range(max_new_tokens):
                logits = self(Tensor(out[:, -self.block_size:])).data[:, -1]
                token = draw(next_token_probabilities(logits, temperature, top_k), generator)
                out = np.concatenate([out, token[:, None]], axis=1)
        return out


__all__ = ["TinyGPT"]
