"""``nablab reproduce``: run an experiment that reproduces a course report's table."""

from __future__ import annotations


def add_parser(sub) -> None:
    repro = sub.add_parser("reproduce", help="run an experiment that reproduces a course report's table")
    repro.add_argument("name", nargs="?", help="experiment name (see --list) or a path to a TOML file")
    repro.add_argument("--list", action="store_true", help="list the experiments")
    repro.add_argument("--quick", action="store_true", help="a small version (for CI), not comparable")
    repro.add_argument("--variant", action="append", default=[], metavar="LABEL",
                       help="run only the variant(s) whose label starts with LABEL (repeatable)")
    repro.add_argument("--out", default="runs/reproduce", help="where the experiment folder goes")
    repro.add_argument("--quiet", action="store_true")
    repro.set_defaults(func=run)


def run(args) -> int:
    from ..data import DataError
    from ..lab import experiments

    if args.list or not args.name:
        for name, title in experiments.available().items():
            print(f"{name:24s} {title}")
        return 0
    try:
        report = experiments.reproduce(args.name, out_root=args.out, quick=args.quick,
                                       log=None if args.quiet else print, variants=args.variant)
    except (experiments.ExperimentError, DataError) as exc:
        raise SystemExit(f"nablab: {exc}") from None
    print(f"report: {report}")
    return 0
