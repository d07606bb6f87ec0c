"""Data sets in their official formats, splits, loaders and transforms.

``nablab.data.load(name)`` returns a :class:`Dataset` with ``.train``, ``.val`` and ``.test``
splits (uint8 images N×C×H×W in ``.x``, int64 labels in ``.y``) and ``.classes``.
"""

from . import transforms
from .dataset import Dataset, Split
from .digits import load_digits
from .files import DataError, cache_dir
from .loader import DataLoader
from .sets import NAMES, fetch, load
from .splits import carve_validation, stratified_split
from .toy import spiral, toy_data

__all__ = ["NAMES", "DataError", "DataLoader", "Dataset", "Split", "cache_dir", "carve_validation", "fetch", "load",
           "load_digits", "spiral", "stratified_split", "toy_data", "transforms"]
