"""The named pairs that ops with two results return, as ``torch.return_types``: ``x.max(dim)`` gives
``max(values, indices)``; unpack it (``v, i = x.max(1)``) or read its fields (``x.max(1).indices``)."""

from __future__ import annotations

from collections import namedtuple

max = namedtuple("max", ["values", "indices"])  # noqa: A001 - PyTorch's names
min = namedtuple("min", ["values", "indices"])  # noqa: A001
median = namedtuple("median", ["values", "indices"])
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
cummax = namedtuple("cummax", ["values", "indices"])
cummin = namedtuple("cummin", ["values", "indices"])

__all__ = ["cummax", "cummin", "max", "median", "min", "sort", "topk"]
