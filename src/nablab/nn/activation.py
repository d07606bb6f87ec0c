"""Activation layers: thin modules over :mod:`nablab.nn.functional`."""

from __future__ import annotations

from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0)"""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope · x"""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + e⁻ˣ)"""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh x"""

    def forward(self, x):
        return F.tanh(x)


class ImprovedSigmoid(Module):
    """1.7159 · tanh(2x/3), LeCun's "improved sigmoid" (Efficient BackProp, 1998)."""

    def forward(self, x):
        return F.improved_sigmoid(x)


class Softmax(Module):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim``"""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """xᵢ − log Σⱼ e^(xⱼ) along ``dim``"""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


#: activation layers by name, for configs and the CLI (``--activation relu``)
ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "improved_sigmoid": ImprovedSigmoid,
}

__all__ = ["ACTIVATIONS", "ImprovedSigmoid", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]
