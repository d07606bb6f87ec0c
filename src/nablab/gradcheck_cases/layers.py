"""The gradient checks of the layers' ops: convolutions, transposed convolutions, pooling,
upsampling and normalization."""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..ops.adaptive_pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from ..ops.conv import Conv2d
from ..ops.conv_transpose import ConvTranspose2d
from ..ops.group_norm import GroupNorm
from ..ops.interpolate import ResizeLinear, ResizeNearest
from ..ops.layer_norm import LayerNorm
from ..ops.padding import Pad
from ..ops.pooling import AvgPool2d, MaxPool2d
from ..ops.unpooling import MaxUnpool2d
from .case import Case
from .case import distinct as _distinct
from .case import normal as _n

CASES: dict[str, Case] = {}


def _unpool_indices():
    """Flat indices of one element in each 2×2 window of (2, 2, 4, 6) planes, as a max pool returns."""
    rng = np.random.default_rng(7)
    rows = np.arange(2)[:, None] * 2 + rng.integers(0, 2, (2, 2, 2, 3))
    cols = np.arange(3) * 2 + rng.integers(0, 2, (2, 2, 2, 3))
    return rows * 6 + cols


# pooling with PyTorch's options and normalization over groups and layers
CASES.update({
    "max_pool2d (rectangular, ceil_mode, dilation)": Case(
        MaxPool2d, lambda x: F.max_pool2d(x, (3, 2), (2, 1), (1, 1), dilation=(1, 2), ceil_mode=True),
        lambda r: [_distinct(r, 2, 2, 7, 8)], smooth=False),
    "max_pool1d (stride 2, padding 1, ceil_mode)": Case(
        MaxPool2d, lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), lambda r: [_distinct(r, 2, 3, 8)],
        smooth=False),
    "max_pool2d (return_indices, unbatched)": Case(
        MaxPool2d, lambda x: F.max_pool2d(x, 2, return_indices=True)[0], lambda r: [_distinct(r, 3, 4, 5)],
        smooth=False),
    "avg_pool2d (ceil_mode, count_include_pad=False)": Case(
        AvgPool2d, lambda x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 1), ceil_mode=True, count_include_pad=False),
        lambda r: [_n(r, 2, 2, 6, 5)]),
    "avg_pool2d (divisor_override)": Case(
        AvgPool2d, lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=4), lambda r: [_n(r, 2, 2, 5, 5)]),
    "avg_pool1d (padding, ceil_mode)": Case(
        AvgPool2d, lambda x: F.avg_pool1d(x, 4, 3, 2, ceil_mode=True), lambda r: [_n(r, 2, 3, 9)]),
    "adaptive_avg_pool2d (uneven tiles)": Case(
        AdaptiveAvgPool2d, lambda x: F.adaptive_avg_pool2d(x, (3, 4)), lambda r: [_n(r, 2, 2, 7, 10)]),
    "adaptive_avg_pool2d (tiles; global)": Case(
        AdaptiveAvgPool2d, lambda x: F.adaptive_avg_pool2d(x, (2, 1)) + F.adaptive_avg_pool2d(x, 1),
        lambda r: [_n(r, 2, 2, 4, 6)]),
    "adaptive_avg_pool1d": Case(AdaptiveAvgPool2d, lambda x: F.adaptive_avg_pool1d(x, 4), lambda r: [_n(r, 2, 3, 7)]),
    "adaptive_max_pool2d (uneven tiles)": Case(
        AdaptiveMaxPool2d, lambda x: F.adaptive_max_pool2d(x, (3, 4)), lambda r: [_distinct(r, 2, 2, 7, 10)],
        smooth=False),
    "unpool: max_unpool2d": Case(
        MaxUnpool2d, lambda x: F.max_unpool2d(x, _unpool_indices(), 2), lambda r: [_n(r, 2, 2, 2, 3)]),
    "norm: group_norm": Case(
        GroupNorm, lambda x, w, b: F.group_norm(x, 3, w, b), lambda r: [_n(r, 2, 6, 3, 2), _n(r, 6), _n(r, 6)],
        eps=1e-3, order=4, tiny=1e-3),
    "norm: instance_norm": Case(
        GroupNorm, lambda x, w, b: F.instance_norm(x, weight=w, bias=b), lambda r: [_n(r, 2, 3, 5), _n(r, 3), _n(r, 3)],
        eps=1e-3, order=4, tiny=1e-3),
    "norm: layer_norm": Case(
        LayerNorm, lambda x, w, b: F.layer_norm(x, (4, 5), w, b), lambda r: [_n(r, 3, 4, 5), _n(r, 4, 5), _n(r, 4, 5)],
        eps=1e-3, order=4, tiny=1e-3),
    "norm: layer_norm (no affine)": Case(
        LayerNorm, lambda x: F.layer_norm(x, 6), lambda r: [_n(r, 2, 3, 6)], eps=1e-3, order=4, tiny=1e-3),
})


