"""Padding layers, as ``torch.nn``'s: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad``
and ``CircularPad`` over the last 1, 2 or 3 dims, each a :func:`nablab.nn.functional.pad`.

``padding`` is an int (every side) or one (lo, hi) pair per padded dim, last dim first:
(left, right), (left, right, top, bottom), (left, right, top, bottom, front, back).
"""

from __future__ import annotations

from . import functional as F
from .module import Module


class _PadNd(Module):
    """y = pad(x, padding, mode) over the last ``dims`` dims."""

    dims: int = 2
    mode: str = "constant"

    def __init__(self, padding, value: float):
        super().__init__()
        sides = 2 * self.dims
        padding = (int(padding),) * sides if isinstance(padding, int) else tuple(int(p) for p in padding)
        if len(padding) != sides:
            raise ValueError(f"{type(self).__name__} takes an int or {sides} paddings (two per dim, last dim "
                             f"first), got {padding!r}")
        self.padding, self.value = padding, value

    def forward(self, x):
        value = self.value if self.mode == "constant" else None
        return F.pad(x, self.padding, mode=self.mode, value=value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}" if self.mode == "constant" else f"{self.padding}"


class _FixedPad(_PadNd):
    """A padding layer without a value argument (the modes other than constant, and zeros)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad1d(_PadNd):
    dims = 1


class ConstantPad2d(_PadNd):
    dims = 2


class ConstantPad3d(_PadNd):
    dims = 3


class _ZeroPad:
    """Constant padding with 0 (a mixin before the ConstantPad class)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    pass


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    pass


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    pass


class ReflectionPad1d(_FixedPad):
    dims, mode = 1, "reflect"


class ReflectionPad2d(_FixedPad):
    dims, mode = 2, "reflect"


class ReflectionPad3d(_FixedPad):
    dims, mode = 3, "reflect"


class ReplicationPad1d(_FixedPad):
    dims, mode = 1, "replicate"


class ReplicationPad2d(_FixedPad):
    dims, mode = 2, "replicate"


class ReplicationPad3d(_FixedPad):
    dims, mode = 3, "replicate"


class CircularPad1d(_FixedPad):
    dims, mode = 1, "circular"


class CircularPad2d(_FixedPad):
    dims, mode = 2, "circular"


class CircularPad3d(_FixedPad):
    dims, mode = 3, "circular"


__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]
