"""Containers for labelled data: one ``Split`` (images and labels) and a ``Dataset`` of splits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Split:
    """Images ``x`` (N×C×H×W, kept as stored: uint8 for image data) and int64 labels ``y`` (N,)."""

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        self.y = np.asarray(self.y, dtype=np.int64)
        if len(self.x) != len(self.y):
            raise ValueError(f"a split needs one label per example: {len(self.x)} examples, {len(self.y)} labels")

    def __len__(self) -> int:
        return len(self.y)

    def class_counts(self, num_classes: int) -> np.ndarray:
        return np.bincount(self.y, minlength=num_classes)


@dataclass
class Dataset:
    """``train``, ``val`` and ``test`` splits, the class names, and the largest raw pixel value
    (255 for 8-bit images, 16 for the digits) that scaling to [0, 1] divides by."""

    name: str
    train: Split
    val: Split
    test: Split
    classes: list[str]
    max_value: float = 255.0
    info: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.train.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)
