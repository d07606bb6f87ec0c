"""The CPU (NumPy) kernels; importing this package registers them (``import nablab`` does)."""

from . import (
    batchnorm,
    conv,
    embedding,
    fusion,
    gelu,
    layer_norm,
    nll_loss,
    optim,
    pooling,
    recurrent,
    softmax,
    threads,
)

__all__ = ["batchnorm", "conv", "embedding", "fusion", "gelu", "layer_norm", "nll_loss", "optim", "pooling",
           "recurrent", "softmax", "threads"]
