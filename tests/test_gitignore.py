"""What the commands write by default in a checkout is not offered to git."""

import pathlib
import subprocess

import pytest

from nablab.cli import build_parser

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _output_defaults() -> set[str]:
    """The default output folders of the commands (``--runs-dir``, ``--out``)."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.choices and "train" in a.choices).choices
    found = set()
    for sub in commands.values():
        for action in sub._actions:
            if action.dest in ("runs_dir", "out") and isinstance(action.default, str):
                found.add(pathlib.PurePath(action.default).parts[0])
    return found


def test_every_default_output_folder_is_git_ignored():
    folders = _output_defaults()
    assert {"runs", "sweeps"} <= folders
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for folder in sorted(folders):
        done = subprocess.run(["git", "check-ignore", "-q", f"{folder}/some-run/config.toml"], cwd=ROOT)
        assert done.returncode == 0, f"{folder}/ is not in .gitignore"
