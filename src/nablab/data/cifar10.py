"""CIFAR-10, binary version: 50,000 training and 10,000 test 32×32 colour images, 10 classes.

Each ``.bin`` file is a sequence of 3,073-byte records: one label byte (0–9), then the red,
green and blue planes, 1,024 bytes each, row-major. The files come as ``cifar-10-binary.tar.gz``
or already extracted into ``cifar-10-batches-bin/``. The pickled "Python version" is never read:
unpickling a downloaded file runs whatever code it holds.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from .files import DataError, DatasetFiles, FileSpec

RECORD = 1 + 3 * 32 * 32
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

_BATCHES = [
    ("data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25",
     "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5"),
    ("data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692",
     "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed"),
    ("data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421",
     "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67"),
    ("data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb",
     "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48"),
    ("data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d",
     "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add"),
    ("test_batch.bin", "803d5f7f4d78ea53de84dbe85f74fb6d",
     "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b"),
]

#: the extracted batches (what is loaded)
CIFAR10 = DatasetFiles(
    name="cifar10",
    files=[FileSpec(name, 30730000, md5, sha) for name, md5, sha in _BATCHES],
    subdirs=["cifar10", "cifar-10-batches-bin", "cifar10/cifar-10-batches-bin", "CIFAR10"],
)

#: the publisher's archive (what is downloaded and extracted)
CIFAR10_ARCHIVE = DatasetFiles(
    name="cifar10",
    files=[FileSpec("cifar-10-binary.tar.gz", md5="c32a1d4ab5d03f1284b67883e8d87530")],
    subdirs=["cifar10", "CIFAR10"],
    mirrors=["https://www.cs.toronto.edu/~kriz/"],
)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 N×3×32×32) and int64 labels of one ``.bin`` file, with its structure checked."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise DataError(f"{path}: {raw.size} bytes is not a whole number of {RECORD}-byte CIFAR-10 records "
                        "(truncated or not a CIFAR-10 binary batch)")
    records = raw.reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{path}: record {bad} has label {int(labels[bad])}, outside 0–9")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def read_classes(folder: Path) -> list[str]:
    """Class names from ``batches.meta.txt`` (empty lines ignored), or the standard ten."""
    meta = folder / "batches.meta.txt"
    if not meta.is_file():
        return list(CLASSES)
    names = [line.strip() for line in meta.read_text().splitlines() if line.strip()]
    if len(names) != 10:
        raise DataError(f"{meta}: expected 10 class names, found {len(names)}")
    return names


def read_cifar10(folder: Path):
    """(train images, train labels, test images, test labels, class names) from the batches."""
    parts = [read_batch(folder / f"data_batch_{i}.bin") for i in range(1, 6)]
    x_test, y_test = read_batch(folder / "test_batch.bin")
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return x_train, y_train, x_test, y_test, read_classes(folder)


def extract_archive(archive: Path, dest: Path) -> Path:
    """Extract the batches of ``cifar-10-binary.tar.gz`` into ``dest`` (all or nothing).

    Only the expected member names are read (no path from the archive is trusted); they are
    extracted into a temporary folder beside ``dest`` that is renamed into place at the end.
    """
    wanted = {f"cifar-10-batches-bin/{f.name}" for f in CIFAR10.files} | {"cifar-10-batches-bin/batches.meta.txt"}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".cifar10-extract-", dir=dest.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    with tar.extractfile(member) as src, open(tmp / Path(member.name).name, "wb") as out:
                        shutil.copyfileobj(src, out)
        missing = [f.name for f in CIFAR10.files if not (tmp / f.name).is_file()]
        if missing:
            raise DataError(f"{archive}: the archive lacks {', '.join(missing)}")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{archive}: cannot be extracted ({exc}); delete it and fetch it again") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest
