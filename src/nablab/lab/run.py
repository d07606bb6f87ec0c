"""A run is a folder that holds everything about one training run::

    runs/<name>-<timestamp>/
        config.toml        every setting, resolved, with the nablab version and the data checksums
        metrics.jsonl      one JSON object per line: a step ({"kind": "step", …}) or an epoch
        checkpoints/last.safetensors, checkpoints/best.safetensors
        preprocessing.safetensors   the training statistics the inputs were normalised with
        plots/*.png
        report.md
        .lock              held by the process that trains into the folder (see :mod:`nablab.lab.lock`)

Everything a report needs can be regenerated from the folder (``nablab report RUN_DIR``).

A folder is set up under a hidden name and renamed into place only once its ``config.toml`` is
written, so every run folder has one; only the process holding the lock writes into a folder.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from ..atomic import remove_temp_files, write_text
from .inference import run_inference_info, run_model
from .lock import LockHeld, RunLock, is_locked

#: a hidden setup folder older than this (seconds) whose lock no one holds was left by a killed start
_SETUP_GRACE_S = 60.0


class RunError(RuntimeError):
    """A run folder that cannot be used as asked (in use, damaged, finished); the message says what to do."""


def _toml():
    try:
        import tomli_w
    except ImportError:
        raise ImportError("run folders need tomli-w: pip install 'nablab[lab]'") from None
    return tomli_w


def read_toml(path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as fh:
        return tomllib.load(fh)


class Run:
    """A run folder: create one with :meth:`create`, reopen one with ``Run(path)``."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"no run folder at {self.path}")
        self.lock = RunLock(self.path)

    @classmethod
    def create(cls, root="runs", name="run", config: dict | None = None, setup=None) -> Run:
        """A new folder ``root/<name>-<YYYYmmdd-HHMMSS>`` (a counter is appended if it exists), locked.

        It is set up under a hidden name in ``root``: ``config.toml`` first (atomically), then
        what ``setup(run)`` writes; only then is it renamed into place. A start that fails during
        setup removes its folder; one killed during setup leaves only a hidden folder, which the
        next ``create`` in ``root`` removes. The returned run holds its lock (:meth:`release` it).
        """
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_setups(root)
        staging = root / f".{safe}-{stamp}.{secrets.token_hex(4)}.setup"
        staging.mkdir()  # the usual permissions (the umask's), which the run folder keeps
        lock = RunLock(staging)
        try:
            lock.acquire()
            (staging / "checkpoints").mkdir()
            (staging / "plots").mkdir()
            staged = cls(staging)
            staged.lock = lock
            if config is not None:
                staged.write_config(config)
            if setup is not None:
                setup(staged)
            path = _rename_into_place(staging, root, f"{safe}-{stamp}")
        except BaseException:
            lock.release()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        lock.moved_to(path)
        run = cls(path)
        run.lock = lock
        return run

    # ----------------------------------------------------------------- the one writer
    def acquire(self) -> Run:
        """Take the folder's lock (:class:`RunError` naming the holder's process id if a live one has it)."""
        try:
            self.lock.acquire()
        except LockHeld as exc:
            holder = f"process {exc.pid}" if exc.pid is not None else "another process"
            raise RunError(f"{self.path} is in use by {holder}, which is training into it; wait for it to end "
                           f"or stop it (two writers would corrupt metrics.jsonl and the checkpoints)") from None
        return self

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> Run:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def remove_temp_files(self) -> list[Path]:
        """Delete the temporary files that a killed writer left (``.best.safetensors.XXXX.tmp.safetensors``, …)."""
        if not self.lock.held:
            raise RunError(f"remove_temp_files() of {self.path} needs its lock (acquire() it first)")
        return remove_temp_files(self.path)

    # ----------------------------------------------------------------- files
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.safetensors"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.safetensors"

    @property
    def plots_dir(self) -> Path:
        return self.path / "plots"

    @property
    def report_path(self) -> Path:
        return self.path / "report.md"

    # ----------------------------------------------------------------- model
    def load_model(self, checkpoint=None, cast: bool = False):
        """The run's model with its best-validation weights (else the last), or ``checkpoint``'s
        (see :func:`nablab.lab.inference.run_model`)."""
        return run_model(self, checkpoint=checkpoint, cast=cast)

    def inference_info(self) -> dict:
        """What classifying raw images with the run's model needs (:func:`nablab.lab.inference.run_inference_info`)."""
        return run_inference_info(self)

    # ----------------------------------------------------------------- config
    def write_config(self, config: dict) -> None:
        write_text(self.config_path, _toml().dumps(_drop_none(config)))

    def read_config(self) -> dict:
        if not self.config_path.is_file():
            raise FileNotFoundError(f"{self.path} has no config.toml, so it is not a run folder (an empty folder is "
                                    "what a start that failed was leaving in earlier versions): delete it")
        return read_toml(self.config_path)

    def final_record(self) -> dict | None:
        """The ``final`` record of a finished (or diverged) run; None while it is unfinished."""
        return next((r for r in reversed(self.read_metrics()) if r.get("kind") == "final"), None)

    # ----------------------------------------------------------------- metrics
    def log(self, records: list[dict]) -> None:
        """Append records to metrics.jsonl and flush them to disk."""
        if not records:
            return
        with open(self.metrics_path, "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in records))
            fh.flush()
            os.fsync(fh.fileno())

    def read_metrics(self) -> list[dict]:
        """Every complete record (a line cut short by a kill is ignored)."""
        if not self.metrics_path.is_file():
            return []
        records = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, step: int) -> list[dict]:
        """Keep only the records up to global step ``step`` (a resumed run logs the rest again).

        A ``final`` record goes too: a run that continues is not finished.
        """
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= step and r.get("kind") != "final"]
        write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))
        return kept


def _rename_into_place(staging: Path, root: Path, base: str) -> Path:
    """Rename the set-up folder to ``root/base`` (or ``base-1``, ``base-2``, … if taken); returns the new path."""
    for i in range(1000):
        path = root / (base + (f"-{i}" if i else ""))
        if path.exists():
            continue
        try:
            os.rename(staging, path)  # fails if another start took the name meanwhile: its folder is not empty
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        return path
    raise FileExistsError(f"could not create a new run folder {base} in {root}")  # pragma: no cover


def _remove_abandoned_setups(root: Path) -> None:
    """Remove the hidden setup folders of starts that were killed (unlocked: their process is gone)."""
    for folder in root.glob(".*.setup"):
        # old first: a start that is just making its folder has not taken the lock yet
        if folder.is_dir() and time.time() - folder.stat().st_mtime > _SETUP_GRACE_S and not is_locked(folder):
            shutil.rmtree(folder, ignore_errors=True)


def _drop_none(value):
    """TOML has no null: settings that are None are left out (and read back as their defaults)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value
