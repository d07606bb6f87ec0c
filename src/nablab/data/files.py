"""The official files of a data set and their checksums, and where on disk to look for them.

Search order for a data set called ``name`` (first folder that holds every file wins):

1. ``data_dir`` passed by the caller (``--data-dir``), then the ``NABLAB_DATA`` folder —
   each directly, or in a sub-folder named after the data set (``mnist/``, ``cifar-10-batches-bin/``…);
2. the user cache, ``$XDG_CACHE_HOME/nablab/<name>`` (``~/.cache/nablab/<name>``);
3. system folders that distributions install (Debian's ``dataset-fashion-mnist`` package puts the
   Fashion-MNIST files in ``/usr/share/datasets/fashion-mnist``).

Only then is anything downloaded (into the cache; see :mod:`nablab.data.download`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FileSpec:
    """One official file: its name, size, the publisher's digests, and for gzip files the sha256
    of the uncompressed bytes (so a re-compressed copy of the same data, e.g. Debian's, is
    recognised as such)."""

    name: str
    size: int | None = None
    md5: str | None = None
    sha256: str | None = None
    content_sha256: str | None = None


@dataclass
class DatasetFiles:
    """The files a data set needs, the folder names it may sit in, and the mirrors to fetch from."""

    name: str
    files: list[FileSpec]
    subdirs: list[str]
    mirrors: list[str] = field(default_factory=list)
    system_dirs: list[str] = field(default_factory=list)


class DataError(ValueError):
    """A data file is missing, corrupt or not what was expected; the message says which and why."""


class DataNotFoundError(DataError, RuntimeError):
    """A data set's files are in none of the folders searched (the message lists them). Also a
    RuntimeError, which is what torchvision raises for a data set it cannot find."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nablab`` (default ``~/.cache/nablab``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nablab"


def candidate_dirs(spec: DatasetFiles, data_dir=None) -> list[Path]:
    """Every folder to look in, in order (see the module docstring)."""
    roots = [Path(d) for d in (data_dir, os.environ.get("NABLAB_DATA")) if d]
    dirs = []
    for root in roots:
        dirs.append(root)
        dirs += [root / sub for sub in spec.subdirs]
    dirs.append(cache_dir() / spec.name)
    dirs += [Path(d) for d in spec.system_dirs]
    return dirs


def find_folder(spec: DatasetFiles, data_dir=None, names=None) -> Path | None:
    """The first candidate folder that holds all the files in ``names`` (default: all of ``spec``)."""
    names = names or [f.name for f in spec.files]
    for folder in candidate_dirs(spec, data_dir):
        if all((folder / n).is_file() for n in names):
            return folder
    return None


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, spec: FileSpec) -> str:
    """Check ``path`` against the publisher's digest (sha256, else md5); for gzip files whose
    compressed bytes differ, against the digest of the uncompressed data. Returns how it matched;
    raises :class:`DataError` naming the file and the expected and actual digests."""
    if spec.sha256 or spec.md5:
        algorithm, expected = ("sha256", spec.sha256) if spec.sha256 else ("md5", spec.md5)
        actual = file_digest(path, algorithm)
        if actual == expected:
            return f"{algorithm} {actual}"
    if spec.content_sha256 and path.suffix == ".gz":
        content = hashlib.sha256(read_gzip(path)).hexdigest()
        if content == spec.content_sha256:
            return f"uncompressed sha256 {content}"
        raise DataError(f"{path}: checksum mismatch — expected {algorithm} {expected} (or uncompressed sha256 "
                        f"{spec.content_sha256}), got {actual} (uncompressed {content}). The file is corrupt or "
                        "not the official one; delete it to fetch it again, or turn checksum verification off for "
                        "your own files")
    raise DataError(f"{path}: checksum mismatch — expected {algorithm} {expected}, got {actual}. The file is corrupt "
                    "or not the official one; delete it to fetch it again, or turn checksum verification off for your "
                    "own files")


def read_gzip(path: Path) -> bytes:
    """The uncompressed bytes of a gzip file; a truncated or damaged file is a :class:`DataError`."""
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc}); it may be truncated — delete it and fetch "
                        "it again") from None


def missing_files_message(spec: DatasetFiles, data_dir=None) -> str:
    """The error shown offline: which files to put in which folder."""
    names = "\n  ".join(f.name for f in spec.files)
    where = "\n  ".join(str(d) for d in candidate_dirs(spec, data_dir))
    return (f"the {spec.name} files were not found. Put these files:\n  {names}\n"
            f"into one of these folders (or point --data-dir / NABLAB_DATA at a folder holding them):\n  {where}")
