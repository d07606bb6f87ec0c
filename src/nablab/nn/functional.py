"""Stateless layer functions (``nablab.nn.functional``, imported as ``F`` like PyTorch's)."""

from __future__ import annotations

from .. import kernels, ops
from ..backend import get_array_module
from ..tensor import Tensor, as_tensor


def linear(x, weight, bias=None):
    """y = x Wᵀ + b with W of shape (out, in)."""
    _check_features("linear", x, weight)
    args = (x, weight) if bias is None else (x, weight, bias)
    return ops.Linear.apply(*args)


def linear_relu(x, weight, bias=None):
    """y = relu(linear(x, weight, bias)) = max(x Wᵀ + b, 0).

    ``nn.Sequential`` calls this for a Linear directly followed by a ReLU; a registered kernel
    (:mod:`nablab.kernels.cpu.fusion`) may run the pair as one graph node, with the same numbers.
    """
    _check_features("linear_relu", x, weight)
    args = (x, weight) if bias is None else (x, weight, bias)
    fused = kernels.select(linear_relu, getattr(x, "data", x))
    if fused is not linear_relu:
        return fused(*args)
    return ops.ReLU.apply(ops.Linear.apply(*args))


def _check_features(name, x, weight):
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"{name}: input has {x.shape[-1]} features, the weight {tuple(weight.shape)} "
                         f"expects {weight.shape[1]}")


def relu(x):
    return ops.ReLU.apply(x)


def leaky_relu(x, negative_slope: float = 0.01):
    return ops.LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x):
    return ops.Sigmoid.apply(x)


def tanh(x):
    return ops.Tanh.apply(x)


def improved_sigmoid(x):
    """f(x) = 1.7159 · tanh(2x/3) (LeCun et al. 1998, "Efficient BackProp");  f'(x) = 1.7159 · ⅔ · (1 − tanh²(2x/3)).

    Chosen so that f(±1) = ±1 and the effective gain near 0 is about 1.
    """
    return ops.Tanh.apply(x * (2.0 / 3.0)) * 1.7159


def softmax(x, axis: int = -1):
    return ops.Softmax.apply(x, axis=axis)


def log_softmax(x, axis: int = -1):
    return ops.LogSoftmax.apply(x, axis=axis)


def cross_entropy(logits, labels, reduction: str = "mean"):
    """Mean (or summed) softmax cross-entropy of logits (N×C) against integer labels (N,).

    Fused and stable: see :class:`nablab.ops.SoftmaxCrossEntropy`.
    """
    labels = labels.data if isinstance(labels, Tensor) else get_array_module(logits.data).asarray(labels)
    return ops.SoftmaxCrossEntropy.apply(logits, labels=labels, reduction=reduction)


def mse_loss(x, target, reduction: str = "mean"):
    """Mean (or summed) squared error Σ(x − t)² / n."""
    diff = x - as_tensor(target, like=(x,))
    sq = diff * diff
    if reduction == "mean":
        return sq.mean()
    if reduction == "sum":
        return sq.sum()
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def l2_penalty(parameters, reg: float):
    """reg · Σ_W ‖W‖² over the weight matrices/kernels only (parameters with ≥ 2 dims; biases and
    normalisation scales excluded), as the course reports write it; its gradient is 2·reg·W.

    ``parameters`` is a Module or an iterable of parameters.
    """
    params = parameters.parameters() if hasattr(parameters, "parameters") else parameters
    weights = [p for p in params if p.ndim >= 2]
    if not weights:
        raise ValueError("l2_penalty found no weight matrices (parameters with 2 or more dimensions)")
    total = (weights[0] * weights[0]).sum()
    for w in weights[1:]:
        total = total + (w * w).sum()
    return total * reg


# the layers' functional forms live in their own modules: convolution, padding and resampling;
# pooling, normalization and dropout
from .functional_conv import *  # noqa: E402, F403
from .functional_layers import *  # noqa: E402, F403
