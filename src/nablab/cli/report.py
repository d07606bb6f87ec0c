"""``nablab report``: regenerate the reports of run folders and compare them."""

from __future__ import annotations

from pathlib import Path

from .errors import UsageError


def add_parser(sub) -> None:
    report = sub.add_parser("report", help="regenerate report.md of run folders (and compare several)")
    report.add_argument("runs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--output", default=None, metavar="DIR",
                        help="folder for the comparison (default: beside the runs)")
    report.set_defaults(func=run)


def run(args) -> int:
    from ..lab import Run, write_comparison, write_report

    runs = []
    for path in map(Path, args.runs):
        if path.is_dir() and not (path / "config.toml").is_file():  # an older version's failed start, say
            print(f"skipped {path}: not a run folder (no config.toml); it can be deleted")
            continue
        runs.append(Run(path))
    if not runs:
        raise UsageError("none of the folders given is a run folder (each holds a config.toml)")
    for run in runs:
        print(f"wrote {write_report(run)}")
    if len(runs) > 1:
        print(f"wrote {write_comparison(runs, args.output or runs[0].path.parent)}")
    return 0
