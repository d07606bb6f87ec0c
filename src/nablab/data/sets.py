"""``nablab.data.load(name, ...)``: find (or fetch), verify, read and split a data set by name."""

from __future__ import annotations

from pathlib import Path

from . import cifar10, mnist
from .dataset import Dataset, Split
from .digits import load_digits
from .download import download as download_files
from .files import DataError, DatasetFiles, cache_dir, find_folder, missing_files_message, verify_file
from .splits import carve_validation
from .text import TextDataset
from .text.corpora import CORPORA, fetch_corpus, load_corpus
from .toy import load_spiral, load_toy

#: validation images held out of the training set by default
DEFAULT_VAL_SIZE = {"mnist": 5000, "fashion_mnist": 5000, "cifar10": 5000}


def _locate(spec: DatasetFiles, data_dir, download: bool, progress: bool) -> Path:
    folder = find_folder(spec, data_dir)
    if folder is not None:
        return folder
    if not download:
        raise DataError(missing_files_message(spec, data_dir))
    return download_files(spec, cache_dir() / spec.name, progress=progress)


def _verify(spec: DatasetFiles, folder: Path) -> dict:
    return {f.name: verify_file(folder / f.name, f) for f in spec.files}


def _locate_cifar10(data_dir, download: bool, verify: bool, progress: bool) -> tuple[Path, dict]:
    folder = find_folder(cifar10.CIFAR10, data_dir)
    if folder is None:
        archive_spec = cifar10.CIFAR10_ARCHIVE
        archive_dir = find_folder(archive_spec, data_dir)
        if archive_dir is None:
            if not download:
                raise DataError(missing_files_message(cifar10.CIFAR10, data_dir)
                                + "\n(or cifar-10-binary.tar.gz into any of them)")
            archive_dir = download_files(archive_spec, cache_dir() / "cifar10", progress=progress)
        archive = archive_dir / archive_spec.files[0].name
        if verify:
            verify_file(archive, archive_spec.files[0])
        folder = cifar10.extract_archive(archive, cache_dir() / "cifar10" / "cifar-10-batches-bin")
    return folder, (_verify(cifar10.CIFAR10, folder) if verify else {})


def fetch(name: str, data_dir=None, download: bool = True, verify: bool = True, progress: bool = True):
    """Find (or download into the cache) and verify the official files of ``name``, without
    reading them; returns ``(folder, {file: how its checksum matched})``. A text corpus that a
    package installs (``kjv``) is found, not downloaded."""
    name = name.replace("-", "_").lower()
    if name == "cifar10":
        return _locate_cifar10(data_dir, download, verify, progress)
    if name in CORPORA:
        return fetch_corpus(name, data_dir, verify)
    if name not in ("mnist", "fashion_mnist"):
        raise ValueError(f"{name} has no files to fetch; fetch takes mnist, fashion_mnist, cifar10 or "
                         f"{', '.join(CORPORA)}")
    spec = mnist.MNIST if name == "mnist" else mnist.FASHION_MNIST
    folder = _locate(spec, data_dir, download, progress)
    return folder, (_verify(spec, folder) if verify else {})


def _split(name, x_train, y_train, x_test, y_test, split, val_size, seed, stratified):
    """train/val/test Splits: ``split="hlcv"`` is the HLCV convention (validation = the last
    1,000 training images, test = the first 1,000 test images); otherwise ``val_size`` images
    (default per data set) are held out of the training set with ``seed``."""
    if split == "hlcv":
        if val_size not in (None, 1000):
            raise ValueError("the hlcv split has a fixed validation size of 1,000")
        n = len(y_train) - 1000
        return (Split(x_train[:n], y_train[:n]), Split(x_train[n:], y_train[n:]),
                Split(x_test[:1000], y_test[:1000]), "hlcv: train[:-1000] / train[-1000:] / test[:1000]")
    if split not in (None, "full"):
        raise ValueError(f"unknown split {split!r}; expected 'full' or 'hlcv'")
    val_size = DEFAULT_VAL_SIZE[name] if val_size is None else int(val_size)
    tr, va = carve_validation(len(y_train), val_size, seed, labels=y_train if stratified else None)
    how = f"full: {val_size} validation images held out ({'stratified, ' if stratified else ''}seed {seed})"
    return Split(x_train[tr], y_train[tr]), Split(x_train[va], y_train[va]), Split(x_test, y_test), how


