"""``nablab.Size``: the shape of a tensor, a tuple as ``torch.Size`` is."""

from __future__ import annotations

import math


class Size(tuple):
    """A tuple of ints that knows its element count: ``x.shape``, ``x.size()``.

    It compares equal to the plain tuple with the same entries (``x.shape == (2, 3)``), as
    ``torch.Size`` does; ``repr`` names it (``nablab.Size([2, 3])``), ``str`` and f-strings show the
    tuple.
    """

    def numel(self) -> int:
        """The number of elements of a tensor of this shape: the product of the entries (1 for ``()``)."""
        return math.prod(self)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return f"nablab.Size({list(self)})"

    def __str__(self) -> str:
        """The plain tuple, so that messages such as f"expected {x.shape}" read ``(3, 4)``."""
        return tuple.__repr__(self)
