"""The IDX format of MNIST and Fashion-MNIST (LeCun's), read with every field checked.

An IDX file is a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte), the
number of dimensions d — then d 32-bit sizes, then the data in row-major order. Images files
have magic 0x00000803 (N×rows×cols), label files 0x00000801 (N).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .files import DataError, read_gzip

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def parse_idx(data: bytes, path: Path, magic: int) -> np.ndarray:
    """The uint8 array of an IDX file's bytes, or a :class:`DataError` saying what is wrong."""
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    if len(data) < 4:
        raise DataError(f"{path}: only {len(data)} bytes, too short for an IDX header (truncated?)")
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        raise DataError(f"{path}: IDX magic number 0x{found:08x}, expected 0x{magic:08x} ({kind} file)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: the IDX header is truncated")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise DataError(f"{path}: holds {len(data) - header} bytes of data, but its header promises "
                        f"{' × '.join(map(str, dims))} = {expected} (truncated or corrupt)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_bytes(path: Path) -> bytes:
    """The IDX bytes of a file, gzip'd (``.gz``, as published) or not (as torchvision extracts them)."""
    path = Path(path)
    return read_gzip(path) if path.suffix == ".gz" else path.read_bytes()


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images as uint8 N×1×rows×cols and labels as int64, checked against each other."""
    images = parse_idx(read_idx_bytes(images_path), images_path, IMAGES_MAGIC)
    labels = parse_idx(read_idx_bytes(labels_path), labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: label {int(labels.max())} is outside 0–9")
    return images[:, None, :, :], labels.astype(np.int64)
