"""Weight initialisation schemes, PyTorch's in-place forms: each writes into the tensor's data
(no graph is recorded, as under ``no_grad``), keeps its dtype, and returns the tensor. Values come
from nablab's seeded generator (``nablab.manual_seed``), or from ``generator`` (a NumPy Generator).

fan_in and fan_out of a weight of shape (out, in, k₁, k₂, …) are in·Πk and out·Πk
(:func:`_calculate_fan_in_and_fan_out`, PyTorch's rule; fewer than 2 dimensions have none).

- ``uniform_(w, a=0, b=1)``           w ~ U(a, b)
- ``normal_(w, mean=0, std=1)``       w ~ N(mean, std²)
- ``trunc_normal_(w, mean, std, a, b)``  N(mean, std²) conditioned on a ≤ w ≤ b
- ``constant_(w, val)``, ``ones_``, ``zeros_``, ``eye_`` (2-D: the identity), ``dirac_`` (convolutions
  that pass their input through)
- ``xavier_uniform_(w, gain)``        w ~ U(−g·√(6/(fan_in+fan_out)), +…)       (Glorot & Bengio 2010)
- ``xavier_normal_(w, gain)``         w ~ N(0, g²·2/(fan_in+fan_out))
- ``kaiming_uniform_(w, a, mode, nonlinearity)``  w ~ U(−g·√(3/fan), +…),  g = calculate_gain(nonlinearity, a)
- ``kaiming_normal_(w, a, mode, nonlinearity)``   w ~ N(0, g²/fan)           (He et al. 2015)
- ``orthogonal_(w, gain)``            w = g·Q of the QR decomposition of a Gaussian matrix (Saxe et al. 2013)
- ``lecun_normal_(w)``                w ~ N(0, 1/fan_in)                         (LeCun et al. 1998)
- ``fan_in_uniform_(w)``              w ~ U(−1/√fan_in, 1/√fan_in)  (PyTorch's Linear/Conv default)

The names without the trailing underscore are aliases.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..random import get_generator


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (in·Πk, out·Πk) of a weight (out, in, k₁, …); a ValueError below 2 dimensions."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor of fewer than 2 dimensions "
                         f"(shape {shape})")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fans(shape):
    """(fan_in, fan_out) as PyTorch's rule, and (n, n) for a vector (a bias, given its fan_in elsewhere)."""
    if len(shape) < 1:
        raise ValueError("cannot compute fan_in/fan_out of a scalar")
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


_UNIT_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the activations' variance through a nonlinearity (PyTorch's table): 1 for
    linear layers and sigmoid, 5/3 for tanh, √2 for ReLU, √(2/(1 + slope²)) for leaky ReLU (slope
    ``param``, default 0.01), 3/4 for SELU."""
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 0.75
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}; expected one of "
                     f"{sorted(_UNIT_GAIN + ('tanh', 'relu', 'selu'))} or leaky_relu")


def _fill(tensor, values):
    """Write ``values`` into the tensor's data (in its dtype, no graph), and return the tensor."""
    tensor.data[...] = np.asarray(values).astype(tensor.data.dtype, copy=False)
    return tensor


def _rng(generator):
    return get_generator() if generator is None else generator


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator=None):
    """w ~ N(mean, std²) conditioned on a ≤ w ≤ b (bounds in the values' units, as PyTorch's): draws
    outside [a, b] are drawn again (rejection sampling, exact)."""
    mass = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std)
    if not mass > 1e-6:
        raise ValueError(f"trunc_normal_: [{a}, {b}] holds only {mass:.3g} of N({mean}, {std}²)")
    rng = _rng(generator)
    values = rng.normal(mean, std, tuple(tensor.shape))
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def zeros_(tensor):
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor):
    return _fill(tensor, np.ones(tensor.shape))


def constant_(tensor, val: float):
    return _fill(tensor, np.full(tensor.shape, val))


def eye_(tensor):
    """The identity matrix (ones on the diagonal of a 2-D tensor, rectangular allowed)."""
    if len(tensor.shape) != 2:
        raise ValueError(f"eye_ supports only 2-D tensors, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups: int = 1):
    """A convolution kernel (out, in, k…) that passes input channel i to output channel i of each
    group: 1 at the kernel's centre for out = in, 0 elsewhere."""
    shape = tuple(tensor.shape)
    if len(shape) not in (3, 4, 5) or shape[0] % groups:
        raise ValueError(f"dirac_ supports 3-, 4- and 5-D tensors with out channels divisible by groups, got "
                         f"shape {shape} and groups={groups}")
    values = np.zeros(shape)
    per_group = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for i in range(min(per_group, shape[1])):
            values[(g * per_group + i, i) + centre] = 1.0
    return _fill(tensor, values)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    if 0 in tuple(tensor.shape):
        return tensor  # nothing to fill (PyTorch warns and returns it)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _calculate_correct_fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    if 0 in tuple(tensor.shape):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """gain·Q, Q with orthonormal rows or columns (whichever are fewer), from the QR decomposition of a
    Gaussian (rows × rest) matrix with the signs of R's diagonal folded in (so Q is uniformly
    distributed); a tensor of more than 2 dimensions is flattened to (out, rest)."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal_ supports tensors of 2 or more dimensions, got shape {shape}")
    if 0 in shape:
        return tensor
    rows, cols = shape[0], math.prod(shape[1:])
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape))


def lecun_normal_(tensor, generator=None):
    fan_in, _ = _fans(tensor.shape)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


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
constant = constant_
eye = eye_
dirac = dirac_
xavier_uniform = xavier_uniform_
xavier_normal = xavier_normal_
kaiming_uniform = kaiming_uniform_
kaiming_normal = kaiming_normal_
orthogonal = orthogonal_
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
