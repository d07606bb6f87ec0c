"""The functional forms of convolution, padding and resampling (``nablab.nn.functional`` exports
them all: ``F.conv2d``, ...)."""

from __future__ import annotations

from .. import ops


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1):
    """2-D convolution of NCHW ``x`` with ``weight`` (O, C/groups, kh, kw); see :mod:`nablab.ops.conv`."""
    if x.ndim != 4:
        raise ValueError(f"conv2d expects an (N, C, H, W) input, got shape {tuple(x.shape)}")
    args = (x, weight) if bias is None else (x, weight, bias)
    return ops.Conv2d.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


__all__ = ["conv2d"]
