"""Fetching official files from a list of mirrors, safely.

For each missing file, the mirrors are tried in order. A mirror is skipped — and the next one
tried — on ANY failure: an HTTP error (MNIST's original host answers 403), a timeout, an HTML
page where data was expected, a size or checksum mismatch. Bytes go to a temporary file in the
destination folder and are renamed into place only after the checksum matched, so an
interrupted or failed download never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from .files import DataError, DatasetFiles, FileSpec, missing_files_message

CHUNK = 1 << 16


def _progress(total, desc, enabled):
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, unit="B", unit_scale=True, leave=False, disable=None)
        except ImportError:
            pass
    return None


def fetch_file(url: str, spec: FileSpec, dest: Path, timeout: float = 30.0, progress: bool = True) -> Path:
    """Download ``url`` to ``dest / spec.name``, checking size and digest before the final rename."""
    request = urllib.request.Request(url, headers={"User-Agent": "nablab"})
    target = dest / spec.name
    fd, tmp = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=dest)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            if "html" in response.headers.get("Content-Type", "").lower():
                raise DataError(f"{url} sent an HTML page, not the data file")
            md5, sha = hashlib.md5(), hashlib.sha256()
            size, first = 0, b""
            bar = _progress(int(response.headers.get("Content-Length") or 0) or None, spec.name, progress)
            try:
                while chunk := response.read(CHUNK):
                    if not first:
                        first = chunk[:64].lstrip().lower()
                        if first.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
                            raise DataError(f"{url} sent an HTML page, not the data file")
                    out.write(chunk)
                    md5.update(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        if spec.size is not None and size != spec.size:
            raise DataError(f"{url} sent {size} bytes, expected {spec.size}")
        if spec.sha256 and sha.hexdigest() != spec.sha256:
            raise DataError(f"{url}: checksum mismatch — expected sha256 {spec.sha256}, got {sha.hexdigest()}")
        if spec.md5 and md5.hexdigest() != spec.md5:
            raise DataError(f"{url}: checksum mismatch — expected md5 {spec.md5}, got {md5.hexdigest()}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def download(spec: DatasetFiles, dest: Path, timeout: float = 30.0, progress: bool = True, log=print) -> Path:
    """Fetch every file of ``spec`` missing from ``dest``, trying each mirror in turn."""
    dest.mkdir(parents=True, exist_ok=True)
    for file in spec.files:
        if (dest / file.name).is_file():
            continue
        failures = []
        for mirror in spec.mirrors:
            url = mirror.rstrip("/") + "/" + file.name
            try:
                fetch_file(url, file, dest, timeout, progress)
                if log is not None:
                    log(f"downloaded {file.name} from {url}")
                break
            except (urllib.error.URLError, TimeoutError, OSError, DataError) as exc:
                failures.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
        else:
            tried = "\n  ".join(failures) or "(no mirrors are known for this data set)"
            raise DataError(f"could not download {file.name}; tried:\n  {tried}\n" + missing_files_message(spec))
    return dest
