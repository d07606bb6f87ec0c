"""``nablab report``: regenerate the reports of run folders and compare them."""

from __future__ import annotations


def add_parser(sub) -> None:
    report = sub.add_parser("report", help="regenerate report.md of run folders (and compare several)")
    report.add_argument("runs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--output", default=None, metavar="DIR",
                        help="folder for the comparison (default: beside the runs)")
    report.set_defaults(func=run)


def run(args) -> int:
    from ..lab import Run, write_comparison, write_report

    runs = [Run(p) for p in args.runs]
    for run in runs:
        print(f"wrote {write_report(run)}")
    if len(runs) > 1:
        print(f"wrote {write_comparison(runs, args.output or runs[0].path.parent)}")
    return 0
