"""The functional forms of pooling, normalization and dropout (``nablab.nn.functional`` exports
them all: ``F.max_pool2d``, ``F.batch_norm``, ...)."""

from __future__ import annotations

from .. import kernels, ops
from ..random import get_generator
from ..tensor import Tensor


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


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "batch_norm_relu", "dropout", "max_pool2d"]
