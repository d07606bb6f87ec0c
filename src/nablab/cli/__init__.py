"""The ``nablab`` command. Each sub-command lives in its own module with ``add_parser(sub)`` and ``run(args)``."""

from __future__ import annotations

import argparse
import importlib

#: sub-command modules, in the order ``nablab --help`` lists them
COMMANDS = ("train", "report", "reproduce", "sweep", "export", "predict", "data", "gradcheck", "bench")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="nablab", description="nablab: deep learning from scratch on NumPy")
    parser.add_argument("--version", action="version", version=f"nablab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)
