"""torchvision's data sets: ``MNIST``, ``FashionMNIST`` and ``CIFAR10``, with its call shape.

``from torchvision import datasets`` becomes ``from nablab.data import datasets``::

    train = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
    image, label = train[0]                        # a 1×28×28 float32 tensor and a Python int

``ds[i]`` is ``(image, target)``. Where torchvision hands the transform a PIL image, nablab (which
has no PIL) hands it the same pixels as a uint8 NumPy array: H×W for (Fashion-)MNIST, H×W×C for
CIFAR-10, a copy the transform may change. ``target`` is a Python int. Both pass through
``transform`` and ``target_transform`` when given. ``.data``, ``.targets`` and ``.classes`` are
torchvision's: for MNIST a uint8 tensor N×28×28 and an int64 tensor; for CIFAR-10 a uint8 array
N×32×32×3 and a list of ints.

Where the files are looked for, in order (the first place holding the split's files wins):

1. torchvision's layout: ``root/MNIST/raw/train-images-idx3-ubyte`` (extracted, as torchvision
   leaves them, or ``.gz``), ``root/FashionMNIST/raw/…``, and for CIFAR-10 ``root/cifar-10-batches-bin/``;
2. nablab's search order (:mod:`nablab.data.files`): ``root`` and its sub-folders, ``NABLAB_DATA``,
   the cache, system folders; for CIFAR-10 also ``cifar-10-binary.tar.gz`` there, extracted into
   ``root/cifar-10-batches-bin``;
3. with ``download=True``, the publisher's files are fetched into torchvision's folder
   (``root/MNIST/raw``; ``root`` for CIFAR-10's archive) through :mod:`nablab.data.download`,
   which checks each file's checksum before keeping it.

CIFAR-10 is read in its binary version: torchvision's ``cifar-10-batches-py`` holds pickles, and
nablab never unpickles (loading a pickle runs whatever code it holds). The structure of every
file is always checked (IDX headers, record sizes, labels); ``verify=True`` (nablab's own
keyword) also checks found files against the publisher's checksums. A data set found nowhere is a
:class:`~nablab.data.files.DataNotFoundError` listing every place searched.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset
from . import cifar10, mnist
from .download import download as download_files
from .files import DataError, DataNotFoundError, DatasetFiles, candidate_dirs, file_digest, find_folder, verify_file
from .idx import read_idx_pair


def _expand(root):
    return os.path.expanduser(root) if isinstance(root, str) else root


def _unique(paths) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _not_found(name: str, files, places, note: str = "") -> DataNotFoundError:
    where = "\n  ".join(str(p) for p in _unique(places))
    return DataNotFoundError(f"{name} not found: no folder holds {', '.join(files)}. Searched:\n  {where}\n"
                             f"Put the files in one of these folders, or pass download=True to fetch them.{note}")


class VisionDataset(Dataset):
    """What the three data sets share: ``root``, the transforms, ``len``, ``classes`` and the repr."""

    classes: list[str] = []

    def __init__(self, root, transform=None, target_transform=None):
        self.root = _expand(root)
        self.transform, self.target_transform = transform, target_transform

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _sample(self, image: np.ndarray, target: int):
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}",
                 f"Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines += ("Transform: " + repr(self.transform)).splitlines()
        if self.target_transform is not None:
            lines += ("Target transform: " + repr(self.target_transform)).splitlines()
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + line for line in lines)


class MNIST(VisionDataset):
    """LeCun's MNIST: 60,000 training (``train=True``) or 10,000 test 28×28 grey digits, labels 0–9.

    Sample i is ``(image, label)``: ``image`` the uint8 28×28 array (torchvision's PIL image) or what
    ``transform`` makes of it, ``label`` an int. See the module docstring for where files are found.
    """

    files: DatasetFiles = mnist.MNIST
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False,
                 *, verify: bool = False):
        super().__init__(root, transform, target_transform)
        self.train = train
        prefix = "train" if train else "t10k"
        images, labels = self._locate([f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"], download)
        if verify:
            for path in (images, labels):
                self._verify(path)
        x, y = read_idx_pair(images, labels)
        self.data = Tensor._make(x[:, 0].copy())  # N×H×W, writable (the IDX bytes are read-only)
        self.targets = Tensor._make(y)

    @property
    def raw_folder(self) -> Path:
        """torchvision's folder for the files: ``root/<class name>/raw``."""
        return Path(self.root) / type(self).__name__ / "raw"

    def _locate(self, names: list[str], download: bool) -> list[Path]:
        raw = self.raw_folder
        found = [next((p for p in (raw / n, raw / f"{n}.gz") if p.is_file()), None) for n in names]
        if all(found):
            return found
        gz = [f"{n}.gz" for n in names]
        folder = find_folder(self.files, self.root, gz)
        if folder is not None:
            return [folder / n for n in gz]
        if download:
            download_files(self.files, raw)
            return [raw / n for n in gz]
        places = [raw] + candidate_dirs(self.files, self.root)
        raise _not_found(type(self).__name__, [f"{n}[.gz]" for n in names], places)

    def _verify(self, path: Path) -> None:
        spec = next(f for f in self.files.files if f.name == path.name or f.name == f"{path.name}.gz")
        if path.suffix == ".gz":
            verify_file(path, spec)
            return
        digest = file_digest(path, "sha256")
        if digest != spec.content_sha256:
            raise DataError(f"{path}: checksum mismatch — expected the sha256 of the official uncompressed file, "
                            f"{spec.content_sha256}, got {digest}. The file is corrupt or not the official one")

    def __getitem__(self, index: int):
        return self._sample(self.data.data[index].copy(), int(self.targets.data[index]))

    def __len__(self) -> int:
        return len(self.data.data)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing (``classes``).

    Found also where Debian's ``dataset-fashion-mnist`` package installs it
    (``/usr/share/datasets/fashion-mnist``).
    """

    files = mnist.FASHION_MNIST
    classes = list(mnist.FASHION_CLASSES)


class CIFAR10(VisionDataset):
    """Krizhevsky's CIFAR-10: 50,000 training (``train=True``) or 10,000 test 32×32 colour images,
    10 classes (``classes``, from ``batches.meta.txt``).

    Sample i is ``(image, label)``: ``image`` the uint8 32×32×3 array (torchvision's PIL image) or
    what ``transform`` makes of it, ``label`` an int. ``.data`` is N×32×32×3 uint8, ``.targets`` a
    list of ints, as torchvision's. Read from the binary version (``cifar-10-batches-bin``).
    """

    base_folder = "cifar-10-batches-bin"

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False,
                 *, verify: bool = False):
        super().__init__(root, transform, target_transform)
        self.train = train
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        folder = self._locate(names, download, verify)
        if verify:
            specs = {f.name: f for f in cifar10.CIFAR10.files}
            for name in names:
                verify_file(folder / name, specs[name])
        parts = [cifar10.read_batch(folder / name) for name in names]
        self.data = np.ascontiguousarray(np.concatenate([p[0] for p in parts]).transpose(0, 2, 3, 1))
        self.targets = np.concatenate([p[1] for p in parts]).tolist()
        self.classes = cifar10.read_classes(folder)

    def _locate(self, names: list[str], download: bool, verify: bool) -> Path:
        root = Path(self.root)
        own = root / self.base_folder
        if all((own / n).is_file() for n in names):
            return own
        folder = find_folder(cifar10.CIFAR10, root, names)
        if folder is not None:
            return folder
        archive_spec = cifar10.CIFAR10_ARCHIVE
        archive_dir = find_folder(archive_spec, root)
        if archive_dir is None and download:
            archive_dir = download_files(archive_spec, root)
        if archive_dir is None:
            pickled = root / "cifar-10-batches-py"
            note = (f"\n{pickled} holds the pickled Python version, which nablab never reads (unpickling runs "
                    "code); use the binary version, cifar-10-binary.tar.gz." if pickled.is_dir() else "")
            places = [own] + candidate_dirs(cifar10.CIFAR10, root)
            raise _not_found("CIFAR10", names + ["(or cifar-10-binary.tar.gz)"], places, note)
        archive = archive_dir / archive_spec.files[0].name
        if verify:
            verify_file(archive, archive_spec.files[0])
        return cifar10.extract_archive(archive, own)

    def __getitem__(self, index: int):
        return self._sample(self.data[index].copy(), int(self.targets[index]))

    def __len__(self) -> int:
        return len(self.data)


__all__ = ["CIFAR10", "MNIST", "FashionMNIST", "VisionDataset"]
