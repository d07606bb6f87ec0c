"""Batch normalisation layers with running statistics (see :mod:`nablab.ops.normalization`)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """γ, β (``weight``, ``bias``) per channel; running mean/var buffers for evaluation."""

    ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 dtype="float32"):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        weight = Parameter(np.ones(num_features, dtype=dtype))
        bias = Parameter(np.zeros(num_features, dtype=dtype))
        if not affine:  # fixed γ = 1, β = 0
            weight.requires_grad_(False)
            bias.requires_grad_(False)
        self.weight, self.bias = weight, bias
        self.register_buffer("running_mean", Tensor._make(np.zeros(num_features, dtype=dtype)))
        self.register_buffer("running_var", Tensor._make(np.ones(num_features, dtype=dtype)))
        self.register_buffer("num_batches_tracked", Tensor._make(np.zeros((), dtype=np.int64)))

    def forward(self, x, relu: bool = False):
        """Normalise x; with ``relu`` also apply a ReLU after it (``nn.Sequential`` fuses the pair)."""
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) expects inputs of {self.ndims[0]} "
                             f"dimensions with {self.num_features} channels on axis 1, got shape {tuple(x.shape)}")
        if self.training:
            self.num_batches_tracked.data += 1
        normalize = F.batch_norm_relu if relu else F.batch_norm
        return normalize(x, self.running_mean.data, self.running_var.data, self.weight, self.bias,
                         self.training, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Over (N, C) inputs: statistics per feature across the batch."""

    ndims = (2,)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) inputs: statistics per channel across the batch and all positions."""

    ndims = (4,)

__all__ = ["BatchNorm1d", "BatchNorm2d"]
