"""``nablab reproduce``: run an experiment that reproduces a course report's table."""

from __future__ import annotations

from .data import existing_folder


def add_parser(sub) -> None:
    repro = sub.add_parser("reproduce", help="run an experiment that reproduces a course report's table")
    repro.add_argument("name", nargs="?", metavar="NAME", help="experiment name (see --list) or a path to a TOML file")
    repro.add_argument("--list", action="store_true", help="list the experiments")
    repro.add_argument("--quick", action="store_true", help="a small version (for CI), not comparable")
    repro.add_argument("--variant", action="append", default=[], metavar="LABEL",
                       help="run only the variant(s) whose label starts with LABEL (repeatable)")
    repro.add_argument("--out", default="runs/reproduce", metavar="DIR",
                       help="where the experiment folder goes (default: runs/reproduce)")
    repro.add_argument("--data-dir", type=existing_folder, default=None, metavar="DIR",
                       help="folder holding the data set's files (default: NABLAB_DATA, the cache, system folders, "
                            "then a download)")
    repro.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    repro.set_defaults(func=run)


def run(args) -> int:
    from ..lab import experiments
    from .errors import floating_point_notes

    if args.list or not args.name:
        for name, title in experiments.available().items():
            print(f"{name:24s} {title}")
        return 0
    with floating_point_notes():
        report = experiments.reproduce(args.name, out_root=args.out, quick=args.quick,
                                       log=None if args.quiet else print, variants=args.variant,
                                       data_dir=args.data_dir)
    print(f"report: {report}")
    return 0
