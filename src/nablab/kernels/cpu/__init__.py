"""The CPU (NumPy) kernels; importing this package registers them (``import nablab`` does)."""

from . import batchnorm, conv, fusion, optim, pooling

__all__ = ["batchnorm", "conv", "fusion", "optim", "pooling"]
