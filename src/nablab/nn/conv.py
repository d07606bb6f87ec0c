"""Convolution layers over (N, C, L) and (N, C, H, W) inputs, PyTorch's semantics and default
initialisation: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

``kernel_size``, ``stride``, ``padding``, ``dilation`` and ``output_padding`` are ints or one int per
spatial dim, kept as tuples (as PyTorch keeps them: ``Conv2d(1, 8, 3).kernel_size == (3, 3)``);
``padding`` may also be "same" or "valid" (convolutions), kept as that string. ``padding_mode`` other than 'zeros'
('reflect', 'replicate', 'circular') pads the input with :func:`nablab.nn.functional.pad` first and
convolves without padding, as PyTorch does. ``device`` and ``dtype`` place and type the parameters.

Initialised like PyTorch: W ~ kaiming_uniform(a = √5), which is U(−1/√fan_in, 1/√fan_in), and
b ~ U(−1/√fan_in, 1/√fan_in), with fan_in = W.shape[1] · Πkernel (in/groups for a convolution,
out/groups for a transposed one, as PyTorch computes it from the weight's shape).
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from . import init
from .layer_sizes import per_dim
from .module import Module
from .parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation and repr."""

    #: the number of spatial dims (1 or 2) and whether the weight is (in, out/groups, ...) (transposed)
    dims: int = 2
    transposed: bool = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, dtype, output_padding=0, device=None):
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible "
                             f"by groups ({groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if self.transposed and (padding_mode != "zeros" or isinstance(padding, str)):
            raise ValueError(f"{type(self).__name__} takes int or tuple padding with padding_mode 'zeros', got "
                             f"padding {padding!r}, padding_mode {padding_mode!r}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
            if padding == "same" and any(s != 1 for s in per_dim(stride, self.dims)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        n = self.dims
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, per_dim(kernel_size, n)
        self.stride, self.dilation, self.groups = per_dim(stride, n), per_dim(dilation, n), groups
        self.padding = padding if isinstance(padding, str) else per_dim(padding, n)
        self.output_padding, self.padding_mode = per_dim(output_padding, n), padding_mode
        kernel = self.kernel_size
        shape = ((in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups))
        dtype = "float32" if dtype is None else dtype
        self.weight = Parameter(np.empty(shape + kernel, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        init.default_(self.weight, self.bias)

    def _padded(self, x):
        """x padded by ``padding_mode`` (for modes other than 'zeros'), and the padding left to the convolution."""
        if self.padding_mode == "zeros":
            return x, self.padding
        kernel, dilation = self.kernel_size, self.dilation
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            sides = [(t // 2, t - t // 2) for t in totals]
        elif self.padding == "valid":
            sides = [(0, 0)] * self.dims
        else:
            sides = [(p, p) for p in self.padding]
        pad = [side for lo_hi in reversed(sides) for side in lo_hi]
        return F.pad(x, pad, mode=self.padding_mode), 0

    def _output_padding(self, x, output_size):
        """``output_padding``, or (given the output's spatial size, with or without its N and C) the output
        padding that reaches it, which lies in [0, stride): PyTorch's rule. x may be unbatched."""
        if output_size is None:
            return self.output_padding
        output_size = tuple(int(n) for n in output_size)
        if len(output_size) == x.ndim:
            output_size = output_size[-self.dims:]
        if len(output_size) != self.dims:
            raise ValueError(f"{type(self).__name__}: output_size must have {self.dims} or {x.ndim} elements, "
                             f"got {output_size}")
        stride, padding, kernel, dilation = self.stride, self.padding, self.kernel_size, self.dilation
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1
                    for n, s, p, k, d in zip(x.shape[-self.dims:], stride, padding, kernel, dilation)]
        largest = [m + s - 1 for m, s in zip(smallest, stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(output_size, smallest, largest)):
            raise ValueError(f"requested an output size of {list(output_size)}, but valid sizes range from {smallest} "
                             f"to {largest} (for an input of {list(x.shape[-self.dims:])})")
        return tuple(n - m for n, m in zip(output_size, smallest))

    def extra_repr(self) -> str:
        """PyTorch's: the sizes as tuples, then each setting that differs from its default."""
        extra = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            extra += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            extra += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            extra += f", output_padding={self.output_padding}"
        if self.groups != 1:
            extra += f", groups={self.groups}"
        if self.bias is None:
            extra += ", bias=False"
        if self.padding_mode != "zeros":
            extra += f", padding_mode={self.padding_mode}"
        return extra


class _Conv(_ConvNd):
    """The convolution layers' PyTorch signature and forward; a subclass names its functional form."""

    #: F.conv1d or F.conv2d
    convolve = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype="float32"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype, device=device)

    def forward(self, x):
        x, padding = self._padded(x)
        return type(self).convolve(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_Conv):
    """y = conv2d(x, W) + b over (N, C, H, W) with W of shape (out, in/groups, kh, kw)."""

    convolve = staticmethod(F.conv2d)


class Conv1d(_Conv):
    """y = conv1d(x, W) + b over (N, C, L) with W of shape (out, in/groups, k)."""

    dims = 1
    convolve = staticmethod(F.conv1d)


class _ConvTranspose(_ConvNd):
    """The transposed convolution layers' PyTorch signature and forward; a subclass names its
    functional form."""

    transposed = True
    #: F.conv_transpose1d or F.conv_transpose2d
    convolve = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype="float32"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype, output_padding, device)

    def forward(self, x, output_size=None):
        return type(self).convolve(x, self.weight, self.bias, self.stride, self.padding,
                                   self._output_padding(x, output_size), self.groups, self.dilation)


class ConvTranspose2d(_ConvTranspose):
    """y = conv_transpose2d(x, W) + b over (N, C_in, H, W) with W of shape (in, out/groups, kh, kw);
    the output is (H − 1)·s − 2p + d(kh − 1) + output_padding + 1 high (likewise wide)."""

    convolve = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTranspose):
    """y = conv_transpose1d(x, W) + b over (N, C_in, L) with W of shape (in, out/groups, k)."""

    dims = 1
    convolve = staticmethod(F.conv_transpose1d)


__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]
