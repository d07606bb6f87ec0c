"""The functional forms of convolution, padding and resampling (``nablab.nn.functional`` exports
them all: ``F.conv2d``, ``F.pad``, ``F.interpolate``, ...), with PyTorch's arguments.

Each convolution also takes an unbatched input ((C, H, W), (C, L)) as PyTorch does. The 1-D forms run
the 2-D ops on (N, C, 1, L); ``padding="same"`` with an even total pads the extra
element at the end (right, bottom), as PyTorch does, through :func:`pad` before the convolution.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import ops
from ..backend import get_array_module
from ..errors import ShapeError
from ..ops.conv_transpose import ConvTranspose2d
from ..ops.interpolate import ResizeLinear, ResizeNearest, linear_taps, nearest_indices
from ..ops.padding import Pad
from ..tensor import Tensor
from .functional_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d


def _ints(value, n: int, name: str) -> tuple:
    """An int or a sequence of n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}")
    return value


def _param(values: tuple):
    """(a, a) as a (the form the fast kernels take), anything else as the pair itself."""
    return values[0] if values[0] == values[1] else values


def _check_input(name, x, weight, groups, layout, in_channels_of_weight):
    """A ShapeError unless x is a batch in ``layout`` and its channels are those the weight expects."""
    dims = len(layout.split(","))
    if x.ndim != dims or weight.ndim != dims:
        raise ShapeError(f"{name} expects an input of shape {layout} (or unbatched, without N) and a {dims}-D "
                         f"weight, got shapes {tuple(x.shape)} and {tuple(weight.shape)}")
    expected = in_channels_of_weight(weight.shape, groups)
    if x.shape[1] != expected:
        wanted = layout.strip("()").split(", ")
        wanted[1] = str(expected)
        raise ShapeError(f"{name}: input has {x.shape[1]} channels (shape {tuple(x.shape)}), the weight "
                         f"{tuple(weight.shape)} with groups={groups} expects {expected} (an input of shape "
                         f"({', '.join(wanted)}))")


def _unbatched(conv):
    """``conv`` that also takes an unbatched input (one dim less than the weight: (C, H, W) for conv2d,
    (C, L) for conv1d), as PyTorch does: run as a batch of one, that dim dropped again."""

    @functools.wraps(conv)
    def run(x, weight, *args, **kwargs):
        if x.ndim != weight.ndim - 1 or x.ndim < 2:
            return conv(x, weight, *args, **kwargs)
        y = conv(ops.Reshape.apply(x, shape=(1,) + tuple(x.shape)), weight, *args, **kwargs)
        return ops.Reshape.apply(y, shape=tuple(y.shape[1:]))

    return run


def _same_padding(x, kernel, dilation, stride):
    """PyTorch's padding="same": d(k − 1) in all per axis, half (rounded down) before; where the total
    is odd, x is padded by the extra element at the end first. Returns (x, symmetric padding)."""
    if any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    before = tuple(t // 2 for t in totals)
    extra = [t - 2 * b for t, b in zip(totals, before)]
    if any(extra):  # F.pad's order: the last axis first, (before, after) each
        x = pad(x, [side for e in reversed(extra) for side in (0, e)])
    return x, before


def _conv2d(x, weight, bias, stride, padding, dilation, groups):
    stride, dilation = _ints(stride, 2, "stride"), _ints(dilation, 2, "dilation")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same', 'valid', an int or a pair, got {padding!r}")
        x, padding = _same_padding(x, weight.shape[2:], dilation, stride) if padding == "same" else (x, (0, 0))
    padding = _ints(padding, 2, "padding")
    args = (x, weight) if bias is None else (x, weight, bias)
    return ops.Conv2d.apply(*args, stride=_param(stride), padding=_param(padding), dilation=_param(dilation),
                            groups=groups)


def _conv_in_channels(weight_shape, groups):
    return weight_shape[1] * groups


def _transposed_in_channels(weight_shape, groups):
    return weight_shape[0]


@_unbatched
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D convolution of (N, C, H, W) (or unbatched (C, H, W)) ``x`` with ``weight`` (O, C/groups, kh, kw);
    ``stride``, ``padding`` and ``dilation`` are ints or (height, width) pairs, ``padding`` also "same" or
    "valid". See :mod:`nablab.ops.conv`."""
    _check_input("conv2d", x, weight, groups, "(N, C, H, W)", _conv_in_channels)
    return _conv2d(x, weight, bias, stride, padding, dilation, groups)


def _as_2d(x):
    """(N, C, L) as (N, C, 1, L)."""
    return ops.Reshape.apply(x, shape=(x.shape[0], x.shape[1], 1, x.shape[2]))


def _as_1d(y):
    return ops.Reshape.apply(y, shape=(y.shape[0], y.shape[1], y.shape[3]))


def _one(value, name: str):
    """An int or a 1-sequence as an int."""
    return _ints(value, 1, name)[0]


@_unbatched
def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D convolution of (N, C, L) ``x`` with ``weight`` (O, C/groups, k): the 2-D convolution of
    (N, C, 1, L) with the (O, C/groups, 1, k) kernel. ``padding`` may be "same" or "valid"."""
    _check_input("conv1d", x, weight, groups, "(N, C, L)", _conv_in_channels)
    if not isinstance(padding, str):
        padding = (0, _one(padding, "padding"))
    y = _conv2d(_as_2d(x), _as_2d(weight), bias, (1, _one(stride, "stride")), padding,
                (1, _one(dilation, "dilation")), groups)
    return _as_1d(y)


@_unbatched
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1):
    """Transposed 2-D convolution of (N, C_in, H, W) ``x`` with ``weight`` (C_in, C_out/groups, kh, kw)
    (PyTorch's argument order); see :mod:`nablab.ops.conv_transpose`."""
    _check_input("conv_transpose2d", x, weight, groups, "(N, C_in, H, W)", _transposed_in_channels)
    args = (x, weight) if bias is None else (x, weight, bias)
    params = {name: _param(_ints(value, 2, name)) for name, value in
              (("stride", stride), ("padding", padding), ("output_padding", output_padding), ("dilation", dilation))}
    return ConvTranspose2d.apply(*args, groups=groups, **params)


