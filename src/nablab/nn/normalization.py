"""Normalization layers over groups, instances and layers: ``nn.GroupNorm``, ``nn.InstanceNorm1d/2d/3d``,
``nn.LayerNorm`` (the math is in :mod:`nablab.ops.group_norm` and :mod:`nablab.ops.layer_norm`)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from . import functional as F
from .batchnorm import _NormBase
from .module import Module
from .parameter import Parameter


class GroupNorm(Module):
    """Standardise each sample's ``num_groups`` groups of channels; then γ[c]·x̂ + β[c] per channel
    if ``affine`` (γ = 1, β = 0 at first; β only with ``bias``)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dtype or "float32"))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(num_channels, dtype=dtype or "float32"))
        else:
            self.register_parameter("bias", None)
        if device is not None:
            self.to(device)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm({self.num_groups}, {self.num_channels}) expects an input (N, "
                             f"{self.num_channels}, *), got shape {tuple(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_NormBase):
    """Each sample's channels standardised on their own; running estimates only with
    ``track_running_stats`` (then used in evaluation; as in PyTorch, ``num_batches_tracked`` stays 0
    and ``momentum=None`` leaves them unchanged). An unbatched input has no batch axis."""

    spatial = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x):
        batched = self.spatial + 2
        if x.ndim not in (batched - 1, batched) or x.shape[x.ndim - self.spatial - 1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) expects a {batched - 1}-D or {batched}-D "
                             f"input with {self.num_features} channels, got shape {tuple(x.shape)}")
        unbatched = x.ndim == batched - 1
        if unbatched:
            x = x.reshape((1,) + tuple(x.shape))
        momentum = 0.0 if self.momentum is None else self.momentum  # PyTorch's: no count, no cumulative average
        running_mean, running_var = self._running()
        y = F.instance_norm(x, running_mean, running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats, momentum, self.eps)
        return y.reshape(y.shape[1:]) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs."""

    spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs (Ulyanov et al. 2016)."""

    spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs."""

    spatial = 3


class LayerNorm(Module):
    """Standardise over the trailing ``normalized_shape`` axes; then γ ⊙ x̂ + β elementwise if
    ``elementwise_affine`` (β only with ``bias``)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(n) for n in shape), eps, elementwise_affine
        dtype = dtype or "float32"
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if device is not None:
            self.to(device)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


__all__ = ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LayerNorm"]
