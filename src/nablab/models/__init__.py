"""Ready-made models: the reference TwoLayerNet (closed-form gradients), MLPs, CNNs and the language
models CharRNN (an LSTM) and TinyGPT (a small GPT-style decoder).

``load(path)`` rebuilds a model saved with ``nablab.save(model, path)``; ``from_config`` builds the
model a run's ``[model]`` table describes.
"""

from ..io.weights import load_model
from .char_rnn import CharRNN
from .cnn import SmallCNN, VGGNet
from .configured import from_config
from .mlp import MLP
from .tiny_gpt import TinyGPT
from .two_layer import TwoLayerNet


def load(path, classes=None, cast: bool = False):
    """Rebuild a saved model with its weights from a file written by ``nablab.save(model, path)`` (its
    class and constructor arguments are in the metadata; a run folder's model is
    ``nablab.lab.Run(folder).load_model()``). Weights whose dtype differs from the rebuilt model's are
    an error unless ``cast`` is true. See :func:`nablab.io.load_model`."""
    return load_model(path, classes=classes, cast=cast)


__all__ = ["MLP", "CharRNN", "SmallCNN", "TinyGPT", "TwoLayerNet", "VGGNet", "from_config", "load"]
