"""Data sets in their official formats, splits, loaders and transforms.

``nablab.data.load(name)`` returns a :class:`Dataset` with ``.train``, ``.val`` and ``.test``
splits (uint8 images N×C×H×W in ``.x``, int64 labels in ``.y``) and ``.classes``; the lab batches
them with :class:`DataLoader` and :mod:`~nablab.data.batch_transforms`.

torchvision's way: ``from nablab.data import datasets, transforms`` gives ``datasets.MNIST``,
``FashionMNIST``, ``CIFAR10`` and the per-sample ``transforms.Compose``, ``ToTensor``,
``Normalize``…, read through :class:`nablab.utils.data.DataLoader`.

Text for language models (:mod:`nablab.data.text`): ``load("kjv")`` (a text corpus, one of
``TEXT_NAMES``) returns a :class:`TextDataset` of contiguous splits with their text and token ids;
``CharTokenizer`` and ``ByteTokenizer``; ``SequenceLoader``, batches of contiguous windows
(x, y = x shifted by one) of a split's token ids.
"""

from . import batch_transforms, datasets, text, transforms
from .dataset import Dataset, Split
from .digits import load_digits
from .files import DataError, DataNotFoundError, cache_dir
from .loader import DataLoader
from .sets import NAMES, TEXT_NAMES, fetch, load
from .splits import carve_validation, stratified_split
from .text import ByteTokenizer, CharTokenizer, SequenceLoader, TextDataset, TextSplit
from .toy import spiral, toy_data

__all__ = ["NAMES", "TEXT_NAMES", "ByteTokenizer", "CharTokenizer", "DataError", "DataLoader", "DataNotFoundError",
           "Dataset", "SequenceLoader", "Split", "TextDataset", "TextSplit", "batch_transforms", "cache_dir",
           "carve_validation", "datasets", "fetch", "load", "load_digits", "spiral", "stratified_split", "text",
           "toy_data", "transforms"]
