"""Samplers: the order in which a DataLoader visits a data set's indices, and their grouping into
batches, as in ``torch.utils.data``.

Random samplers draw from the generator passed as ``generator``, a nablab.Generator or a NumPy one (it
advances, epoch after epoch), or by default from a fresh generator seeded from nablab's global one at the start of every
epoch — so after ``nablab.manual_seed(s)`` the epochs come in the same orders, as after
``torch.manual_seed(s)`` in PyTorch (the orders themselves differ from PyTorch's).
"""

from __future__ import annotations

import numbers

import numpy as np

from ...random import numpy_generator, spawn_generator


def _numpy_generator(generator) -> np.random.Generator:
    """The NumPy Generator behind ``generator`` (a nablab.Generator or a NumPy one)."""
    return numpy_generator(generator)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


class Sampler:
    """Base class: ``__iter__`` yields indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__ (a subclass of Sampler)")


class SequentialSampler(Sampler):
    """0, 1, …, len(data_source) − 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices.

    Without ``replacement``: a permutation of 0 … n − 1 (``num_samples`` > n chains permutations
    and cuts the last one short). With ``replacement``: ``num_samples`` (default n) indices drawn
    uniformly and independently.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = None if num_samples is None else _positive_int(num_samples, "num_samples")
        _positive_int(self.num_samples, "num_samples")  # an empty data set has nothing to sample
        self.generator = None if generator is None else _numpy_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        rng = spawn_generator() if self.generator is None else self.generator
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[: self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new one every epoch)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = None if generator is None else _numpy_generator(generator)

    def __iter__(self):
        rng = spawn_generator() if self.generator is None else self.generator
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of ``batch_size`` consecutive indices of ``sampler``; the last one shorter, or dropped
    with ``drop_last``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.batch_size = _positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
