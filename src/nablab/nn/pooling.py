"""Pooling layers: max, average and global (adaptive) average pooling."""

from __future__ import annotations

from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """Max over k×k windows (stride defaults to k; padding with −∞)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    """Mean over k×k windows (zero padding counted)."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    """Average to an output_size × output_size map; 1 is global average pooling."""

    def __init__(self, output_size: int = 1):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]
