"""``default_collate``: a list of samples → one batch, PyTorch's rules (``default_convert`` for
``batch_size=None``).

By the type of the first sample:

- Tensor                      → the samples stacked along a new dimension 0 (same shapes needed)
- NumPy array or NumPy number → a tensor of the stacked values, in their dtype
- Python float                → a float64 tensor (as PyTorch: torch.tensor(…, dtype=float64))
- Python int                  → an int64 tensor; bool → a bool tensor
- str or bytes                → the list as it is
- dict (Mapping)              → the same keys, each value collated over the batch
- namedtuple                  → the same namedtuple of collated fields
- tuple or list               → a list of the collated columns (``(image, label)`` samples give
                                ``[images, labels]``; all samples need the same length)
"""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ...errors import ShapeError
from ...tensor import Tensor

_NOT_COLLATABLE = ("default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
                   "found {}")


def _numpy_numeric(array: np.ndarray) -> bool:
    return array.dtype.kind in "biufc"


def _stack_tensors(batch) -> Tensor:
    shapes = [t.shape for t in batch]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise ShapeError(f"stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 "
                             f"and {list(shape)} at entry {i}")
    if any(t.requires_grad for t in batch):
        from ...shape_functions import stack

        return stack(list(batch))
    return Tensor._make(np.stack([t.data for t in batch]))


def default_collate(batch):
    """One batch from the list of samples ``batch`` (the rules are in the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if not _numpy_numeric(np.asarray(elem)):
            raise TypeError(_NOT_COLLATABLE.format(np.asarray(elem).dtype))
        return _stack_tensors([Tensor._make(np.asarray(b)) for b in batch])
    if isinstance(elem, bool):
        return Tensor._make(np.asarray(batch, dtype=bool))
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._make(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a Mapping that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(column)) for column in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise ShapeError("each element in list of batch should be of equal size, got lengths "
                             f"{sorted({len(sample) for sample in batch})}")
        columns = [default_collate(list(column)) for column in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:  # a Sequence that cannot be built from a list
            return columns
    raise TypeError(_NOT_COLLATABLE.format(type(elem).__name__))


def default_convert(data):
    """A sample without batching (``batch_size=None``): NumPy arrays and numbers become tensors,
    containers are converted element by element (tuples become lists), the rest is kept."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and _numpy_numeric(np.asarray(data)):
        return Tensor._make(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({key: default_convert(value) for key, value in data.items()})
        except TypeError:
            return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
