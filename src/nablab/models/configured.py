"""``from_config``: the model a ``[model]`` table of a run's configuration describes."""

from __future__ import annotations

import math

from .char_rnn import CharRNN
from .cnn import SmallCNN, VGGNet
from .mlp import MLP
from .tiny_gpt import TinyGPT

#: the ``[model] kind`` values and the classes they build
KINDS = {"mlp": MLP, "small_cnn": SmallCNN, "vgg": VGGNet, "char_rnn": CharRNN, "tiny_gpt": TinyGPT}
#: the kinds that are language models: their inputs are token ids (N, T), their outputs logits (N, T, V)
LANGUAGE_MODELS = ("char_rnn", "tiny_gpt")


def from_config(model: dict, input_shape, num_classes: int):
    """The network of a ``[model]`` table (``kind``, ``hidden``, ``activation``, ``init``, ``init_scale``,
    ``dropout``, ``widths``, ``batch_norm``; the language models' ``embed_dim``, ``hidden_size``,
    ``num_layers``, ``tie_weights``, ``n_layer``, ``n_head``, ``n_embd``, ``block_size``, ``bias``) for
    inputs of ``input_shape`` (without the batch axis).

    An MLP takes the inputs flattened (``prod(input_shape)`` features); the CNNs take square C×H×W
    images; a language model takes sequences of ``input_shape[0]`` token ids over a vocabulary of
    ``num_classes`` tokens (TinyGPT's ``block_size`` unset: that length). A kind or shape that does
    not fit is a ValueError naming it.
    """
    kind = model["kind"]
    if kind not in KINDS:
        raise ValueError(f"[model] kind = {kind!r} is not one of {sorted(KINDS)}")
    shape = tuple(int(s) for s in input_shape)
    if kind == "mlp":
        return MLP(math.prod(shape), model["hidden"], num_classes, activation=model["activation"],
                   init=model["init"], dropout=model["dropout"], init_scale=model["init_scale"])
    if kind in LANGUAGE_MODELS:
        if len(shape) != 1:
            raise ValueError(f"[model] kind = {kind!r} needs sequences of token ids, the data has shape {shape}")
        if kind == "char_rnn":
            return CharRNN(num_classes, model["embed_dim"], model["hidden_size"], model["num_layers"],
                           model["dropout"], tie_weights=model["tie_weights"])
        block_size = model["block_size"] or shape[0]
        if block_size < shape[0]:
            raise ValueError(f"[model] block_size = {block_size} is shorter than the sequences of {shape[0]} tokens "
                             "(data.seq_len)")
        return TinyGPT(num_classes, block_size, model["n_layer"], model["n_head"], model["n_embd"],
                       model["dropout"], model["bias"])
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"[model] kind = {kind!r} needs square images, the data has shape {shape}")
    if kind == "small_cnn":
        return SmallCNN(shape[0], num_classes, widths=model["widths"], hidden=(model["hidden"] or [None])[0],
                        batch_norm=model["batch_norm"], image_size=shape[1])
    return VGGNet(shape[0], num_classes)
