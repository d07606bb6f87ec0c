"""``Parameter``: a tensor that a Module owns and an optimizer updates."""

from __future__ import annotations

from ..backend import to_device
from ..device import default_or
from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that :class:`Module` registers when assigned.

    An array keeps its dtype (layers create their arrays in the dtype asked for); Python numbers
    and lists become float32 unless ``dtype`` says otherwise.
    """

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        array = _to_array(data, dtype or getattr(data, "dtype", None))
        if default_or(None) is not None:  # nablab.set_default_device("cuda"): made on the GPU
            array = to_device(array)
        super().__init__(array, requires_grad=requires_grad, dtype=array.dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

__all__ = ["Parameter"]
