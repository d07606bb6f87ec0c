"""Data sets, splits, loaders and transforms."""

from .dataset import Dataset, Split
from .digits import load_digits
from .loader import DataLoader
from .splits import stratified_split
from .transforms import ScaleFlatten

#: loaders by name (MNIST, Fashion-MNIST and CIFAR-10 arrive with the data-sets issue)
DATASETS = {"digits": load_digits}


def load(name: str, **kwargs) -> Dataset:
    """Load a data set by name with its train/val/test splits."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; available: {sorted(DATASETS)}")
    return DATASETS[name](**kwargs)


__all__ = ["DATASETS", "DataLoader", "Dataset", "ScaleFlatten", "Split", "load", "load_digits", "stratified_split"]