def load(name: str, data_dir=None, split: str | None = None, val_size: int | None = None, seed: int = 0,
         download: bool = True, verify: bool = True, stratified: bool = False, progress: bool = True,
         tokenizer: str | None = None) -> Dataset | TextDataset:
    """Load a data set with its train/val/test splits.

    ``name`` is one of ``digits`` (bundled with scikit-learn), ``mnist``, ``fashion_mnist``,
    ``cifar10``, ``toy`` and ``spiral``, or the text corpus ``kjv`` (the King James Bible, from
    Debian's bible-kjv; see :mod:`nablab.data.text.kjv`), which is a :class:`TextDataset`: the text
    and token ids of contiguous 90/5/5 % train/val/test parts, encoded by ``tokenizer`` (``"char"``,
    the default: one id per character of the training text; ``"byte"``: UTF-8 bytes). Files are
    looked for in ``data_dir``, ``NABLAB_DATA``, the cache and system folders, and downloaded into
    the cache if ``download`` (see :mod:`nablab.data.files`). With ``verify`` every official file is
    checked against the publisher's checksum; ``verify=False`` is for your own files in the same formats.
    """
    name = name.replace("-", "_").lower()
    if name in CORPORA:
        if split is not None or val_size is not None or stratified:
            raise ValueError(f"{name} has a fixed contiguous split; split, val_size and stratified do not apply")
        return load_corpus(name, data_dir, verify, tokenizer or "char")
    if tokenizer is not None:
        raise ValueError(f"{name} is not a text corpus; tokenizer applies only to {', '.join(CORPORA)}")
    if name in BUNDLED:
        if split is not None or val_size is not None:
            raise ValueError(f"{name} has a fixed split; split and val_size do not apply")
        return {"digits": load_digits, "toy": lambda seed: load_toy(), "spiral": load_spiral}[name](seed=seed)
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; available: {', '.join(NAMES)}")
    folder, digests = fetch(name, data_dir, download, verify, progress)
    if name == "cifar10":
        x_train, y_train, x_test, y_test, classes = cifar10.read_cifar10(folder)
    else:
        x_train, y_train, x_test, y_test = mnist.read_idx_set(folder)
        classes = mnist.MNIST_CLASSES if name == "mnist" else mnist.FASHION_CLASSES
    train, val, test, how = _split(name, x_train, y_train, x_test, y_test, split, val_size, seed, stratified)
    return Dataset(name, train, val, test, list(classes), max_value=255.0,
                   info={"source": str(folder), "checksums": digests, "verified": verify, "split": how})


def describe(name: str, data_dir=None) -> tuple[str, str]:
    """``(kind, where)`` of data set ``name`` without reading, verifying or downloading anything: its
    kind (images, text or toy) and the folder its files were found in, or what to do to get them."""
    if name in BUNDLED:
        return ("images" if name == "digits" else "toy"), ("bundled with scikit-learn" if name == "digits"
                                                            else "made on the fly")
    if name in CORPORA:
        folder = find_folder(CORPORA[name].FILES, data_dir)
        return "text", (str(folder) if folder else f"not found ({CORPORA[name].INSTALL})")
    specs = {"mnist": [mnist.MNIST], "fashion_mnist": [mnist.FASHION_MNIST],
             "cifar10": [cifar10.CIFAR10, cifar10.CIFAR10_ARCHIVE]}[name]
    folder = next((f for f in (find_folder(spec, data_dir) for spec in specs) if f is not None), None)
    return "images", (str(folder) if folder else "not found (downloaded into the cache on first use)")


#: the data sets that need no files
BUNDLED = ("digits", "toy", "spiral")
#: the text corpora (:class:`TextDataset`), for language models
TEXT_NAMES = list(CORPORA)
NAMES = ["digits", "mnist", "fashion_mnist", "cifar10", "toy", "spiral", *TEXT_NAMES]

__all__ = ["BUNDLED", "DEFAULT_VAL_SIZE", "NAMES", "TEXT_NAMES", "describe", "fetch", "load"]