# the convolution family with PyTorch's arguments, padding and resampling
CASES.update({
    "conv2d (pairs: stride, padding, dilation; groups 2)": Case(
        Conv2d, lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
        lambda r: [_n(r, 2, 4, 7, 6), _n(r, 6, 2, 3, 2), _n(r, 6)], eps=1e-3, order=4),
    "conv2d (padding='same', even kernel)": Case(
        Conv2d, lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=(1, 3)),
        lambda r: [_n(r, 2, 3, 5, 6), _n(r, 4, 3, 2, 3), _n(r, 4)], eps=1e-3, order=4),
    "conv1d (stride 2, padding 1, dilation 2)": Case(
        Conv2d, lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
        lambda r: [_n(r, 2, 3, 11), _n(r, 4, 3, 3), _n(r, 4)], eps=1e-3, order=4),
    "conv_transpose2d (pairs, output_padding, groups 2)": Case(
        ConvTranspose2d,
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
                                           dilation=(1, 2)),
        lambda r: [_n(r, 2, 4, 4, 3), _n(r, 4, 3, 3, 2), _n(r, 6)], eps=1e-3, order=4),
    "conv_transpose2d (output_padding below the dilation)": Case(
        ConvTranspose2d, lambda x, w: F.conv_transpose2d(x, w, stride=1, padding=1, output_padding=1, dilation=2),
        lambda r: [_n(r, 2, 3, 4, 4), _n(r, 3, 2, 3, 3)], eps=1e-3, order=4),
    "conv_transpose1d": Case(
        ConvTranspose2d, lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
        lambda r: [_n(r, 2, 3, 5), _n(r, 3, 4, 3), _n(r, 4)], eps=1e-3, order=4),
    "pad (constant, negative pads crop)": Case(
        Pad, lambda x: F.pad(x, (2, -1, -1, 3, 1, 0), value=0.5).tanh(), lambda r: [_n(r, 2, 3, 4, 5)]),
    "pad (reflect)": Case(Pad, lambda x: F.pad(x, (2, 3, 1, 2), mode="reflect").tanh(), lambda r: [_n(r, 2, 2, 4, 5)]),
    "pad (replicate)": Case(
        Pad, lambda x: F.pad(x, (3, 1, 0, 2, 1, 1), mode="replicate").tanh(), lambda r: [_n(r, 1, 2, 2, 3, 4)]),
    "pad (circular, with a crop)": Case(
        Pad, lambda x: F.pad(x, (4, -1), mode="circular").tanh(), lambda r: [_n(r, 2, 3, 5)]),
    "interpolate (nearest, scale 1.7)": Case(
        ResizeNearest, lambda x: F.interpolate(x, scale_factor=1.7).tanh(), lambda r: [_n(r, 2, 2, 3, 4)]),
    "interpolate (nearest-exact, downsampling)": Case(
        ResizeNearest, lambda x: F.interpolate(x, size=(3, 2), mode="nearest-exact").tanh(),
        lambda r: [_n(r, 2, 2, 7, 5)]),
    "interpolate (bilinear)": Case(
        ResizeLinear, lambda x: F.interpolate(x, size=(7, 3), mode="bilinear").tanh(), lambda r: [_n(r, 2, 2, 4, 5)]),
    "interpolate (bilinear, align_corners)": Case(
        ResizeLinear, lambda x: F.interpolate(x, scale_factor=(1.5, 2.5), mode="bilinear", align_corners=True).tanh(),
        lambda r: [_n(r, 2, 2, 4, 3)]),
    "interpolate (linear)": Case(
        ResizeLinear, lambda x: F.interpolate(x, scale_factor=2.3, mode="linear").tanh(), lambda r: [_n(r, 2, 3, 5)]),
    "interpolate (trilinear)": Case(
        ResizeLinear, lambda x: F.interpolate(x, size=(3, 4, 2), mode="trilinear").tanh(),
        lambda r: [_n(r, 1, 2, 2, 3, 4)]),
})
