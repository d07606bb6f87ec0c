"""Pooling layers, PyTorch's: max and average pooling (1-D and 2-D), max unpooling, and adaptive
pooling to a given output size (see :mod:`nablab.nn.functional_pooling`)."""

from __future__ import annotations

from . import functional as F
from .layer_sizes import per_dim
from .module import Module


def _sizes(pool) -> str:
    return f"kernel_size={pool.kernel_size}, stride={pool.stride}, padding={pool.padding}"


class _MaxPool(Module):
    """Max over windows (stride defaults to the kernel size; padding with −∞)."""

    pool = staticmethod(F.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                         return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return f"{_sizes(self)}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxPool1d(_MaxPool):
    """Max over windows along L of (N, C, L) or (C, L)."""

    pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """Max over kernel_size windows of (N, C, H, W) or (C, H, W)."""


class AvgPool1d(Module):
    """Mean over windows along L of (N, C, L) or (C, L) (zero padding counted unless not
    ``count_include_pad``)."""

    #: PyTorch keeps the 1-D pool's sizes as 1-tuples, the 2-D pool's as given
    sizes_as_tuples = True

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        if self.sizes_as_tuples:
            self.kernel_size, self.stride, self.padding = (per_dim(v, 1) for v in (
                self.kernel_size, self.stride, self.padding))

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return _sizes(self)


class AvgPool2d(AvgPool1d):
    """Mean over kernel_size windows of (N, C, H, W) or (C, H, W) (zero padding counted unless not
    ``count_include_pad``; or a fixed ``divisor_override``)."""

    sizes_as_tuples = False

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class MaxUnpool1d(Module):
    """Put each value back at the index its max pool found, zeros elsewhere (along L)."""

    unpool = staticmethod(F.max_unpool1d)
    dims = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        stride = stride if stride is not None else kernel_size
        self.kernel_size, self.stride, self.padding = (per_dim(v, self.dims) for v in (kernel_size, stride, padding))

    def forward(self, x, indices, output_size=None):
        return self.unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return _sizes(self)


class MaxUnpool2d(MaxUnpool1d):
    """Put each value back at the flat index h·W + w its max pool found, zeros elsewhere."""

    unpool = staticmethod(F.max_unpool2d)
    dims = 2


class AdaptiveAvgPool2d(Module):
    """Average over adaptive tiles to ``output_size`` (an int, a pair, None entries keep the
    input's size); 1 is global average pooling."""

    pool = staticmethod(F.adaptive_avg_pool2d)

    def __init__(self, output_size=1):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return self.pool(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average over adaptive tiles along L to ``output_size``."""

    pool = staticmethod(F.adaptive_avg_pool1d)

    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveMaxPool2d(Module):
    """Max over adaptive tiles to ``output_size``; with ``return_indices`` also the flat positions."""

    pool = staticmethod(F.adaptive_max_pool2d)

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return self.pool(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max over adaptive tiles along L to ``output_size``."""

    pool = staticmethod(F.adaptive_max_pool1d)


__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d",
           "AvgPool2d", "MaxPool1d", "MaxPool2d", "MaxUnpool1d", "MaxUnpool2d"]
