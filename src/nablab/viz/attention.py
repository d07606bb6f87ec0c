"""Where attention looks: the weights softmax(q kᵀ/√d) of every head as a heat map, queries down the
side, keys along the bottom, each labelled with its token.

Row i of a head's map is the distribution over the keys that query i averages the values with (it
sums to 1); a causal model's maps are lower-triangular (a query sees only itself and the keys
before it).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .figures import new_figure, save_png

#: characters that would be invisible or break a tick label, shown as visible stand-ins
_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def _token_label(token) -> str:
    text = token if isinstance(token, str) else str(token)
    return "".join(_VISIBLE.get(c, c) for c in text) if text else "∅"


def _heads(weights, batch: int) -> np.ndarray:
    """One layer's weights as an array (heads, queries, keys)."""
    array = weights.numpy() if hasattr(weights, "numpy") else np.asarray(weights)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 4:
        if not -array.shape[0] <= batch < array.shape[0]:
            raise IndexError(f"batch {batch} is out of range for attention weights of {array.shape[0]} sequences")
        array = array[batch]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ShapeError(f"attention weights must be (queries, keys), (heads, queries, keys) or (batch, heads, "
                         f"queries, keys), got shape {array.shape}")
    return array


def attention_map(weights, tokens_q, tokens_k, path, *, batch: int = 0, layer_names=None,
                  title: str = "Attention weights") -> None:
    """Draw attention weights as heat maps, one per head, and write the PNG to ``path`` atomically.

    ``weights``: one layer's weights, (queries, keys), (heads, queries, keys) or (batch, heads,
    queries, keys) — then sequence ``batch`` is drawn — as an array or tensor; or a list of such,
    one per layer (``TinyGPT.attention_maps(ids)``), drawn as one row of heads per layer.
    ``tokens_q``/``tokens_k``: the query and key tokens (strings, e.g. characters); ``tokens_k=None``
    for self-attention (the keys are the queries). Spaces and newlines are drawn as ␣ and ↵.
    """
    per_layer = [_heads(w, batch) for w in (weights if isinstance(weights, (list, tuple)) else [weights])]
    if not per_layer:
        raise ValueError("no attention weights to draw")
    tokens_k = tokens_q if tokens_k is None else tokens_k
    queries, keys = len(tokens_q), len(tokens_k)
    for i, heads in enumerate(per_layer):
        if heads.shape[1:] != (queries, keys):
            raise ShapeError(f"the attention weights{f' of layer {i}' if len(per_layer) > 1 else ''} are "
                             f"{heads.shape[1]} queries × {heads.shape[2]} keys, but {queries} query and {keys} "
                             "key tokens were given")
    if layer_names is not None and len(layer_names) != len(per_layer):
        raise ValueError(f"layer_names has {len(layer_names)} names for {len(per_layer)} layers")
    if len(per_layer) == 1:  # one layer: its heads in rows of up to four
        cols = min(len(per_layer[0]), 4)
        panels = [(h // cols, h % cols, 0, h) for h in range(len(per_layer[0]))]
    else:  # one row of heads per layer
        cols = max(len(heads) for heads in per_layer)
        panels = [(layer, h, layer, h) for layer, heads in enumerate(per_layer) for h in range(len(heads))]
    rows = panels[-1][0] + 1
    cell = min(0.2, max(0.06, 3.6 / max(queries, keys)))  # inches per token: a panel of about 3.6 in
    size = max(2.2, cell * max(queries, keys))
    fig, axes = new_figure((cols * size + 1.2, rows * size + 0.8), nrows=rows, ncols=cols, squeeze=False)
    top = max(float(heads.max()) for heads in per_layer) or 1.0
    step = max(1, -(-max(queries, keys) // 48))  # at most ~48 labels per axis
    fontsize = 6 if max(queries, keys) <= 40 else 5
    labels_q = [_token_label(t) for t in tokens_q]
    labels_k = [_token_label(t) for t in tokens_k]
    for r, c, layer, head in panels:
        ax = axes[r, c]
        image = ax.imshow(per_layer[layer][head], cmap="viridis", vmin=0.0, vmax=top, interpolation="nearest",
                          aspect="auto")
        name = layer_names[layer] if layer_names is not None else f"layer {layer}"
        ax.set_title(f"head {head}" if len(per_layer) == 1 else f"{name}, head {head}", fontsize=9)
        ax.set_xticks(range(0, keys, step), labels_k[::step], fontsize=fontsize)
        ax.set_yticks(range(0, queries, step), labels_q[::step], fontsize=fontsize)
        ax.tick_params(length=0)
        if c == 0:
            ax.set_ylabel("query", fontsize=8)
        ax.set_xlabel("key", fontsize=8)
    used = {(r, c) for r, c, _, _ in panels}
    for ax in [axes[r, c] for r in range(rows) for c in range(cols) if (r, c) not in used]:
        ax.set_axis_off()
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    fig.suptitle(title)
    save_png(fig, path)