@_unbatched
def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1):
    """Transposed 1-D convolution of (N, C_in, L) ``x`` with ``weight`` (C_in, C_out/groups, k): the 2-D
    one on (N, C_in, 1, L)."""
    _check_input("conv_transpose1d", x, weight, groups, "(N, C_in, L)", _transposed_in_channels)
    y = conv_transpose2d(_as_2d(x), _as_2d(weight), bias, (1, _one(stride, "stride")), (0, _one(padding, "padding")),
                         (0, _one(output_padding, "output_padding")), groups, (1, _one(dilation, "dilation")))
    return _as_1d(y)


def _pad_pairs(pad, ndim: int) -> list:
    """PyTorch's pad tuple (last axis first: (left, right, top, bottom, ...)) as (lo, hi) for every axis."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise ShapeError(f"pad: the padding length must be divisible by 2, got {len(pad)} ({tuple(pad)})")
    if len(pad) // 2 > ndim:
        raise ShapeError(f"pad: padding of length {len(pad)} pads {len(pad) // 2} dims, but the input has only "
                         f"{ndim}")
    pairs = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        pairs[ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return pairs


def pad(x, pad, mode: str = "constant", value=None):
    """x padded by ``pad`` = (left, right[, top, bottom[, front, back]]) from the last dim backwards, as in
    PyTorch: 'constant' (``value``, default 0) on any dims, negative pads crop; 'reflect', 'replicate'
    and 'circular' on the last 1, 2 or 3 dims of an input with one or two more dims. See
    :mod:`nablab.ops.padding`."""
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    pairs = _pad_pairs(pad, x.ndim)
    if mode != "constant":
        if value:
            raise ValueError(f"pad: a value is only meaningful with mode='constant', got value={value} for {mode!r}")
        dims = len(pad) // 2
        if dims not in (1, 2, 3) or x.ndim not in (dims + 1, dims + 2):
            raise NotImplementedError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of an input with one or two "
                                      f"more dims; got padding of length {len(pad)} for an input of shape "
                                      f"{tuple(x.shape)}")
        for n, (lo, hi) in zip(x.shape, pairs):
            if not (lo or hi):  # an axis left alone (the batch, say) may have any size, 0 included
                continue
            kept = n - max(-lo, 0) - max(-hi, 0)
            limit = {"reflect": kept - 1, "replicate": None if kept else 0, "circular": kept}[mode]
            if limit is not None and max(lo, hi) > limit:
                raise ShapeError(f"pad: {mode} padding ({lo}, {hi}) does not fit a dim of size {kept} of the input of "
                                 f"shape {tuple(x.shape)} (at most {limit} on each side)")
    for n, (lo, hi) in zip(x.shape, pairs):
        if n + lo + hi < 0 or max(-lo, 0) + max(-hi, 0) > n:
            raise ShapeError(f"pad: cropping ({lo}, {hi}) is more than a dim of size {n} of the input of shape "
                             f"{tuple(x.shape)} holds")
    return Pad.apply(x, pads=tuple(pairs), mode=mode, value=0.0 if value is None else value)


#: the input rank each mode takes
_RANKS = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "area": (3, 4), "linear": (3,), "bilinear": (4,),
          "trilinear": (5,)}


def interpolate(x, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resample the spatial dims of (N, C, d₁, …) ``x`` to ``size`` or by ``scale_factor`` (ints/floats or
    one per spatial dim): ``mode`` 'nearest', 'nearest-exact' (3-, 4- or 5-D input), 'linear' (3-D),
    'bilinear' (4-D) or 'trilinear' (5-D), with PyTorch's source-index rules (see
    :mod:`nablab.ops.interpolate`), or 'area' (3- or 4-D: adaptive average pooling to the output size);
    the output size is ⌊d·scale_factor⌋. An integer (uint8) image is interpolated linearly in float32
    and rounded back, halves up (within 1 of PyTorch's fixed-point kernel, which rounds after each axis)."""
    if mode not in _RANKS:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented; available: {sorted(_RANKS)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    linear = mode in ("linear", "bilinear", "trilinear")
    if not linear and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "trilinear")
    if x.ndim not in _RANKS[mode]:
        ranks = ", ".join(str(r) for r in _RANKS[mode])
        raise ShapeError(f"interpolate: mode {mode!r} expects a {ranks}-D input (N, C, spatial...), got shape "
                         f"{tuple(x.shape)}")
    spatial = tuple(x.shape[2:])
    if mode == "area":  # PyTorch pools to the output size (the scale factor only gives that size)
        out_size, _ = _output_size(spatial, size, scale_factor, recompute_scale_factor)
        return adaptive_avg_pool1d(x, out_size[0]) if x.ndim == 3 else adaptive_avg_pool2d(x, out_size)
    out_size, scales = _output_size(spatial, size, scale_factor, recompute_scale_factor)
    dtype = np.float64 if x.dtype == np.float64 else np.float32  # the precision of the source coordinates
    if not linear:
        exact = mode == "nearest-exact"
        indices = tuple(nearest_indices(n, m, s, exact, dtype) for n, m, s in zip(spatial, out_size, scales))
        return ResizeNearest.apply(x, indices=indices)
    taps = [linear_taps(n, m, s, bool(align_corners), dtype) for n, m, s in zip(spatial, out_size, scales)]
    if x.dtype.kind in "iu":  # integer images (uint8): weighted in float32, rounded back, as PyTorch does
        y = ResizeLinear.apply(x.astype(np.float32), taps=tuple(taps)).data
        info, xp = np.iinfo(x.dtype), get_array_module(y)
        return Tensor._make(xp.clip(xp.floor(y + 0.5), info.min, info.max).astype(x.dtype))  # halves up
    return ResizeLinear.apply(x, taps=tuple(taps))


