"""``CharRNN``: a character-level language model on an LSTM (Karpathy's char-rnn, PyTorch's word
language model example, written here from their description).

For token ids x₁…x_T::

    e_t = E[x_t]                                        embedding (vocab_size × embed_dim)
    (h_t, c_t) = LSTM(Dropout(e_t), (h_{t−1}, c_{t−1}))   num_layers layers, dropout between them
    logits_t = W · Dropout(h_t) + b                     Linear hidden_size → vocab_size

With ``tie_weights`` the decoder's W is the embedding's Parameter (Press & Wolf, 2017), which
needs hidden_size == embed_dim; ``parameters()`` and ``state_dict()`` then list it once.
:meth:`CharRNN.expected_state` lists the tensors without building the model, so that
``nablab.models.load`` checks a file against its metadata first.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..grad_mode import no_grad
from ..io.expected_state import constructor_arguments, layer_state
from ..nn.modes import evaluating
from ..tensor import Tensor
from .sampling import check_sampling, draw, next_token_probabilities


class CharRNN(nn.Module):
    """Embedding → LSTM (batch_first) → Linear to the vocabulary; see the module's docstring.

    ``forward(ids, state=None, return_state=False)`` maps ids (N, T) to logits (N, T, vocab_size),
    and with ``return_state`` to ``(logits, (h, c))``, the LSTM's final state (each
    (num_layers, N, hidden_size)) to carry into the next call.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 128, num_layers: int = 1,
                 dropout: float = 0.0, tie_weights: bool = False):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"CharRNN: {name} must be a positive integer, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"CharRNN: dropout must be in [0, 1), got {dropout!r}")
        if tie_weights and hidden_size != embed_dim:
            raise ValueError(f"CharRNN: tie_weights needs hidden_size == embed_dim (the decoder's weight is the "
                             f"embedding's), got hidden_size {hidden_size}, embed_dim {embed_dim}")
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    @classmethod
    def expected_state(cls, *args, **kwargs) -> dict:
        """``{name: (shape, dtype)}`` of the ``state_dict()`` that ``CharRNN(*args, **kwargs)`` would hold, worked
        out without building it (see :mod:`nablab.io.expected_state`); a tied decoder weight is the embedding's,
        listed once."""
        a = constructor_arguments(cls, args, kwargs)
        state = {**layer_state("embedding", nn.Embedding, a["vocab_size"], a["embed_dim"]),
                 **layer_state("lstm", nn.LSTM, a["embed_dim"], a["hidden_size"], a["num_layers"]),
                 **layer_state("decoder", nn.Linear, a["hidden_size"], a["vocab_size"])}
        if a["tie_weights"]:
            del state["decoder.weight"]
        return state

    def forward(self, ids, state=None, return_state: bool = False):
        ids = ids if isinstance(ids, Tensor) else Tensor(np.asarray(ids))
        if ids.ndim != 2:
            raise ValueError(f"CharRNN takes token ids of shape (N, T), got shape {tuple(ids.shape)}")
        out, state = self.lstm(self.dropout(self.embedding(ids)), state)
        logits = self.decoder(self.dropout(out))
        return (logits, state) if return_state else logits

    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 generator=None) -> np.ndarray:
        """``ids`` (N, T) followed by ``max_new_tokens`` sampled ids, an int64 array (N, T + max_new_tokens).

        The prompt is read once; then each new token is drawn from the last logits with
        ``temperature`` and ``top_k`` (:mod:`nablab.models.sampling`) and fed back with the carried
        LSTM state; eval mode, no graph. ``generator``: a :class:`nablab.Generator` (default: nablab's).
        """
        check_sampling(temperature, top_k, self.vocab_size)
        out = np.asarray(ids.data if isinstance(ids, Tensor) else ids, dtype=np.int64)
        if out.ndim != 2 or out.shape[1] == 0:
            raise ValueError(f"generate takes a prompt of token ids (N, T) with T ≥ 1, got shape {out.shape}")
        with evaluating(self), no_grad():
            logits, state = self(Tensor(out), return_state=True)
            for i in range(max_new_tokens):
                token = draw(next_token_probabilities(logits.data[:, -1], temperature, top_k), generator)
                out = np.concatenate([out, token[:, None]], axis=1)
                if i + 1 < max_new_tokens:
                    logits, state = self(Tensor(token[:, None]), state, return_state=True)
        return out


__all__ = ["CharRNN"]
