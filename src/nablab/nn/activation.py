"""Activation layers: thin modules over :mod:`nablab.nn.functional`, with PyTorch's constructor
arguments (``inplace=True`` overwrites the input, as in PyTorch: see
:mod:`nablab.nn.functional_activations`)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from . import functional as F
from .module import Module
from .parameter import Parameter


class _Elementwise(Module):
    """An activation without settings: ``forward`` applies ``fn``."""

    fn = None

    def forward(self, x):
        return type(self).fn(x)


class _InPlaceAccepted(Module):
    """An activation whose PyTorch constructor takes ``inplace``."""

    fn = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return type(self).fn(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_InPlaceAccepted):
    """max(x, 0)"""

    fn = F.relu


class ReLU6(_InPlaceAccepted):
    """min(max(x, 0), 6)"""

    fn = F.relu6


class SiLU(_InPlaceAccepted):
    """x·σ(x)"""

    fn = F.silu


class Mish(_InPlaceAccepted):
    """x·tanh(softplus(x))"""

    fn = F.mish


class Hardswish(_InPlaceAccepted):
    """x · relu6(x + 3) / 6"""

    fn = F.hardswish


class Hardsigmoid(_InPlaceAccepted):
    """relu6(x + 3) / 6"""

    fn = F.hardsigmoid


class SELU(_InPlaceAccepted):
    """scale · elu(x, α), α ≈ 1.6733, scale ≈ 1.0507"""

    fn = F.selu


class Sigmoid(_Elementwise):
    """1 / (1 + e⁻ˣ)"""

    fn = F.sigmoid


class Tanh(_Elementwise):
    """tanh x"""

    fn = F.tanh


class ImprovedSigmoid(_Elementwise):
    """1.7159 · tanh(2x/3), LeCun's "improved sigmoid" (Efficient BackProp, 1998)."""

    fn = F.improved_sigmoid


class Softsign(_Elementwise):
    """x / (1 + |x|)"""

    fn = F.softsign


class LogSigmoid(_Elementwise):
    """log σ(x)"""

    fn = F.logsigmoid


class Tanhshrink(_Elementwise):
    """x − tanh x"""

    fn = F.tanhshrink


class Threshold(Module):
    """x if x > threshold else value"""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Hardshrink(Module):
    """x if |x| > λ else 0"""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return F.hardshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x − λ·sign(x) if |x| > λ else 0"""

    def forward(self, x):
        return F.softshrink(x, self.lambd)


class GLU(Module):
    """a ⊙ σ(b) for the two halves a, b of the input along ``dim``"""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LeakyReLU(Module):
    """x if x > 0 else negative_slope · x"""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else α(eˣ − 1)"""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, x) + min(0, α(e^(x/α) − 1))"""

    def forward(self, x):
        return F.celu(x, self.alpha, self.inplace)


class GELU(Module):
    """x·Φ(x) (``approximate="tanh"``: PyTorch's tanh approximation)"""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/β)·log(1 + e^(βx)), linear where βx > threshold"""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """min(max(x, min_val), max_val)"""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x if x > 0 else a·x with a learnable slope: one for all channels (``num_parameters=1``) or one
    per channel (axis 1 of the input), each initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype="float32"):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.full(num_parameters, init, dtype=dtype or "float32"))

    def reset_parameters(self) -> None:
        self.weight.data[...] = self.init

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim`` (None: PyTorch's implicit choice, with its warning)"""

    def __init__(self, dim: int | None = None):
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


class Softmin(Softmax):
    """e^(−xᵢ) / Σⱼ e^(−xⱼ) along ``dim``"""

    def forward(self, x):
        return F.softmin(x, self.dim)


class Softmax2d(Module):
    """Softmax over the channels (dim −3) of a (C, H, W) or (N, C, H, W) input, at every position"""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d expects a 3-D or 4-D input, got shape {tuple(x.shape)}")
        return F.softmax(x, -3)


#: the activation layers without parameters by name, for configs and the CLI (``--activation relu``)
ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "improved_sigmoid": ImprovedSigmoid,
    "gelu": GELU,
    "silu": SiLU,
    "elu": ELU,
    "selu": SELU,
    "celu": CELU,
    "softplus": Softplus,
    "softsign": Softsign,
    "mish": Mish,
    "hardswish": Hardswish,
    "hardsigmoid": Hardsigmoid,
    "hardtanh": Hardtanh,
    "relu6": ReLU6,
    "logsigmoid": LogSigmoid,
}

__all__ = [
    "ACTIVATIONS", "CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
    "ImprovedSigmoid", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "ReLU", "ReLU6", "SELU", "SiLU",
    "Sigmoid", "Softmax", "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink",
    "Threshold",
]
