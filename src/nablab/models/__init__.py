"""Ready-made models: the reference TwoLayerNet (closed-form gradients), MLPs and CNNs."""

from .cnn import SmallCNN, VGGNet
from .mlp import MLP
from .two_layer import TwoLayerNet


def load(path, classes=None, cast: bool = False):
    """Rebuild a saved model with its weights: a file written by ``nablab.save(model, path)`` (its class
    and constructor arguments are in the metadata) or a run folder (the model of its ``config.toml``
    with the best-validation weights). Weights whose dtype differs from the rebuilt model's are an
    error unless ``cast`` is true. See :func:`nablab.io.load_model`."""
    from ..io.weights import load_model

    return load_model(path, classes=classes, cast=cast)


__all__ = ["MLP", "SmallCNN", "TwoLayerNet", "VGGNet", "load"]
