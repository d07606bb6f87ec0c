"""Random draws shaped by tensors, as ``torch.normal``, ``torch.bernoulli`` and ``torch.multinomial``.

They draw from nablab's generator (``nablab.manual_seed``) or a given ``generator`` and give
results outside the graph (a sample carries no gradient; the reparameterisation mean + std · ε
is written with ``randn`` by hand where one is wanted).
"""

from __future__ import annotations

import numpy as np

from .dtypes import DEFAULT_DTYPE
from .random import numpy_generator
from .tensor import Tensor, as_tensor


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None) -> Tensor:
    """Samples of N(mean, std²): ``normal(mean_tensor, std_tensor)`` draws one per element of their
    broadcast shape; ``normal(0.0, 1.0, size=(2, 3))`` draws ``size`` from fixed numbers."""
    m, s = _array(mean), _array(std)
    if np.any(s < 0):
        raise RuntimeError(f"normal expects std >= 0.0, got {s.min()}")
    shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    floats = [a.dtype for a in (m, s) if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim]
    dtype = np.dtype(dtype) if dtype is not None else (floats[0] if floats else DEFAULT_DTYPE)
    draw = numpy_generator(generator).normal(m, s, shape)
    return Tensor._make(np.asarray(draw, dtype=dtype))


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002 - PyTorch's name
    """1 with probability ``input`` (or the number ``p``), else 0: :meth:`nablab.Tensor.bernoulli`."""
    return as_tensor(input).bernoulli(p, generator=generator)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:  # noqa: A002
    """Indices drawn in proportion to each row's weights: :meth:`nablab.Tensor.multinomial`."""
    return as_tensor(input).multinomial(num_samples, replacement, generator=generator)


__all__ = ["bernoulli", "multinomial", "normal"]