def _output_size(spatial, size, scale_factor, recompute_scale_factor):
    """The output size, and the scale factors the source indices use (None where they come from the sizes)."""
    dims = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (tuple, list)) and len(size) != dims:
            raise ValueError(f"interpolate: the input has {dims} spatial dims {list(spatial)}, the size {size} has "
                             f"{len(size)}")
        return _ints(size, dims, "size"), (None,) * dims
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    if len(factors) != dims:
        raise ValueError(f"interpolate: the input has {dims} spatial dims {list(spatial)}, the scale_factor "
                         f"{scale_factor} has {len(factors)}")
    out = tuple(math.floor(n * float(f)) for n, f in zip(spatial, factors))
    if any(m < 1 for m in out):
        raise ShapeError(f"interpolate: scale_factor {scale_factor} leaves no output of spatial size {list(spatial)}")
    return out, (None,) * dims if recompute_scale_factor else tuple(float(f) for f in factors)


def upsample(x, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """PyTorch's deprecated name of :func:`interpolate`."""
    return interpolate(x, size, scale_factor, mode, align_corners)


def upsample_nearest(x, size=None, scale_factor=None):
    """PyTorch's deprecated ``interpolate(x, size, scale_factor, mode="nearest")``."""
    return interpolate(x, size, scale_factor, mode="nearest")


def upsample_bilinear(x, size=None, scale_factor=None):
    """PyTorch's deprecated ``interpolate(x, size, scale_factor, mode="bilinear", align_corners=True)``."""
    return interpolate(x, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "interpolate", "pad", "upsample",
           "upsample_bilinear", "upsample_nearest"]
