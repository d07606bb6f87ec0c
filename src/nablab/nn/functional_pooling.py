"""The functional forms of pooling (``F.max_pool2d``, ``F.avg_pool1d``, ``F.adaptive_avg_pool2d``,
``F.max_unpool2d``, ...), PyTorch's signatures.

Every pool runs on (N, C, H, W) (:mod:`nablab.ops.pooling`, :mod:`nablab.ops.adaptive_pooling`):
an unbatched (C, H, W) input gets a batch axis of 1, and 1-D pooling of (N, C, L) or (C, L) is
2-D pooling of planes of height 1, with windows (1, k). The indices a max pool returns are flat
positions in each plane (h·W + w; in 1-D, the position along L), as PyTorch's.
"""

from __future__ import annotations

from .. import ops
from ..errors import ShapeError
from ..ops.adaptive_pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from ..ops.pooling import pair
from ..ops.unpooling import MaxUnpool2d
from ..tensor import Tensor, as_tensor


def _single(value, name):
    """An int from an int or a one-element sequence (1-D pooling's arguments)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a sequence of one int, got {value!r}")
        return int(value[0])
    return int(value)


def _reshaped(x, shape):
    """x in ``shape``, without a graph node where it already has it."""
    return x if tuple(x.shape) == tuple(shape) else x.reshape(shape)


def _as_planes(x, spatial: int, name: str):
    """x as (N, C, H, W) and the leading shape its results keep ((N, C), or (C,) when unbatched)."""
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if x.ndim not in (spatial + 1, spatial + 2):
        dims = "H, W" if spatial == 2 else "L"
        raise ShapeError(f"{name} expects a {spatial + 1}-D (C, {dims}) or {spatial + 2}-D (N, C, {dims}) input, "
                         f"got shape {tuple(x.shape)}")
    lead = tuple(x.shape[: x.ndim - spatial])
    n = x.shape[0] if x.ndim == spatial + 2 else 1
    return _reshaped(x, (n, x.shape[-spatial - 1]) + (1,) * (2 - spatial) + tuple(x.shape[-spatial:])), lead


def _restore(y, lead, spatial):
    """y (N, C, Ho, Wo) back to the input's leading shape and spatial rank."""
    return _reshaped(y, lead + tuple(y.shape[4 - spatial:]))


def _indices(flat, lead, spatial):
    return Tensor._make(flat.reshape(lead + flat.shape[4 - spatial:]))


def _max_pool(x, spatial, name, kernel, stride, padding, dilation, ceil_mode, return_indices):
    planes, lead = _as_planes(x, spatial, name)
    found = {} if return_indices else None
    y = ops.MaxPool2d.apply(planes, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                            ceil_mode=bool(ceil_mode), indices=found)
    y = _restore(y, lead, spatial)
    return (y, _indices(found["flat"], lead, spatial)) if return_indices else y


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max over kernel_size windows of (N, C, H, W) or (C, H, W); with ``return_indices`` also the
    picked elements' flat positions h·W + w (for :func:`max_unpool2d`)."""
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
    return _max_pool(input, 2, "max_pool2d", kernel, stride, pair(padding, "padding"), pair(dilation, "dilation"),
                     ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max over windows of kernel_size along L of (N, C, L) or (C, L); indices are positions along L."""
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride")
    return _max_pool(input, 1, "max_pool1d", (1, k), (1, s), (0, _single(padding, "padding")),
                     (1, _single(dilation, "dilation")), ceil_mode, return_indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over kernel_size windows of (N, C, H, W) or (C, H, W): zero padding counted unless not
    ``count_include_pad``, or a fixed ``divisor_override``."""
    planes, lead = _as_planes(input, 2, "avg_pool2d")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
    y = ops.AvgPool2d.apply(planes, kernel_size=kernel, stride=stride, padding=pair(padding, "padding"),
                            ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad),
                            divisor_override=divisor_override)
    return _restore(y, lead, 2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """Mean over windows of kernel_size along L of (N, C, L) or (C, L)."""
    planes, lead = _as_planes(input, 1, "avg_pool1d")
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride")
    y = ops.AvgPool2d.apply(planes, kernel_size=(1, k), stride=(1, s), padding=(0, _single(padding, "padding")),
                            ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad))
    return _restore(y, lead, 1)


