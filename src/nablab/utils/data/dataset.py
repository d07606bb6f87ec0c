"""Data sets as in ``torch.utils.data``: map-style ``Dataset`` (``__getitem__`` and ``__len__``),
``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``; and streams, ``IterableDataset``
(``__iter__``) and ``ChainDataset``."""

from __future__ import annotations

import bisect
import math
import warnings

import numpy as np

from ...errors import ShapeError
from ...random import get_generator
from .sampler import _numpy_generator


class Dataset:
    """A map from indices 0 … len − 1 to samples: subclasses define ``__getitem__`` (and ``__len__``,
    which samplers and ``len(loader)`` need). ``a + b`` is their concatenation."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__ (a subclass of Dataset)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and ``__len__`` if ``len(loader)`` is
    wanted). A DataLoader batches the stream in its order; ``a + b`` chains two streams."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__ (a subclass of IterableDataset)")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of each stream in ``datasets``, one stream after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``: the tensors are indexed along their first dimension,
    which all must share."""

    def __init__(self, *tensors):
        sizes = [len(t) for t in tensors]
        if len(set(sizes)) > 1:
            raise ShapeError(f"TensorDataset needs tensors of one size in dimension 0, got sizes {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0]) if self.tensors else 0


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``Subset(ds, idx)[k] = ds[idx[k]]``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """A batch in one call where the underlying data set can fetch one (``__getitems__``)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Data sets one after another: index i falls in the first data set whose cumulative length
    exceeds it (``cumulative_sizes``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one data set")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"index {index} is out of range for a data set of {len(self)} samples")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"index {index} is out of range for a data set of {len(self)} samples")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(lengths, n: int) -> list[int]:
    """Integer lengths; fractions summing to 1 become ⌊n·f⌋ each, the remainder handed out one by
    one from the first split on (PyTorch's rule)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError(f"fractions must lie in [0, 1], got {lengths}")
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=3)
        return sizes
    if any(length < 0 or int(length) != length for length in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input dataset "
                         f"({n})")
    return [int(length) for length in lengths]


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given ``lengths``
    (counts summing to ``len(dataset)``, or fractions summing to 1).

    The order is one permutation of the indices, drawn from ``generator`` (a nablab.Generator or a NumPy one) or,
    by default, from nablab's global generator (``nablab.manual_seed`` fixes it).
    """
    sizes = _split_lengths(lengths, len(dataset))
    rng = get_generator() if generator is None else _numpy_generator(generator)
    order = rng.permutation(sum(sizes)).tolist()
    ends = np.cumsum(sizes).tolist()
    return [Subset(dataset, order[end - size : end]) for size, end in zip(sizes, ends)]
