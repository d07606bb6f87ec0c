"""Ready-made models: the reference TwoLayerNet (closed-form gradients), MLPs and CNNs."""

from .cnn import SmallCNN, VGGNet
from .mlp import MLP
from .two_layer import TwoLayerNet

__all__ = ["MLP", "SmallCNN", "TwoLayerNet", "VGGNet"]
