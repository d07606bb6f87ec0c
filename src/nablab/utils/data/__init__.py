"""``torch.utils.data`` for nablab: map-style data sets, samplers, collation and the DataLoader.

``from torch.utils.data import DataLoader, Dataset`` becomes
``from nablab.utils.data import DataLoader, Dataset``, with PyTorch's defaults and behaviour
(``batch_size=1``, ``shuffle=False``, ``drop_last=False``; ``len(loader)`` counts batches). Loading
always runs in the calling process (see :class:`DataLoader`).
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler",
           "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "default_collate",
           "default_convert", "random_split"]
