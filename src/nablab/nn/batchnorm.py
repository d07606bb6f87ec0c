"""Batch normalisation layers with running statistics (see :mod:`nablab.ops.normalization`), with
PyTorch's options: ``affine=False`` (no weight or bias: γ = 1, β = 0), ``track_running_stats=False``
(no running estimates: batch statistics in evaluation too), ``momentum=None`` (the running
estimates are the cumulative average of every batch's statistics: factor 1/num_batches_tracked).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter


class _NormBase(Module):
    """Per-channel γ, β (``weight``, ``bias``) if ``affine`` (β only with ``bias``, PyTorch's keyword);
    running mean/var and the count of batches seen (``num_batches_tracked``) as buffers if
    ``track_running_stats``. ``device`` and ``dtype`` place and type them."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        dtype = dtype or "float32"
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._make(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor._make(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor._make(np.zeros((), dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        if device is not None:
            self.to(device)

    def _upgrade_state(self, state: dict, prefix: str) -> None:
        """Older nablab state dicts: no ``num_batches_tracked`` (it starts at 0), and ``weight``/``bias``
        saved for a layer without ``affine`` (dropped when they are the identity γ = 1, β = 0)."""
        if self.track_running_stats and f"{prefix}running_mean" in state:
            state.setdefault(f"{prefix}num_batches_tracked", Tensor._make(np.zeros((), dtype=np.int64)))
        if not self.affine:
            for name, identity in (("weight", 1.0), ("bias", 0.0)):
                value = state.get(prefix + name)
                if value is not None and np.all(np.asarray(getattr(value, "data", value)) == identity):
                    del state[prefix + name]

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def _momentum(self) -> float:
        """The running estimates' factor for this call: momentum, or 1/num_batches_tracked for None
        (counting this batch), in training with running statistics."""
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                return 1.0 / float(self.num_batches_tracked.data)
        return 0.0 if self.momentum is None else self.momentum

    def _running(self):
        """The running estimates' arrays, or (None, None) without them."""
        if self.running_mean is None:
            return None, None
        return self.running_mean.data, self.running_var.data

    def extra_repr(self) -> str:
        """PyTorch's: every setting (``bias``: whether the layer has a shift β)."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    ndims: tuple = ()

    def forward(self, x, relu: bool = False):
        """Normalise x; with ``relu`` also apply a ReLU after it (``nn.Sequential`` fuses the pair)."""
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{n}-D" for n in self.ndims)
            raise ShapeError(f"{type(self).__name__}({self.num_features}) expects a {dims} input with "
                             f"{self.num_features} channels on axis 1, got shape {tuple(x.shape)}")
        momentum = self._momentum()
        batch_stats = self.training or not self.track_running_stats
        normalize = F.batch_norm_relu if relu else F.batch_norm
        running_mean, running_var = self._running()
        return normalize(x, running_mean, running_var, self.weight, self.bias, batch_stats, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) inputs: statistics per feature across the batch (and positions)."""

    ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) inputs: statistics per channel across the batch and all positions."""

    ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) inputs: statistics per channel across the batch and all positions."""

    ndims = (5,)


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]
