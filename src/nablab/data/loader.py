"""``DataLoader``: batches of (inputs, labels) tensors from a split, reproducibly shuffled."""

from __future__ import annotations

import numpy as np

from ..random import get_generator
from ..tensor import Tensor


class DataLoader:
    """Iterate over ``(x, y)`` batches of a :class:`~nablab.data.Split` (or any ``(x, y)`` pair).

    This is the lab's array loader: a batch is gathered from the arrays with one fancy index and
    transformed as a whole (:mod:`nablab.data.batch_transforms`). For map-style data sets whose
    items are fetched one at a time (``nablab.data.datasets.MNIST``, your own ``Dataset``), use
    :class:`nablab.utils.data.DataLoader`. The defaults are PyTorch's (``batch_size=1``,
    ``shuffle=False``).

    - ``shuffle``: a new permutation every epoch, drawn from a generator seeded with
      ``(seed, epoch)``, so epoch e is the same in every run with that seed — and a run resumed
      at epoch e sees exactly the batches it would have seen.
    - ``with_replacement``: each batch is ``batch_size`` indices drawn uniformly with replacement
      (the course reports' sampling), ``len(split) // batch_size`` batches per epoch.
    - ``transform``: a function from the raw batch array (e.g. uint8 images) to float inputs,
      applied per batch so the data set stays small in memory. Random transforms
      (:mod:`nablab.data.batch_transforms`) draw from a generator seeded with ``(seed, epoch, batch)``.
    - ``seed`` None draws one from nablab's global generator (see ``nablab.manual_seed``).
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, transform=None, with_replacement: bool = False):
        x, y = (dataset.x, dataset.y) if hasattr(dataset, "x") else dataset
        if len(x) != len(y):
            raise ValueError(f"inputs and labels differ in length: {len(x)} and {len(y)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.x, self.y = x, np.asarray(y)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.with_replacement, self.transform = with_replacement, transform
        self.seed = int(get_generator().integers(0, 2**31)) if seed is None else int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.y)
        if self.with_replacement or self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch``'s batches (for resuming)."""
        self.epoch = int(epoch)

    def _order(self, epoch: int) -> np.ndarray:
        n = len(self.y)
        rng = np.random.default_rng([self.seed, epoch])
        if self.with_replacement:
            return rng.integers(0, n, size=len(self) * self.batch_size)
        return rng.permutation(n) if self.shuffle else np.arange(n)

    def batch(self, idx, rng=None) -> tuple[Tensor, Tensor]:
        """The batch of the given indices, transformed (random transforms draw from ``rng``)."""
        x = self.x[idx]
        if self.transform is not None:
            x = self.transform(x, rng) if getattr(self.transform, "random", False) else self.transform(x)
        return Tensor._make(x), Tensor._make(self.y[idx])

    def iter_from(self, start: int = 0):
        """This epoch's batches from batch ``start`` on (a resumed run skips those it has seen).

        Each batch's augmentation draws from a generator seeded with (seed, epoch, batch), so the
        batches after ``start`` are exactly those an uninterrupted epoch would have produced.
        """
        epoch, order = self.epoch, self._order(self.epoch)
        self.epoch += 1
        random = getattr(self.transform, "random", False)
        for b in range(start, len(self)):
            rng = np.random.default_rng([self.seed, epoch, b, 1]) if random else None
            yield self.batch(order[b * self.batch_size : (b + 1) * self.batch_size], rng)

    def __iter__(self):
        return self.iter_from(0)
