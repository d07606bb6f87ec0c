"""The functional forms of normalization, PyTorch's signatures: ``F.batch_norm``, ``F.group_norm``,
``F.instance_norm``, ``F.layer_norm`` (the math is in :mod:`nablab.ops.normalization`,
:mod:`nablab.ops.group_norm` and :mod:`nablab.ops.layer_norm`).

A missing ``weight`` or ``bias`` is the constant 1 or 0 (no gradient). Running estimates are
arrays or tensors, updated in place: r ← (1 − momentum)·r + momentum·batch, with the unbiased
variance, as PyTorch does.
"""

from __future__ import annotations

import math

from .. import kernels, ops
from ..backend import get_array_module
from ..errors import ShapeError
from ..ops.group_norm import GroupNorm
from ..ops.layer_norm import LayerNorm
from ..tensor import Tensor, as_tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _array(r):
    """A running estimate's array (updated in place), or None."""
    return r.data if isinstance(r, Tensor) else r


def _affine(x, weight, bias, shape):
    """weight and bias, each replaced by the constant ones or zeros of ``shape`` (x's dtype) where None."""
    xp = get_array_module(x.data)
    weight = xp.ones(shape, dtype=x.dtype) if weight is None else weight
    bias = xp.zeros(shape, dtype=x.dtype) if bias is None else bias
    return weight, bias


def _check_channels(name, x, min_ndim=2):
    if x.ndim < min_ndim:
        raise ShapeError(f"{name} expects an input of at least {min_ndim} dimensions (N, C, ...), got shape "
                         f"{tuple(x.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,  # noqa: A002
               momentum: float = 0.1, eps: float = 1e-5):
    """Batch normalisation over axis 1 (see :mod:`nablab.ops.normalization`).

    In training, batch statistics normalise the input and the running estimates (if given) move
    towards them; in evaluation the running estimates are used.
    """
    x = _tensor(input)
    _check_channels("batch_norm", x)
    weight, bias = _affine(x, weight, bias, (x.shape[1],))
    if training:
        if math.prod(x.shape) // max(x.shape[1], 1) <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {tuple(x.shape)}")
        stats = {}
        y = ops.BatchNormTrain.apply(x, weight, bias, eps=eps, stats=stats)
        _update_running(_array(running_mean), _array(running_var), stats["mean"], stats["var"], stats["count"],
                        momentum)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
    return ops.BatchNormEval.apply(x, weight, bias, running_mean=_array(running_mean),
                                   running_var=_array(running_var), eps=eps)


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """r ← (1 − momentum)·r + momentum·batch, in place, with the unbiased batch variance (none without r)."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += momentum * var * (count / max(count - 1, 1))


def batch_norm_relu(x, running_mean, running_var, weight=None, bias=None, training: bool = False,
                    momentum: float = 0.1, eps: float = 1e-5):
    """relu(batch_norm(x, ...)). ``nn.Sequential`` calls this for a batch norm directly followed by a
    ReLU; in training a registered kernel (:mod:`nablab.kernels.cpu.fusion`) may run the pair as one
    graph node, with the same numbers."""
    if training:
        fused = kernels.select(batch_norm_relu, getattr(x, "data", x))
        if fused is not batch_norm_relu:
            stats = {}
            weight, bias = _affine(_tensor(x), weight, bias, (x.shape[1],))
            y = fused(x, weight, bias, eps=eps, stats=stats)
            _update_running(_array(running_mean), _array(running_var), stats["mean"], stats["var"], stats["count"],
                            momentum)
            return y
    return ops.ReLU.apply(batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps))


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):  # noqa: A002
    """Standardise each sample's groups of C/num_groups channels, then γ[c]·x̂ + β[c] per channel
    (see :mod:`nablab.ops.group_norm`)."""
    x = _tensor(input)
    _check_channels("group_norm", x)
    weight, bias = _affine(x, weight, bias, (x.shape[1],))
    return GroupNorm.apply(x, weight, bias, num_groups=num_groups, eps=eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Standardise each sample's channels on their own (group norm with one channel per group), then
    γ[c]·x̂ + β[c]. With running estimates given, they move towards the batch's mean of the
    instances' statistics; with ``use_input_stats=False`` they normalise instead."""
    x = _tensor(input)
    _check_channels("instance_norm", x, 3)
    weight, bias = _affine(x, weight, bias, (x.shape[1],))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return ops.BatchNormEval.apply(x, weight, bias, running_mean=_array(running_mean),
                                       running_var=_array(running_var), eps=eps)
    if math.prod(x.shape[2:]) <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, got input of shape "
                         f"{tuple(x.shape)}")
    stats = {} if running_mean is not None or running_var is not None else None
    y = GroupNorm.apply(x, weight, bias, num_groups=x.shape[1], eps=eps, stats=stats)
    if stats is not None:
        _update_running(_array(running_mean), _array(running_var), stats["mean"].mean(axis=0),
                        stats["var"].mean(axis=0), stats["count"], momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):  # noqa: A002
    """Standardise over the trailing ``normalized_shape`` axes, then γ ⊙ x̂ + β elementwise
    (see :mod:`nablab.ops.layer_norm`)."""
    x = _tensor(input)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(n) for n in normalized_shape)
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} expects an input of shape (*, "
                         f"{', '.join(map(str, shape))}), got {tuple(x.shape)}")
    weight, bias = _affine(x, weight, bias, shape)
    return LayerNorm.apply(x, weight, bias, normalized_ndim=len(shape), eps=eps)


__all__ = ["batch_norm", "batch_norm_relu", "group_norm", "instance_norm", "layer_norm"]