def _unpool_size(x, kernel, stride, padding, output_size, spatial):
    """The output's spatial size: (H − 1)·s − 2p + k per axis, or ``output_size`` (its last entries)
    within a stride of that, as PyTorch checks."""
    default = [(n - 1) * s - 2 * p + k for n, k, s, p in zip(x.shape[-spatial:], kernel, stride, padding)]
    if output_size is None:
        return default
    size = [int(n) for n in output_size][-spatial:] if len(output_size) in (spatial + 1, spatial + 2) \
        else [int(n) for n in output_size]
    if len(size) != spatial:
        raise ValueError(f"output_size must hold {spatial} or {spatial + 2} sizes, got {tuple(output_size)}")
    for d, (n, m, s) in enumerate(zip(size, default, stride)):
        if not m - s < n < m + s:
            raise ValueError(f"invalid output_size {tuple(output_size)} (dim {d} must be between {m - s} and "
                             f"{m + s}, exclusive)")
    return size


def _unpool_indices(indices, x, planes, name):
    """The indices as an array in the (N, C, H, W) planes' shape, or a ShapeError."""
    flat = indices.data if isinstance(indices, Tensor) else indices
    if tuple(flat.shape) != tuple(x.shape):
        raise ShapeError(f"{name}: the indices have shape {tuple(flat.shape)}, the input {tuple(x.shape)}; expected "
                         "the same (those max pooling returned with the input)")
    return flat.reshape(planes.shape)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The inverse of :func:`max_pool2d` up to the values it dropped: each value of x put at its flat
    index in a zero plane of (H − 1)·s − 2p + k per axis (or ``output_size``)."""
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
    planes, lead = _as_planes(input, 2, "max_unpool2d")
    size = _unpool_size(input, kernel, stride, pair(padding, "padding"), output_size, 2)
    y = MaxUnpool2d.apply(planes, indices=_unpool_indices(indices, input, planes, "max_unpool2d"), output_hw=size)
    return _restore(y, lead, 2)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The inverse of :func:`max_pool1d`: each value put at its index along a zero L of (L − 1)·s − 2p + k."""
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride")
    planes, lead = _as_planes(input, 1, "max_unpool1d")
    [length] = _unpool_size(input, (k,), (s,), (_single(padding, "padding"),), output_size, 1)
    flat = _unpool_indices(indices, input, planes, "max_unpool1d")
    y = MaxUnpool2d.apply(planes, indices=flat, output_hw=(1, length))
    return _restore(y, lead, 1)


def _adaptive_size(output_size, x, spatial):
    """The output's spatial size from an int, a sequence, or None entries (keep the input's size)."""
    if spatial == 1:
        size = [_single(output_size, "output_size")] if output_size is not None else [None]
    elif isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"output_size must be an int or a pair, got {output_size!r}")
        size = list(output_size)
    else:
        size = [output_size, output_size]
    return tuple(x.shape[-spatial + d] if n is None else int(n) for d, n in enumerate(size))


def _adaptive(op, x, output_size, spatial, name, **params):
    planes, lead = _as_planes(x, spatial, name)
    size = _adaptive_size(output_size, x, spatial)
    y = op.apply(planes, output_hw=(1,) + size if spatial == 1 else size, **params)
    return _restore(y, lead, spatial)


def adaptive_avg_pool2d(input, output_size=1):  # noqa: A002
    """Mean over PyTorch's adaptive tiles (start ⌊i·H/Ho⌋, end ⌈(i+1)·H/Ho⌉) to an output of
    ``output_size`` (an int, a pair, None entries keep the input's size); 1 is global average pooling."""
    return _adaptive(AdaptiveAvgPool2d, input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """Mean over adaptive tiles along L of (N, C, L) or (C, L)."""
    return _adaptive(AdaptiveAvgPool2d, input, output_size, 1, "adaptive_avg_pool1d")


def _adaptive_max(x, output_size, spatial, name, return_indices):
    found = {} if return_indices else None
    y = _adaptive(AdaptiveMaxPool2d, x, output_size, spatial, name, indices=found)
    if not return_indices:
        return y
    return y, _indices(found["flat"], tuple(x.shape[: x.ndim - spatial]), spatial)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max over adaptive tiles; with ``return_indices`` also the picked flat positions h·W + w."""
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d", return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Max over adaptive tiles along L; with ``return_indices`` also the picked positions along L."""
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d", return_indices)


__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "max_unpool1d", "max_unpool2d"]
