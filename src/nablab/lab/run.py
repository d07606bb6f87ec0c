"""A run is a folder that holds everything about one training run::

    runs/<name>-<timestamp>/
        config.toml        every setting, resolved, with the nablab version and the data checksums
        metrics.jsonl      one JSON object per line: a step ({"kind": "step", …}) or an epoch
        checkpoints/last.safetensors, checkpoints/best.safetensors
        preprocessing.safetensors   the training statistics the inputs were normalised with
        plots/*.png
        report.md

Everything a report needs can be regenerated from the folder (``nablab report RUN_DIR``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from pathlib import Path

from ..atomic import write_text


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

    @classmethod
    def create(cls, root="runs", name="run") -> Run:
        """A new folder ``root/<name>-<YYYYmmdd-HHMMSS>`` (a counter is appended if it exists)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        for i in range(1000):
            path = root / (f"{safe}-{stamp}" + (f"-{i}" if i else ""))
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - a thousand runs in one second
            raise FileExistsError(f"could not create a new run folder in {root}")
        (path / "checkpoints").mkdir()
        (path / "plots").mkdir()
        return cls(path)

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

    # ----------------------------------------------------------------- config
    def write_config(self, config: dict) -> None:
        write_text(self.config_path, _toml().dumps(_drop_none(config)))

    def read_config(self) -> dict:
        if not self.config_path.is_file():
            raise FileNotFoundError(f"{self.path} has no config.toml: is it a run folder?")
        return read_toml(self.config_path)

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
        """Keep only the records up to global step ``step`` (a resumed run logs the rest again)."""
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= step]
        write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))
        return kept


def _drop_none(value):
    """TOML has no null: settings that are None are left out (and read back as their defaults)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value
