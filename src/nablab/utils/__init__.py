"""PyTorch's ``torch.utils``: ``nablab.utils.data`` (data sets, samplers, the DataLoader)."""

from . import data

__all__ = ["data"]
