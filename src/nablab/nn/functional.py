"""Stateless layer functions (``nablab.nn.functional``, imported as ``F`` like PyTorch's)."""

from __future__ import annotations

from .. import kernels, ops
from ..backend import get_array_module
from ..random import get_generator
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


def dropout(x, p: float = 0.5, training: bool = True):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p).

    y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p), so E[y] = x and evaluation needs no rescaling;
    dL/dx = dL/dy ⊙ m / (1 − p). The identity when not ``training`` or p = 0.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    keep = get_generator().random(x.shape) >= p
    mask = Tensor._make((keep / (1.0 - p)).astype(x.dtype))
    return x * mask


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


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1):
    """2-D convolution of NCHW ``x`` with ``weight`` (O, C/groups, kh, kw); see :mod:`nablab.ops.conv`."""
    if x.ndim != 4:
        raise ValueError(f"conv2d expects an (N, C, H, W) input, got shape {tuple(x.shape)}")
    args = (x, weight) if bias is None else (x, weight, bias)
    return ops.Conv2d.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


def max_pool2d(x, kernel_size: int, stride: int | None = None, padding: int = 0):
    return ops.MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size: int, stride: int | None = None, padding: int = 0):
    return ops.AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def adaptive_avg_pool2d(x, output_size: int = 1):
    """Average over equal tiles giving ``output_size``×``output_size`` outputs.

    Output 1 is global average pooling (any input size); otherwise the input must be square and
    divisible into the tiles (the general case of uneven tiles is not implemented).
    """
    h, w = x.shape[2], x.shape[3]
    if output_size == 1:
        return x.mean(axis=(2, 3), keepdims=True)
    if h != w or h % output_size:
        raise ValueError(f"adaptive_avg_pool2d: a {h}×{w} input does not divide into {output_size}×{output_size} "
                         "equal square tiles")
    return avg_pool2d(x, h // output_size)


def batch_norm(x, running_mean, running_var, weight, bias, training: bool, momentum: float = 0.1,
               eps: float = 1e-5):
    """Batch normalisation over axis 1 (see :mod:`nablab.ops.normalization`).

    In training, batch statistics normalise ``x`` and the running estimates (arrays, updated in
    place) move towards them: r ← (1 − momentum)·r + momentum·batch, with the unbiased variance,
    as PyTorch does. In evaluation the running estimates are used.
    """
    if training:
        stats = {}
        y = ops.BatchNormTrain.apply(x, weight, bias, eps=eps, stats=stats)
        _update_running(running_mean, running_var, stats, momentum)
        return y
    return ops.BatchNormEval.apply(x, weight, bias, running_mean=running_mean, running_var=running_var, eps=eps)


def _update_running(running_mean, running_var, stats, momentum):
    """r ← (1 − momentum)·r + momentum·batch, in place, with the unbiased batch variance."""
    m = stats["count"]
    running_mean *= 1 - momentum
    running_mean += momentum * stats["mean"]
    running_var *= 1 - momentum
    running_var += momentum * stats["var"] * (m / max(m - 1, 1))


def batch_norm_relu(x, running_mean, running_var, weight, bias, training: bool, momentum: float = 0.1,
                    eps: float = 1e-5):
    """relu(batch_norm(x, ...)). ``nn.Sequential`` calls this for a batch norm directly followed by a
    ReLU; in training a registered kernel (:mod:`nablab.kernels.cpu.fusion`) may run the pair as one
    graph node, with the same numbers."""
    if training:
        fused = kernels.select(batch_norm_relu, getattr(x, "data", x))
        if fused is not batch_norm_relu:
            stats = {}
            y = fused(x, weight, bias, eps=eps, stats=stats)
            _update_running(running_mean, running_var, stats, momentum)
            return y
    return ops.ReLU.apply(batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps))
