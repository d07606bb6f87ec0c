"""Weight initialisation schemes, in place on a parameter, drawn from nablab's seeded generator.

fan_in/fan_out of a weight of shape (out, in, k₁, k₂, …) are in·Πk and out·Πk (PyTorch's rule).

- ``normal_(w, mean=0, std=1)``      w ~ N(mean, std²)     (PyTorch's order: pass ``std=`` by name)
- ``uniform_(w, a, b)``               w ~ U(a, b)
- ``xavier_uniform_(w, gain)``        w ~ U(−g·√(6/(fan_in+fan_out)), +…)       (Glorot & Bengio 2010)
- ``xavier_normal_(w, gain)``         w ~ N(0, g²·2/(fan_in+fan_out))
- ``kaiming_uniform_(w, ...)``        w ~ U(−g·√(3/fan), +…),  g = √2 for ReLU  (He et al. 2015)
- ``kaiming_normal_(w, ...)``         w ~ N(0, g²/fan)
- ``lecun_normal_(w)``                w ~ N(0, 1/fan_in)                         (LeCun et al. 1998)
- ``fan_in_uniform_(w)``              w ~ U(−1/√fan_in, 1/√fan_in)  (PyTorch's Linear/Conv default)

The names without the trailing underscore are aliases.
"""

from __future__ import annotations

import math

import numpy as np

from ..random import get_generator


def _fans(shape):
    if len(shape) < 1:
        raise ValueError("cannot compute fan_in/fan_out of a scalar")
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the activations' variance for a nonlinearity (PyTorch's table)."""
    gains = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0),
             "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in gains:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; expected one of {sorted(gains)} or leaky_relu")
    return gains[nonlinearity]


def _fill(tensor, values):
    tensor.data[...] = values.astype(tensor.data.dtype)
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    return _fill(tensor, get_generator().normal(mean, std, tensor.shape))


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    return _fill(tensor, get_generator().uniform(a, b, tensor.shape))


def zeros_(tensor):
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor):
    return _fill(tensor, np.ones(tensor.shape))


def constant_(tensor, value: float):
    return _fill(tensor, np.full(tensor.shape, value))


def xavier_uniform_(tensor, gain: float = 1.0):
    fan_in, fan_out = _fans(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain: float = 1.0):
    fan_in, fan_out = _fans(tensor.shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor.shape)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def lecun_normal_(tensor):
    fan_in, _ = _fans(tensor.shape)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in))


def fan_in_uniform_(tensor, fan_in: int | None = None):
    """U(−1/√fan_in, 1/√fan_in); pass ``fan_in`` for a bias, whose own shape does not tell it."""
    fan_in = _fans(tensor.shape)[0] if fan_in is None else fan_in
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(tensor, -bound, bound)


def default_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: weight and bias ~ U(−1/√fan_in, 1/√fan_in),
    fan_in taken from the weight."""
    fan_in_uniform_(weight)
    if bias is not None:
        fan_in_uniform_(bias, fan_in=_fans(weight.shape)[0])


normal = normal_
uniform = uniform_
xavier_uniform = xavier_uniform_
xavier_normal = xavier_normal_
kaiming_uniform = kaiming_uniform_
kaiming_normal = kaiming_normal_
lecun_normal = lecun_normal_
fan_in_uniform = fan_in_uniform_

#: the schemes by name, for configs and the CLI (``--init kaiming_normal``)
SCHEMES = {
    "fan_in_uniform": fan_in_uniform_,
    "xavier_uniform": xavier_uniform_,
    "xavier_normal": xavier_normal_,
    "kaiming_uniform": lambda w: kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_normal": lambda w: kaiming_normal_(w, nonlinearity="relu"),
    "lecun_normal": lecun_normal_,
}
