"""Ready-made models: the reference TwoLayerNet (closed-form gradients) and MLPs."""

from .mlp import MLP
from .two_layer import TwoLayerNet

__all__ = ["MLP", "TwoLayerNet"]
