"""The ``nablab`` command. Each sub-command lives in its own module with ``add_parser(sub)`` and ``run(args)``.

:func:`main` is the error boundary (:mod:`nablab.cli.errors`): an error becomes one line
``nablab: error: …`` and exit status 2 (usage) or 1 (failure); ``--debug`` or ``NABLAB_DEBUG=1``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib

#: sub-command modules, in the order ``nablab --help`` lists them
COMMANDS = ("train", "report", "reproduce", "sweep", "export", "predict", "generate", "data", "gradcheck", "bench")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from .errors import Parser

    parser = Parser(prog="nablab", description="nablab: deep learning from scratch on NumPy")
    parser.add_argument("--version", action="version", version=f"nablab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (also NABLAB_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run ``nablab`` with ``argv`` (default: the command line); returns the exit status of a success and
    raises SystemExit (its ``code`` the status, its text the line printed) on an error."""
    import sys

    from .errors import debug_requested, guarded

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    argv = [a for a in argv if a != "--debug"]  # accepted anywhere, e.g. `nablab train --debug`
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args) if debug else guarded(args.func, args)
