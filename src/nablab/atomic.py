"""Atomic file writes: write to a temporary file beside the target, then rename it into place.

A rename within one folder is atomic on POSIX and Windows, so a reader (or a resumed run) sees
either the old file or the complete new one — never a half-written file, whenever the writer
is killed. A writer killed mid-write leaves its temporary file (``.NAME.XXXX.tmp.EXT``) behind;
:func:`remove_temp_files` clears those of a folder that no one is writing into.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

_TEMP = ".tmp"
_UMASK = os.umask(0o022)  # reading the process's umask means setting it: set it straight back
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The file gets ``path``'s mode if it exists, else the one the umask gives new files (0644 under 022).

    For libraries that write to a path themselves (safetensors, matplotlib).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP + path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)  # mkstemp's (and safetensors') files are private, 0600: the mode a plain open() gives
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def is_temp_file(path) -> bool:
    """Whether ``path`` is named like a temporary file of :func:`atomic_path` (``.NAME.XXXX.tmp.EXT``)."""
    name = Path(path).name
    if not name.startswith("."):
        return False
    stem, dot, suffix = name[1:].rpartition(".tmp")
    return bool(dot) and "." in stem and (suffix == "" or suffix.startswith("."))


def remove_temp_files(folder) -> list[Path]:
    """Delete the temporary files that killed writers left anywhere under ``folder``; returns them.

    Only for a folder that no live process writes into (a run folder whose lock is held).
    """
    removed = []
    for path in sorted(Path(folder).rglob(".*")):
        if path.is_file() and is_temp_file(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
