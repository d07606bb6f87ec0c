"""The shape methods of :class:`~nablab.Tensor`: reshaping, permuting, broadcasting and indexing.

Each method is a thin wrapper that calls an op's ``apply`` (the moves are in :mod:`nablab.ops`);
:class:`~nablab.Tensor` inherits them from :class:`ShapeMethods`.
"""

from __future__ import annotations

from . import ops


class ShapeMethods:
    """Views and moves of a tensor's elements."""

    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=ops.normalize_index(index))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge axes ``start_dim..end_dim`` into one (PyTorch's defaults flatten everything)."""
        start, end = start_dim % max(self.ndim, 1), end_dim % max(self.ndim, 1)
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def transpose(self, *axes):
        """Reverse the axes, or permute them as given (``x.transpose(1, 0, 2)``)."""
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return ops.Transpose.apply(self, axes=tuple(axes) if axes else None)

    permute = transpose

    @property
    def T(self):
        return ops.Transpose.apply(self, axes=None)

    def broadcast_to(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.BroadcastTo.apply(self, shape=tuple(shape))

    expand = broadcast_to
