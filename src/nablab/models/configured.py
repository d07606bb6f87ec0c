"""``from_config``: the model a ``[model]`` table of a run's configuration describes."""

from __future__ import annotations

import math

from .cnn import SmallCNN, VGGNet
from .mlp import MLP

#: the ``[model] kind`` values and the classes they build
KINDS = {"mlp": MLP, "small_cnn": SmallCNN, "vgg": VGGNet}


def from_config(model: dict, input_shape, num_classes: int):
    """The network of a ``[model]`` table (``kind``, ``hidden``, ``activation``, ``init``, ``init_scale``,
    ``dropout``, ``widths``, ``batch_norm``) for inputs of ``input_shape`` (without the batch axis).

    An MLP takes the inputs flattened (``prod(input_shape)`` features); the CNNs take square C×H×W
    images. A kind or shape that does not fit is a ValueError naming it.
    """
    kind = model["kind"]
    if kind not in KINDS:
        raise ValueError(f"[model] kind = {kind!r} is not one of {sorted(KINDS)}")
    shape = tuple(int(s) for s in input_shape)
    if kind == "mlp":
        return MLP(math.prod(shape), model["hidden"], num_classes, activation=model["activation"],
                   init=model["init"], dropout=model["dropout"], init_scale=model["init_scale"])
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"[model] kind = {kind!r} needs square images, the data has shape {shape}")
    if kind == "small_cnn":
        return SmallCNN(shape[0], num_classes, widths=model["widths"], hidden=(model["hidden"] or [None])[0],
                        batch_norm=model["batch_norm"], image_size=shape[1])
    return VGGNet(shape[0], num_classes)
