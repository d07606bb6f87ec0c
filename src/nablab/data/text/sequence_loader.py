"""``SequenceLoader``: language-model batches of contiguous windows of a token stream.

From ids ``s[0..N)`` a window starting at ``t`` gives the input ``x = s[t : t+T]`` and the target
``y = s[t+1 : t+T+1]`` (the next token at every position), ``T = seq_len``. A batch stacks
``batch_size`` windows into two int64 tensors of shape (batch_size, seq_len).

- Training order (``shuffle=True``): each epoch cuts the stream into non-overlapping windows
  ``t = o, o+T, o+2T, …`` from an offset ``o`` drawn in ``[0, T)``, so that window boundaries move
  from epoch to epoch, and visits them in a random order. The offset and the order come from a
  generator seeded with ``(seed, epoch)``: epoch e is the same in every run with that seed, and a
  run resumed at epoch e, batch b (:meth:`iter_from`) sees exactly the batches it would have.
  Every epoch has ``N // T - 1`` windows, whatever its offset, and covers the stream once
  (up to less than 2T tokens at its two ends).
- Evaluation order (``shuffle=False``): the windows ``t = 0, T, 2T, …`` in order, all
  ``(N - 1) // T`` of them, so every target but the last ``(N - 1) % T`` tokens is scored once.

The interface is :class:`nablab.data.DataLoader`'s: ``len``, ``set_epoch``, ``iter_from``,
iteration, ``.dataset``.
"""

from __future__ import annotations

import numpy as np

from ...errors import ShapeError
from ...random import get_generator
from ...tensor import Tensor


class SequenceLoader:
    """Batches ``(x, y)`` of contiguous windows of ``ids`` (a 1-D array of token ids, or a split with ``.ids``).

    ``drop_last`` leaves out the last, smaller batch of an epoch. ``seed`` None draws one from
    nablab's global generator (see ``nablab.manual_seed``).
    """

    def __init__(self, dataset, batch_size: int, seq_len: int, shuffle: bool = True, drop_last: bool = False,
                 seed: int | None = None):
        ids = np.asarray(getattr(dataset, "ids", dataset))
        if ids.ndim != 1:
            raise ShapeError(f"a sequence loader reads a 1-D stream of token ids, got shape {ids.shape}")
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"token ids must be integers, got dtype {ids.dtype}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if seq_len < 1:
            raise ValueError(f"seq_len must be at least 1, got {seq_len}")
        self.dataset = dataset
        self.ids = ids.astype(np.int64, copy=False)
        self.batch_size, self.seq_len = int(batch_size), int(seq_len)
        self.shuffle, self.drop_last = shuffle, drop_last
        if self.num_windows < 1:
            need = 2 * self.seq_len if shuffle else self.seq_len + 1
            raise ValueError(f"{len(self.ids)} tokens make no window of seq_len {self.seq_len}; "
                             f"{'training' if shuffle else 'evaluation'} order needs at least {need}")
        self.seed = int(get_generator().integers(0, 2**31)) if seed is None else int(seed)
        self.epoch = 0

    @property
    def num_windows(self) -> int:
        """Windows per epoch: ``N // T - 1`` in training order, ``(N - 1) // T`` in evaluation order."""
        n, t = len(self.ids), self.seq_len
        return n // t - 1 if self.shuffle else max(n - 1, 0) // t

    def __len__(self) -> int:
        k, b = self.num_windows, self.batch_size
        return k // b if self.drop_last else -(-k // b)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch``'s batches (for resuming)."""
        self.epoch = int(epoch)

    def starts(self, epoch: int) -> np.ndarray:
        """The first position of every window of epoch ``epoch``, in the order they are batched."""
        k, t = self.num_windows, self.seq_len
        if not self.shuffle:
            return np.arange(k, dtype=np.int64) * t
        rng = np.random.default_rng([self.seed, epoch])
        offset = int(rng.integers(0, t))
        return offset + rng.permutation(k).astype(np.int64) * t

    def batch(self, starts) -> tuple[Tensor, Tensor]:
        """The batch of windows beginning at ``starts``: x (len(starts), T) and y, x shifted by one."""
        windows = self.ids[np.asarray(starts)[:, None] + np.arange(self.seq_len + 1)]
        return Tensor._make(np.ascontiguousarray(windows[:, :-1])), Tensor._make(np.ascontiguousarray(windows[:, 1:]))

    def iter_from(self, start: int = 0):
        """This epoch's batches from batch ``start`` on (a resumed run skips those it has seen)."""
        starts = self.starts(self.epoch)
        self.epoch += 1
        b = self.batch_size
        for i in range(start, len(self)):
            yield self.batch(starts[i * b : (i + 1) * b])

    def __iter__(self):
        return self.iter_from(0)

    def __repr__(self) -> str:
        order = "shuffled" if self.shuffle else "in order"
        return (f"SequenceLoader({len(self.ids)} tokens, batch_size={self.batch_size}, seq_len={self.seq_len}, "
                f"{self.num_windows} windows {order}, {len(self)} batches)")
